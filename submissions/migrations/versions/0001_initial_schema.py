"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-24 18:11:58.703666
"""
from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table('tracks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('version', sa.String(length=50), nullable=False),
    sa.Column('public_path', sa.Text(), nullable=False),
    sa.Column('simulated', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name', 'version', name='uq_track_name_version')
    )
    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=100), nullable=False),
    sa.Column('display_name', sa.String(length=200), nullable=False),
    sa.Column('password_hash', sa.String(length=300), nullable=True),
    sa.Column('is_admin', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('username')
    )
    op.create_table('workers',
    sa.Column('worker_id', sa.String(length=200), nullable=False),
    sa.Column('hostname', sa.String(length=200), nullable=False),
    sa.Column('pid', sa.Integer(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_heartbeat', sa.DateTime(timezone=True), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('current_submission_id', sa.Integer(), nullable=True),
    sa.Column('jobs_done', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('worker_id')
    )
    op.create_table('quota_usage',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('track_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('used', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['track_id'], ['tracks.id'], ),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('user_id', 'track_id', 'day')
    )
    op.create_table('submissions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('track_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('split', sa.String(length=10), nullable=False),
    sa.Column('router_name', sa.String(length=200), nullable=False),
    sa.Column('team', sa.String(length=200), nullable=False),
    sa.Column('router_type', sa.String(length=30), nullable=False),
    sa.Column('paper_url', sa.Text(), nullable=False),
    sa.Column('code_url', sa.Text(), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('uses_images', sa.Boolean(), nullable=False),
    sa.Column('file_sha256', sa.String(length=64), nullable=True),
    sa.Column('file_format', sa.String(length=20), nullable=False),
    sa.Column('file_gzip', sa.Boolean(), nullable=False),
    sa.Column('file_size', sa.Integer(), nullable=False),
    sa.Column('dedup_key', sa.String(length=64), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('problems', sa.JSON(), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('visibility', sa.String(length=20), nullable=False),
    sa.Column('lease_owner', sa.String(length=200), nullable=True),
    sa.Column('lease_expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('n_points', sa.Integer(), nullable=False),
    sa.Column('best_point', sa.String(length=200), nullable=True),
    sa.Column('nauc', sa.Float(), nullable=True),
    sa.Column('ps', sa.Float(), nullable=True),
    sa.Column('qnc', sa.Float(), nullable=True),
    sa.Column('gap_closed', sa.Float(), nullable=True),
    sa.Column('report', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], ),
    sa.ForeignKeyConstraint(['track_id'], ['tracks.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('owner_id', 'track_id', 'dedup_key', name='uq_submission_dedup')
    )
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.create_index('ix_submissions_owner', ['owner_id', 'track_id'], unique=False)
        batch_op.create_index('ix_submissions_queue', ['status', 'created_at'], unique=False)

    op.create_table('result_points',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('submission_id', sa.Integer(), nullable=False),
    sa.Column('point', sa.String(length=200), nullable=False),
    sa.Column('point_order', sa.Integer(), nullable=False),
    sa.Column('accuracy', sa.Float(), nullable=False),
    sa.Column('cost', sa.Float(), nullable=False),
    sa.Column('total_cost', sa.Float(), nullable=False),
    sa.Column('rank_score', sa.Float(), nullable=False),
    sa.Column('accuracy_lo', sa.Float(), nullable=True),
    sa.Column('accuracy_hi', sa.Float(), nullable=True),
    sa.Column('cost_lo', sa.Float(), nullable=True),
    sa.Column('cost_hi', sa.Float(), nullable=True),
    sa.Column('rank_score_lo', sa.Float(), nullable=True),
    sa.Column('rank_score_hi', sa.Float(), nullable=True),
    sa.Column('delta_accuracy', sa.Float(), nullable=True),
    sa.Column('p_accuracy', sa.Float(), nullable=True),
    sa.Column('delta_rank_score', sa.Float(), nullable=True),
    sa.Column('p_rank_score', sa.Float(), nullable=True),
    sa.ForeignKeyConstraint(['submission_id'], ['submissions.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('submission_id', 'point', name='uq_result_point')
    )
    with op.batch_alter_table('result_points', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_result_points_submission_id'), ['submission_id'], unique=False)

    op.create_table('breakdowns',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('result_point_id', sa.Integer(), nullable=False),
    sa.Column('level', sa.String(length=10), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('accuracy', sa.Float(), nullable=True),
    sa.Column('cost', sa.Float(), nullable=True),
    sa.Column('rank_score', sa.Float(), nullable=True),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['result_point_id'], ['result_points.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('result_point_id', 'level', 'name', name='uq_breakdown')
    )
    with op.batch_alter_table('breakdowns', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_breakdowns_result_point_id'), ['result_point_id'], unique=False)




def downgrade() -> None:

    with op.batch_alter_table('breakdowns', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_breakdowns_result_point_id'))

    op.drop_table('breakdowns')
    with op.batch_alter_table('result_points', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_result_points_submission_id'))

    op.drop_table('result_points')
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.drop_index('ix_submissions_queue')
        batch_op.drop_index('ix_submissions_owner')

    op.drop_table('submissions')
    op.drop_table('quota_usage')
    op.drop_table('workers')
    op.drop_table('users')
    op.drop_table('tracks')

