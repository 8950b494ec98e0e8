"""The database queue and the service API on SQLite and on PostgreSQL: the full path, leases,
re-claims, quotas, duplicates, withdrawal, visibility and admin actions."""

from datetime import timedelta

import pandas as pd
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, select, update

from conftest import make_settings
from submissions import queue as jobs
from submissions.models import Base, PrivatePoint, ResultPoint, Submission
from submissions.service import ServiceError, SubmissionMeta, SubmissionService
from submissions.worker import Worker


def test_migrations_create_exactly_the_models_schema(db_url, tmp_path):
    svc = SubmissionService(make_settings(db_url, tmp_path), tracks=[])
    with svc.engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diffs == []
    SubmissionService(make_settings(db_url, tmp_path), tracks=[])  # a second start migrates nothing, breaks nothing


def preds(bundle, model="gpt-4o", split="test", seed=None):
    ids = bundle.samples.loc[bundle.samples.split == split, "sample_id"]
    frame = pd.DataFrame({"sample_id": ids, "model_id": model})
    if seed is not None:  # distinct files for distinct submissions
        frame["model_id"] = [bundle.model_ids[(i * 7 + seed) % 17] for i in range(len(frame))]
    return frame.to_csv(index=False).encode()


@pytest.fixture()
def service(db_url, tmp_path, sim_bundle):
    return SubmissionService(make_settings(db_url, tmp_path, admins=frozenset({"admin"})))


def test_full_path_submit_worker_done(service, sim_sources, sim_bundle):
    track = service.default_track
    res = service.submit("alice", track, "gpt4o.csv", preds(sim_bundle), SubmissionMeta("GPT-4o everywhere", team="A"))
    assert res.accepted and res.queue_position == 1 and res.quota_left == 4
    assert service.status(res.submission_id, "alice").status == "PENDING"
    worker = Worker(service.settings, sim_sources)
    assert worker.run(stop_when_idle=True) == 1
    view = service.status(res.submission_id, "alice")
    assert view.status == "DONE" and view.attempts == 1 and view.queue_position is None
    (point,) = view.points
    # Shown: the public part only, at the Ladder's precision (0.1 accuracy points, 3 significant
    # digits of cost); the private part's exact score is stored, shown nowhere.
    public, private = sim_bundle.split_rows("test:public"), sim_bundle.split_rows("test:private")
    j = sim_bundle.model_ids.index("GPT-4o")
    assert point["accuracy"] == pytest.approx(round(sim_bundle.quality[public, j].mean(), 3), abs=1e-12)
    assert point["cost"] == pytest.approx(float(f"{sim_bundle.cost[public, j].mean():.3g}"), rel=1e-12)
    with service.factory() as s:
        (priv,) = s.execute(select(PrivatePoint).where(PrivatePoint.submission_id == res.submission_id)).scalars()
    assert priv.accuracy == pytest.approx(sim_bundle.quality[private, j].mean(), abs=1e-12)
    assert set(point["per_family"]) == {"General", "STEM", "Charts & OCR/Document"}
    (listed,) = service.list_mine("alice")  # list views carry the headline numbers without the breakdowns
    assert (listed.accuracy, listed.rank_score) == (point["accuracy"], point["rank_score"]) and listed.points == []
    rows = service.leaderboard_rows(track)
    names = [r["router"] for r in rows]
    assert "GPT-4o everywhere" in names and "Oracle" in names and "StrongestPerDataset" in names
    ref = next(r for r in rows if r["router"] == "GPT-4o")  # the single-model reference entry, exact
    mine = next(r for r in rows if r["router"] == "GPT-4o everywhere")
    assert ref["accuracy"] == pytest.approx(sim_bundle.quality[public, j].mean(), abs=1e-12)
    assert mine["accuracy"] == pytest.approx(round(ref["accuracy"], 3), abs=1e-12)
    assert rows[0]["router"] in ("Oracle", "Oracle curve")
    assert any(w["jobs_done"] == 1 for w in service.workers())


def test_claim_is_exclusive_and_expired_leases_are_reclaimed(service, sim_bundle):
    track = service.default_track
    a = service.submit("alice", track, "a.csv", preds(sim_bundle, seed=1), SubmissionMeta("a")).submission_id
    b = service.submit("alice", track, "b.csv", preds(sim_bundle, seed=2), SubmissionMeta("b")).submission_id
    f = service.factory
    j1 = jobs.claim(f, "w1", lease_seconds=30, max_attempts=3)
    j2 = jobs.claim(f, "w2", lease_seconds=30, max_attempts=3)
    assert {j1.submission_id, j2.submission_id} == {a, b}
    assert jobs.claim(f, "w3", lease_seconds=30, max_attempts=3) is None
    # w1 dies: its lease runs out, w3 takes the job over; w1 can no longer complete it.
    with f.begin() as s:
        s.execute(update(Submission).where(Submission.id == j1.submission_id)
                  .values(lease_expires_at=jobs.utcnow() - timedelta(seconds=1)))
    j3 = jobs.claim(f, "w3", lease_seconds=30, max_attempts=3)
    assert j3.submission_id == j1.submission_id and j3.attempts == 2
    report = {"points": [{"point": "default", "accuracy": 0.5, "cost": 0.001, "total_cost": 1.0, "rank_score": 0.4}]}
    assert not jobs.renew(f, j1.submission_id, "w1", 30)
    assert not jobs.complete(f, j1.submission_id, "w1", report)
    assert jobs.complete(f, j3.submission_id, "w3", report)
    assert not jobs.complete(f, j3.submission_id, "w3", report)  # once only
    with f() as s:
        assert s.execute(select(func.count()).select_from(ResultPoint)
                         .where(ResultPoint.submission_id == j1.submission_id)).scalar_one() == 1


def test_a_job_that_keeps_killing_workers_fails_with_a_message(service, sim_bundle):
    sid = service.submit("alice", service.default_track, "a.csv", preds(sim_bundle, seed=3),
                         SubmissionMeta("a")).submission_id
    f = service.factory
    for attempt in range(3):
        job = jobs.claim(f, f"w{attempt}", lease_seconds=30, max_attempts=3)
        assert job.submission_id == sid
        with f.begin() as s:
            s.execute(update(Submission).values(lease_expires_at=jobs.utcnow() - timedelta(seconds=1)))
    assert jobs.claim(f, "w9", lease_seconds=30, max_attempts=3) is None
    view = service.status(sid, "alice")
    assert view.status == "FAILED" and "stopped 3 times" in view.error


def test_quota_duplicates_and_metadata(service, sim_bundle):
    track = service.default_track
    for k in range(5):
        assert service.submit("bob", track, f"{k}.csv", preds(sim_bundle, seed=k), SubmissionMeta("r")).accepted
    over = service.submit("bob", track, "5.csv", preds(sim_bundle, seed=5), SubmissionMeta("r"))
    assert not over.accepted and "daily quota" in over.message and over.submission_id is None
    dup = service.submit("bob", track, "again.csv", preds(sim_bundle, seed=0), SubmissionMeta("r"))
    assert dup.duplicate_of is not None and f"#{dup.duplicate_of}" in dup.message
    assert service.submit("carol", track, "0.csv", preds(sim_bundle, seed=0), SubmissionMeta("r")).accepted
    bad = service.submit("carol", track, "x.csv", preds(sim_bundle, seed=9),
                         SubmissionMeta("", router_type="magic", paper_url="javascript:alert(1)"))
    assert not bad.accepted and {p["code"] for p in bad.problems} == {"missing_router_name", "bad_router_type",
                                                                       "bad_url"}
    assert len(service.list_mine("carol")) == 1 and service.quota_left("bob", track) == 0


def test_visibility_withdraw_and_admin(service, sim_bundle):
    track = service.default_track
    sid = service.submit("alice", track, "p.csv", preds(sim_bundle, seed=4),
                         SubmissionMeta("secret", visibility="private")).submission_id
    assert service.status(sid, "alice").router_name == "secret"
    for viewer in ("mallory", None):
        with pytest.raises(ServiceError):
            service.status(sid, viewer)
    with pytest.raises(ServiceError):
        service.withdraw("mallory", sid)
    assert service.status(sid, "alice").status == "PENDING"
    assert service.status(sid, "admin").router_name == "secret"  # admins see everything
    with pytest.raises(ServiceError):
        service.hide("alice", sid)
    assert service.hide("admin", sid).visibility == "hidden"
    assert service.withdraw("alice", sid).status == "WITHDRAWN"
    assert jobs.claim(service.factory, "w", lease_seconds=30, max_attempts=3) is None
    again = service.submit("alice", track, "p.csv", preds(sim_bundle, seed=4), SubmissionMeta("secret v2"))
    assert again.accepted  # a withdrawn file may be sent again
    assert service.rerun("admin", again.submission_id).status == "PENDING"


def test_a_job_no_worker_takes_fails_after_the_pending_timeout(db_url, tmp_path, sim_bundle):
    service = SubmissionService(make_settings(db_url, tmp_path, pending_timeout_seconds=3600))
    sid = service.submit("alice", service.default_track, "p.csv", preds(sim_bundle, seed=11),
                         SubmissionMeta("lonely")).submission_id
    assert service.status(sid, "alice").status == "PENDING"
    with service.factory.begin() as s:
        s.execute(update(Submission).where(Submission.id == sid)
                  .values(queued_at=jobs.utcnow() - timedelta(hours=2)))
    view = service.list_mine("alice")[0]
    assert view.status == "FAILED" and "no evaluation worker picked this submission up within 1 h" in view.error
