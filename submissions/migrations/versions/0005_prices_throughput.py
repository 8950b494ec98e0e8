"""prices and throughput: token sums per shown point, a pricing basis per track, a router's throughput

Entries scored before this revision have no token sums: a re-priced board leaves them out (and says
how many) until an admin re-runs them; every entry scored afterwards carries them.

Revision ID: 0005
Revises: 0004
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('tracks') as batch:
        batch.add_column(sa.Column('pricing', sa.JSON(), nullable=True))
    with op.batch_alter_table('result_points') as batch:
        batch.add_column(sa.Column('tokens', sa.LargeBinary(), nullable=True))
    with op.batch_alter_table('submissions') as batch:
        batch.add_column(sa.Column('throughput', sa.Float(), nullable=True))
        batch.add_column(sa.Column('throughput_hardware', sa.String(length=200), nullable=False, server_default=''))
        batch.add_column(sa.Column('throughput_source', sa.String(length=20), nullable=False, server_default=''))


def downgrade() -> None:
    with op.batch_alter_table('submissions') as batch:
        batch.drop_column('throughput_source')
        batch.drop_column('throughput_hardware')
        batch.drop_column('throughput')
    with op.batch_alter_table('result_points') as batch:
        batch.drop_column('tokens')
    with op.batch_alter_table('tracks') as batch:
        batch.drop_column('pricing')
