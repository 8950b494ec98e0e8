"""Workers against a real PostgreSQL that misbehaves: text the database cannot store never reaches a
worker, an error on one job fails that job only, and terminated backends (a restart, a failover)
do not stop the queue."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import func, select

from conftest import make_settings
from pgschema import PG_BASE, _dsn
from submissions import queue as jobs
from submissions.models import ResultPoint, Submission
from submissions.service import SubmissionMeta, SubmissionService
from submissions.worker import Worker
from test_workers import routing_file, start_worker, wait_for, worker_env


def test_text_the_database_cannot_store_is_refused_at_the_door(pg_url, tmp_path, sim_bundle, sim_sources):
    service = SubmissionService(make_settings(pg_url, tmp_path))
    track = service.default_track
    long_label = routing_file(sim_bundle, 1, ["x" * 250])
    res = service.submit("alice", track, "long.csv", long_label, SubmissionMeta("long label"))
    assert not res.accepted and res.problems[0]["code"] == "bad_point_label"
    nul_label = routing_file(sim_bundle, 2, ["a\x00b"])
    res = service.submit("alice", track, "nul.csv", nul_label, SubmissionMeta("nul label"))
    assert not res.accepted and "bad_point_label" in {p["code"] for p in res.problems}
    assert "\\x00" in str(res.problems[0]["examples"])  # stored escaped, not as a NUL byte
    before = service.list_mine("alice")
    res = service.submit("alice", track, "ok.csv", routing_file(sim_bundle, 3), SubmissionMeta("evil\x00name"))
    assert not res.accepted and res.problems[0]["code"] == "control_characters" and "NUL" in res.message
    assert len(service.list_mine("alice")) == len(before)  # a bad form stores nothing
    # the two refused files are stored as FAILED (with their problems); no worker ever sees them
    assert Worker(service.settings, sim_sources).run(stop_when_idle=True) == 0


def test_an_error_on_one_job_fails_that_job_and_the_worker_goes_on(pg_url, tmp_path, sim_bundle, sim_sources,
                                                                    monkeypatch):
    service = SubmissionService(make_settings(pg_url, tmp_path))
    track = service.default_track
    first = service.submit("alice", track, "a.csv", routing_file(sim_bundle, 4), SubmissionMeta("a")).submission_id
    second = service.submit("bob", track, "b.csv", routing_file(sim_bundle, 5), SubmissionMeta("b")).submission_id
    real = jobs.add_results

    def broken(session, submission_id, report, private=None, tokens=None):
        if submission_id == first:
            raise ValueError("value out of range for the column")  # what a DataError would say
        return real(session, submission_id, report, private, tokens)

    monkeypatch.setattr(jobs, "add_results", broken)
    Worker(service.settings, sim_sources).run(stop_when_idle=True)
    a, b = service.status(first, "alice"), service.status(second, "bob")
    assert a.status == "FAILED" and "error on our side" in a.error and a.attempts == 1
    assert b.status == "DONE"


def _terminate(app: str) -> int:
    with psycopg.connect(_dsn(PG_BASE), autocommit=True) as conn:
        rows = conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s",
                            (app,)).fetchall()
    return len(rows)


def test_workers_survive_terminated_database_backends(pg_url, tmp_path, sim_bundle, sim_sources):
    """As a failover does: every backend of the workers is terminated, again and again (every 0.3 s),
    while they claim, score and write. No worker exits, every job ends DONE exactly once."""
    settings = make_settings(pg_url, tmp_path, daily_quota=100, lease_seconds=20)
    service = SubmissionService(settings)
    track = service.default_track
    n = 24
    sids = [service.submit(f"user{k}", track, f"f{k}.csv", routing_file(sim_bundle, 100 + k, [str(p) for p in range(40)]),
                           SubmissionMeta(f"r{k}")).submission_id for k in range(n)]
    app = f"rb-test-{uuid.uuid4().hex[:8]}"
    env = {**worker_env(settings), "ROUTERBOARD_DB_APPLICATION_NAME": app}
    src = sim_sources[0]
    workers = [subprocess.Popen([sys.executable, "-m", "leaderboard.cli", "worker", "--track", src.public_path,
                                 "--hidden", src.hidden_path, "--poll", "0.05"], env=env, start_new_session=True,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]

    def finished() -> int:
        with service.factory() as s:
            return s.execute(select(func.count()).select_from(Submission).where(
                Submission.id.in_(sids), Submission.status.in_(["DONE", "FAILED"]))).scalar_one()

    try:
        wait_for(lambda: any(s.status == "RUNNING" for s in service.list_mine("user0") + service.list_mine("user1"))
                 or finished() > 0, 180, "the workers to start working")
        killed = rounds = 0
        end = time.monotonic() + 240
        while finished() < n and time.monotonic() < end:
            killed += _terminate(app)
            rounds += 1
            time.sleep(0.3)
            assert all(w.poll() is None for w in workers), [w.communicate(timeout=5) for w in workers]
        assert finished() == n, f"{finished()} of {n} finished"
        assert killed >= 3 and rounds >= 3, (killed, rounds)
        assert all(w.poll() is None for w in workers)  # still alive after it all
    finally:
        for w in workers:
            w.send_signal(signal.SIGTERM)
        outs = [w.communicate(timeout=60) for w in workers]
    with service.factory() as s:
        assert dict(s.execute(select(Submission.status, func.count()).where(Submission.id.in_(sids))
                              .group_by(Submission.status)).all()) == {"DONE": n}
        per_job = s.execute(select(ResultPoint.submission_id, func.count()).where(ResultPoint.submission_id.in_(sids))
                            .group_by(ResultPoint.submission_id)).all()
        assert sorted(c for _, c in per_job) == [40] * n  # each job's results written once
    logs = "".join(o[1] for o in outs)
    assert "retrying" in logs, logs[-2000:]


def test_a_stopping_worker_hands_its_job_back_at_once(tmp_path, sim_bundle, sim_sources):
    settings = make_settings(f"sqlite:///{tmp_path / 'db.sqlite'}", tmp_path, lease_seconds=600, daily_quota=10)
    service = SubmissionService(settings)
    sids = [service.submit(f"u{k}", service.default_track, "big.csv",
                           routing_file(sim_bundle, 7 + k, [str(p) for p in range(100)]), SubmissionMeta("big")
                           ).submission_id for k in range(3)]
    statuses = lambda: {sid: service.status(sid, f"u{k}") for k, sid in enumerate(sids)}  # noqa: E731
    worker = start_worker(settings, sim_sources)
    try:
        wait_for(lambda: any(v.status == "RUNNING" for v in statuses().values()), 120, "the worker to take a job")
        stopped_at = time.monotonic()
        worker.send_signal(signal.SIGTERM)
        out, err = worker.communicate(timeout=30)
    finally:
        if worker.poll() is None:
            worker.kill()
    assert worker.returncode == 0, err[-2000:]
    assert time.monotonic() - stopped_at < 30
    views = statuses()
    # the job being scored is back in the queue at once (not after its 600 s lease), the interrupted
    # attempt not counted; none is left RUNNING
    assert {v.status for v in views.values()} <= {"PENDING", "DONE"}, {k: v.status for k, v in views.items()}
    handed = [v for v in views.values() if v.status == "PENDING" and v.attempts == 0]
    assert len(handed) == sum(v.status == "PENDING" for v in views.values()) >= 1
    assert "handed back to the queue" in err
    Worker(settings, sim_sources).run(stop_when_idle=True)
    assert all((v.status, v.attempts) == ("DONE", 1) for v in statuses().values())


def test_stopping_the_app_stops_its_worker(tmp_path):
    from app_server import free_port

    db = tmp_path / "app.db"
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{db}", "ROUTERBOARD_STORE_DIR": str(tmp_path / "store"),
           "ROUTERBOARD_HEARTBEAT_SECONDS": "1", "ROUTERBOARD_PORT": str(free_port()),
           "GRADIO_ANALYTICS_ENABLED": "False", "ROUTERBOARD_TRAIN_STARTERS": "0"}
    app = subprocess.Popen([sys.executable, "app.py"], env=env, cwd=Path(__file__).resolve().parents[1],
                           start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        def worker_pid():
            if not db.exists():
                return None
            with sqlite3.connect(db) as conn:
                try:
                    row = conn.execute("SELECT pid FROM workers WHERE state != 'stopped'").fetchone()
                except sqlite3.OperationalError:
                    return None
            return row[0] if row else None

        pid = wait_for(worker_pid, 180, "the app's worker to beat")
        app.send_signal(signal.SIGTERM)  # the app only, not its process group
        app.wait(timeout=60)
        wait_for(lambda: not _alive(pid), 30, "the app's worker to stop with it")
        with sqlite3.connect(db) as conn:
            assert conn.execute("SELECT state FROM workers WHERE pid = ?", (pid,)).fetchone()[0] == "stopped"
    finally:
        if app.poll() is None:
            os.killpg(app.pid, signal.SIGKILL)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie (exited, not yet reaped by its parent) is not alive
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


def test_failed_uploads_keep_their_problems_not_their_bytes(db_url, tmp_path, sim_bundle):
    settings = make_settings(db_url, tmp_path, daily_failed=3)
    service = SubmissionService(settings)
    track = service.default_track
    junk = [f"sample_id,model_id\nnope-{k},GPT-4o\n".encode() for k in range(5)]
    for k in range(3):
        res = service.submit("mallory", track, f"junk{k}.csv", junk[k], SubmissionMeta("junk"))
        assert not res.accepted and res.submission_id and res.problems[0]["code"] in ("unknown_sample_id",
                                                                                      "missing_sample_id")
    stored = [p for p in (tmp_path / "store").rglob("*") if p.is_file()]
    assert stored == []  # nothing of the junk on disk
    views = service.list_mine("mallory")
    assert len(views) == 3 and all(v.status == "FAILED" and v.problems for v in views)
    res = service.submit("mallory", track, "junk3.csv", junk[3], SubmissionMeta("junk"))
    assert not res.accepted and res.submission_id is None and "failed validation, the daily limit" in res.message
    assert res.problems  # still told what is wrong with the file
    assert len(service.list_mine("mallory")) == 3  # the fourth is not recorded
    ok = service.submit("mallory", track, "good.csv", routing_file(sim_bundle, 9), SubmissionMeta("good"))
    assert ok.accepted  # the failed-file limit does not touch the quota of valid files
    assert len([p for p in (tmp_path / "store").rglob("*") if p.is_file()]) == 1
    assert service.submit("eve", track, "junk.csv", junk[4], SubmissionMeta("junk")).submission_id  # per user


def test_the_upload_cap_applies_at_the_door(tmp_path):
    """Gradio's own upload (before any project code) refuses a file over ROUTERBOARD_MAX_UPLOAD_MB."""
    from gradio_client import Client, handle_file

    from app_server import running_app

    big = tmp_path / "big.csv"
    big.write_bytes(b"sample_id,model_id\n" + b"x,GPT-4o\n" * 250_000)  # 2.25 MB
    small = tmp_path / "small.csv"
    small.write_bytes(b"sample_id,model_id\nx,GPT-4o\n")
    with running_app(tmp_path, {"ROUTERBOARD_MAX_UPLOAD_MB": "1"}) as url:
        client = Client(url, verbose=False)
        with pytest.raises(Exception, match="(?i)size|large|exceed"):
            client.predict("vlrb-sim@1.0", handle_file(str(big)), api_name="/validate")
        assert "Not valid" in client.predict("vlrb-sim@1.0", handle_file(str(small)), api_name="/validate")
        assert not any((tmp_path / "store").rglob("*.csv"))
