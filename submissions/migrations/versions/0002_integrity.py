"""integrity: public/private parts, the Ladder, releases

Scores used to be shown exactly on the whole test split. From this revision the live board shows a
user's points on the public part as the Ladder releases them, and every submission's private-part
scores are kept for releases. Results computed the old way cannot be turned into the new ones
without the hidden data, so the upgrade keeps every submission (ids, owners, files, metadata,
timestamps) and:

* re-queues each DONE user or starter submission (status PENDING, in its original order, no quota
  used) after deleting its old whole-test results, so workers score it again through the Ladder
  (a new ``queued_at`` column says when a job entered the queue; ``created_at`` stays the submission time);
* deletes the old results of withdrawn/hidden submissions (they are not re-scored);
* deletes the reference entries, which every worker scores again (on both parts) when missing.

Revision ID: 0002
Revises: 0001
"""
from datetime import datetime, timezone

from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('submissions') as batch:
        batch.add_column(sa.Column('ladder_key', sa.String(length=300), nullable=True))
        batch.add_column(sa.Column('final_choice', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column('queued_at', sa.DateTime(timezone=True), nullable=True))
        batch.create_index('ix_submissions_ladder', ['track_id', 'ladder_key'])
    with op.batch_alter_table('result_points') as batch:
        batch.add_column(sa.Column('released', sa.Boolean(), nullable=False, server_default=sa.true()))
        for col in ('accuracy', 'cost', 'total_cost', 'rank_score'):
            batch.alter_column(col, existing_type=sa.Float(), nullable=True)
    op.create_table('private_points',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('submission_id', sa.Integer(), nullable=False),
    sa.Column('point', sa.String(length=200), nullable=False),
    sa.Column('point_order', sa.Integer(), nullable=False),
    sa.Column('accuracy', sa.Float(), nullable=False),
    sa.Column('cost', sa.Float(), nullable=False),
    sa.Column('total_cost', sa.Float(), nullable=False),
    sa.Column('rank_score', sa.Float(), nullable=False),
    sa.Column('rank_score_lo', sa.Float(), nullable=True),
    sa.Column('rank_score_hi', sa.Float(), nullable=True),
    sa.Column('per_family', sa.JSON(), nullable=True),
    sa.Column('n', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['submission_id'], ['submissions.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('submission_id', 'point', name='uq_private_point')
    )
    op.create_index('ix_private_points_submission_id', 'private_points', ['submission_id'])
    op.create_table('ladders',
    sa.Column('track_id', sa.Integer(), nullable=False),
    sa.Column('ladder_key', sa.String(length=300), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['track_id'], ['tracks.id']),
    sa.PrimaryKeyConstraint('track_id', 'ladder_key')
    )
    op.create_table('releases',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('track_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('n_entries', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['track_id'], ['tracks.id']),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_releases_track_id', 'releases', ['track_id'])
    op.create_table('release_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('release_id', sa.Integer(), nullable=False),
    sa.Column('submission_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('owner', sa.String(length=100), nullable=False),
    sa.Column('router_name', sa.String(length=200), nullable=False),
    sa.Column('team', sa.String(length=200), nullable=False),
    sa.Column('router_type', sa.String(length=30), nullable=False),
    sa.Column('paper_url', sa.Text(), nullable=False),
    sa.Column('code_url', sa.Text(), nullable=False),
    sa.Column('point', sa.String(length=200), nullable=False),
    sa.Column('accuracy', sa.Float(), nullable=False),
    sa.Column('cost', sa.Float(), nullable=False),
    sa.Column('rank_score', sa.Float(), nullable=False),
    sa.Column('rank_score_lo', sa.Float(), nullable=True),
    sa.Column('rank_score_hi', sa.Float(), nullable=True),
    sa.Column('private_rank', sa.Integer(), nullable=False),
    sa.Column('public_rank', sa.Integer(), nullable=True),
    sa.Column('public_rank_score', sa.Float(), nullable=True),
    sa.Column('points', sa.JSON(), nullable=True),
    sa.Column('per_family', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['release_id'], ['releases.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_release_entries_release_id', 'release_entries', ['release_id'])

    # ---- data: who climbs which Ladder; old whole-test results out; scored again through the Ladder
    op.execute("UPDATE submissions SET ladder_key = 'user:' || (SELECT username FROM users "
               "WHERE users.id = submissions.owner_id) WHERE kind = 'user'")
    op.execute("UPDATE submissions SET ladder_key = 'starter:' || router_name WHERE kind = 'starter'")
    scored = "(SELECT id FROM submissions WHERE kind = 'reference' OR id IN (SELECT submission_id FROM result_points))"
    op.execute("DELETE FROM breakdowns WHERE result_point_id IN (SELECT id FROM result_points WHERE submission_id "
               f"IN {scored})")
    op.execute(f"DELETE FROM result_points WHERE submission_id IN {scored}")
    op.execute("DELETE FROM submissions WHERE kind = 'reference'")
    op.execute("UPDATE submissions SET status = 'PENDING', attempts = 0, lease_owner = NULL, lease_expires_at = NULL, "
               "started_at = NULL, finished_at = NULL, error = NULL, problems = NULL "
               "WHERE status = 'DONE' AND kind IN ('user', 'starter') AND visibility <> 'hidden'")
    op.execute("UPDATE submissions SET best_point = NULL, nauc = NULL, ps = NULL, qnc = NULL, gap_closed = NULL, "
               "report = NULL")
    # The queue orders and times out jobs by when they (re-)entered it; re-queued ones enter now, in
    # their original order (ids increase with submission time).
    # (``now`` bound through SQLAlchemy's DateTime, so SQLite stores it in the same text format as
    # every other timestamp and string comparisons order it right.)
    op.execute("UPDATE submissions SET queued_at = created_at")
    op.get_bind().execute(
        sa.text("UPDATE submissions SET queued_at = :now WHERE status = 'PENDING'")
        .bindparams(sa.bindparam("now", type_=sa.DateTime(timezone=True))),
        {"now": datetime.now(timezone.utc)})
    with op.batch_alter_table('submissions') as batch:
        batch.alter_column('queued_at', existing_type=sa.DateTime(timezone=True), nullable=False)
        batch.drop_index('ix_submissions_queue')
        batch.create_index('ix_submissions_queue', ['status', 'queued_at'])


def downgrade() -> None:
    op.drop_index('ix_release_entries_release_id', table_name='release_entries')
    op.drop_table('release_entries')
    op.drop_index('ix_releases_track_id', table_name='releases')
    op.drop_table('releases')
    op.drop_table('ladders')
    op.drop_index('ix_private_points_submission_id', table_name='private_points')
    op.drop_table('private_points')
    op.execute("DELETE FROM breakdowns WHERE result_point_id IN (SELECT id FROM result_points WHERE NOT released)")
    op.execute("DELETE FROM result_points WHERE NOT released")
    with op.batch_alter_table('result_points') as batch:
        batch.drop_column('released')
    with op.batch_alter_table('submissions') as batch:
        batch.drop_index('ix_submissions_queue')
        batch.create_index('ix_submissions_queue', ['status', 'created_at'])
        batch.drop_index('ix_submissions_ladder')
        batch.drop_column('queued_at')
        batch.drop_column('final_choice')
        batch.drop_column('ladder_key')
