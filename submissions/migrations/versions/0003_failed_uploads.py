"""failed uploads: a per-day counter of files that failed validation

Files that fail validation are recorded (with their problems) but their bytes are no longer kept,
and each user may send at most ``ROUTERBOARD_DAILY_FAILED`` of them per track and UTC day.

Revision ID: 0003
Revises: 0002
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('quota_usage') as batch:
        batch.add_column(sa.Column('failed', sa.Integer(), nullable=False, server_default='0'))


def downgrade() -> None:
    with op.batch_alter_table('quota_usage') as batch:
        batch.drop_column('failed')
