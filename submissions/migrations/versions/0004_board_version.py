"""board version: a counter per track, bumped with every change of what its board shows

Readers (the app, the API) derive the board once per version instead of once per visitor.

Revision ID: 0004
Revises: 0003
"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('tracks') as batch:
        batch.add_column(sa.Column('board_version', sa.Integer(), nullable=False, server_default='0'))


def downgrade() -> None:
    with op.batch_alter_table('tracks') as batch:
        batch.drop_column('board_version')
