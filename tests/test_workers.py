"""Worker processes: concurrency on PostgreSQL, a worker killed mid-job, sandbox limits, and the
web side never opening a track's hidden part."""

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import func, select

from conftest import make_settings
from submissions import queue as jobs
from submissions.models import PrivatePoint, QuotaUsage, ResultPoint, Submission, Worker as WorkerRow
from submissions.service import SubmissionMeta, SubmissionService
from submissions.status import Status
from submissions.worker import Worker


def worker_env(settings):
    return {**os.environ, "DATABASE_URL": settings.database_url, "ROUTERBOARD_STORE_DIR": str(settings.store_dir),
            "ROUTERBOARD_LEASE_SECONDS": str(settings.lease_seconds),
            "ROUTERBOARD_HEARTBEAT_SECONDS": str(settings.heartbeat_seconds)}


def start_worker(settings, sources, *extra):
    src = sources[0]
    return subprocess.Popen([sys.executable, "-m", "leaderboard.cli", "worker", "--track", src.public_path,
                             "--hidden", src.hidden_path, "--poll", "0.05", *extra],
                            env=worker_env(settings), start_new_session=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for(predicate, timeout, what):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = predicate()
        if value:
            return value
        time.sleep(0.01)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def routing_file(bundle, seed, points=None):
    ids = bundle.samples.loc[bundle.samples.split == "test", "sample_id"].to_numpy()
    rng = np.random.default_rng(seed)
    names = np.array(bundle.model_ids, dtype=object)
    if not points:
        return pd.DataFrame({"sample_id": ids, "model_id": names[rng.integers(0, 17, ids.size)]}).to_csv(index=False).encode()
    return pd.DataFrame({"sample_id": np.tile(ids, len(points)), "model_id": names[rng.integers(0, 17, ids.size * len(points))],
                         "point": np.repeat(points, ids.size)}).to_csv(index=False).encode()


def counts(factory):
    with factory() as s:
        by_status = dict(s.execute(select(Submission.status, func.count()).where(Submission.kind == "user")
                                   .group_by(Submission.status)).all())
        return by_status


def test_200_submissions_20_users_2_worker_processes_on_postgresql(pg_url, tmp_path, sim_bundle, sim_sources):
    settings = make_settings(pg_url, tmp_path, daily_quota=10)
    service = SubmissionService(settings)
    track = service.default_track
    files = {(u, k): routing_file(sim_bundle, 1000 * u + k) for u in range(20) for k in range(12)}
    workers = [start_worker(settings, sim_sources) for _ in range(2)]
    try:
        with ThreadPoolExecutor(12) as pool:
            results = list(pool.map(lambda key: (key[0], service.submit(
                f"user{key[0]:02d}", track, f"f{key[1]}.csv", files[key], SubmissionMeta(f"r{key[0]}-{key[1]}"))),
                files))
        accepted = [r for _, r in results if r.accepted]
        assert len(accepted) == 200
        per_user = pd.Series([u for u, r in results if r.accepted]).value_counts()
        assert (per_user == 10).all() and len(per_user) == 20
        refused = [r for _, r in results if not r.accepted]
        assert len(refused) == 40 and all("daily quota" in r.message for r in refused)
        wait_for(lambda: counts(service.factory).get("DONE", 0) + counts(service.factory).get("FAILED", 0) == 200,
                 300, "200 terminal submissions")
    finally:
        for w in workers:
            w.send_signal(signal.SIGTERM)
        outs = [w.communicate(timeout=60) for w in workers]
    assert counts(service.factory) == {"DONE": 200}
    with service.factory() as s:
        assert s.execute(select(func.sum(Submission.attempts)).where(Submission.kind == "user")).scalar_one() == 200
        assert s.execute(select(func.count()).select_from(ResultPoint).join(Submission).where(
            Submission.kind == "user")).scalar_one() == 200
        assert set(s.execute(select(QuotaUsage.used)).scalars()) == {10}
        done_by = [json.loads(o[0].strip().splitlines()[-1])["jobs_done"] for o in outs]
        assert sum(done_by) == 200 and all(d > 0 for d in done_by), done_by  # both worked, none twice


@pytest.mark.parametrize("db", ["sqlite", "postgresql"])
def test_worker_killed_mid_job_is_replaced_after_its_lease(db, tmp_path, sim_bundle, sim_sources, request):
    if db == "sqlite":
        url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    else:
        url = request.getfixturevalue("pg_url")
    settings = make_settings(url, tmp_path, lease_seconds=3)
    service = SubmissionService(settings)
    points = [f"{k}" for k in range(100)]
    res = service.submit("alice", service.default_track, "sweep.csv", routing_file(sim_bundle, 7, points),
                         SubmissionMeta("sweep"))
    assert res.accepted
    sid = res.submission_id

    def running_owner():
        with service.factory() as s:
            sub = s.get(Submission, sid)
            return sub.lease_owner if sub.status == Status.RUNNING.value else None

    first = start_worker(settings, sim_sources)
    owner = wait_for(running_owner, 120, "the first worker to claim the job")
    os.killpg(first.pid, signal.SIGKILL)
    first.wait()
    assert service.status(sid, "alice").status == "RUNNING"  # nobody finished it
    second = start_worker(settings, sim_sources, "--exit-when-idle")
    out, err = second.communicate(timeout=180)
    assert second.returncode == 0, err
    view = service.status(sid, "alice")
    assert view.status == "DONE" and view.attempts == 2, (view.status, view.error)
    assert len(view.points) + len(view.held) == 100 and view.points  # every point judged by the Ladder once
    with service.factory() as s:
        assert s.execute(select(func.count()).select_from(ResultPoint).where(ResultPoint.submission_id == sid)
                         ).scalar_one() == 100
        assert s.execute(select(func.count()).select_from(PrivatePoint).where(PrivatePoint.submission_id == sid)
                         ).scalar_one() == 100
        assert s.get(WorkerRow, owner) is not None


def _enqueue_raw(service, username, data, fmt="csv", gz=False):
    """A job as if it had passed upload checks that are looser than the sandbox (the sandbox must
    hold on its own)."""
    digest = service.store.put(data)
    with service.factory.begin() as s:
        from submissions.db import ensure_user

        user = ensure_user(s, username)
        sub = Submission(owner_id=user.id, track_id=service.track_ids[service.default_track], router_name="raw",
                         file_sha256=digest, file_format=fmt, file_gzip=gz, file_size=len(data),
                         dedup_key=digest, created_at=jobs.utcnow(), status=Status.PENDING.value)
        s.add(sub)
        s.flush()
        return sub.id


def gzip_bomb(size: int) -> bytes:
    """A small gzip file that inflates to ``size`` bytes of CSV, built without holding them."""
    import zlib

    comp = zlib.compressobj(9, zlib.DEFLATED, 31)
    parts = [comp.compress(b"sample_id,model_id\n")]
    block = b"0" * (64 << 20)
    for _ in range(size // len(block)):
        parts.append(comp.compress(block))
    parts.append(comp.flush())
    return b"".join(parts)


def test_sandbox_limits_fail_the_job_and_the_worker_goes_on(tmp_path, sim_bundle, sim_sources):
    settings = make_settings(f"sqlite:///{tmp_path / 'db.sqlite'}", tmp_path,
                             max_decompressed_bytes=16 << 30, sandbox_memory_bytes=2560 << 20)
    service = SubmissionService(settings)
    bomb = gzip_bomb(3 << 30)
    mem_job = _enqueue_raw(service, "eve", bomb, gz=True)
    good = service.submit("alice", service.default_track, "ok.csv", routing_file(sim_bundle, 1), SubmissionMeta("ok"))
    worker = Worker(settings, sim_sources)
    assert worker.run(stop_when_idle=True) == 2
    failed = service.status(mem_job, "eve")
    assert failed.status == "FAILED" and "memory" in failed.error, failed.error
    assert service.status(good.submission_id, "alice").status == "DONE"

    # The same bomb through the front door never reaches a worker: refused at upload, clearly.
    front = SubmissionService(make_settings(settings.database_url, tmp_path))
    r = front.submit("mallory", front.default_track, "bomb.csv.gz", bomb, SubmissionMeta("bomb"))
    assert not r.accepted and r.problems[0]["code"] == "decompressed_too_large"


def test_wall_time_limit(tmp_path, sim_bundle, sim_sources):
    settings = make_settings(f"sqlite:///{tmp_path / 'db.sqlite'}", tmp_path, sandbox_wall_seconds=0.15)
    service = SubmissionService(settings)
    slow = service.submit("alice", service.default_track, "sweep.csv",
                          routing_file(sim_bundle, 3, [str(k) for k in range(100)]), SubmissionMeta("sweep"))
    quick = service.submit("alice", service.default_track, "one.csv", routing_file(sim_bundle, 4), SubmissionMeta("one"))
    # The 100-point sweep (458k rows) takes ~1 s to parse, check and score: far over 0.15 s.
    worker = Worker(settings, sim_sources)
    assert worker.run(stop_when_idle=True) == 2  # the worker went on after killing the slow job
    slow_view = service.status(slow.submission_id, "alice")
    assert slow_view.status == "FAILED" and "longer than 0.15 s" in slow_view.error, slow_view
    quick_view = service.status(quick.submission_id, "alice")  # a fresh sandbox took it (~50 ms of work)
    assert quick_view.status == "DONE" or "longer than" in (quick_view.error or ""), quick_view.error


def test_web_side_never_opens_the_hidden_part(tmp_path, sim_bundle, sim_sources):
    hidden = sim_sources[0].hidden_path
    script = textwrap.dedent(f"""
        import json, sys
        opened = []
        def hook(event, args):
            if event == "open" and args and isinstance(args[0], (str, bytes)):
                opened.append(args[0] if isinstance(args[0], str) else args[0].decode(errors="replace"))
        sys.addaudithook(hook)
        import pandas as pd
        from submissions.config import Settings
        from submissions.service import SubmissionService, SubmissionMeta
        from leaderboard.app import build_app
        from pathlib import Path
        s = Settings(database_url="sqlite:///{tmp_path}/web.db", store_dir=Path("{tmp_path}/store"))
        svc = SubmissionService(s)
        b = svc.bundle(svc.default_track)
        ids = b.samples.loc[b.samples.split == "test", "sample_id"]
        data = pd.DataFrame({{"sample_id": ids, "model_id": "gpt-4o"}}).to_csv(index=False).encode()
        assert svc.validate(svc.default_track, "p.csv", data).ok
        r = svc.submit("alice", svc.default_track, "p.csv", data, SubmissionMeta("x"))
        svc.status(r.submission_id, "alice"); svc.leaderboard_rows(); svc.list_mine("alice")
        build_app(svc)
        print(json.dumps(opened))
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    opened = json.loads(out.stdout.strip().splitlines()[-1])
    assert any("public" in p for p in opened), "the audit hook saw no bundle file at all"
    assert [p for p in opened if os.path.realpath(p).startswith(os.path.realpath(hidden))] == []


def test_cpu_limit_is_armed_per_job_and_reported(tmp_path, sim_bundle, sim_sources):
    """The child's RLIMIT_CPU is re-armed for each job; a job that hits it (SIGXCPU) fails with a
    message that says so, and the next job gets a fresh sandbox."""
    import threading

    from submissions.sandbox import Sandbox, SandboxLimits

    service = SubmissionService(make_settings(f"sqlite:///{tmp_path / 'db.sqlite'}", tmp_path))
    digest = service.store.put(routing_file(sim_bundle, 5, [str(k) for k in range(100)]))
    src = sim_sources[0]
    box = Sandbox(src.public_path, src.hidden_path, str(tmp_path / "store"), SandboxLimits(cpu_seconds=7))
    box.ensure_started()
    pid = box._proc.pid
    ok = box.run({"sha256": digest, "format": "csv", "gzip": False, "split": "test"})
    assert ok.ok
    limits = open(f"/proc/{pid}/limits").read()
    soft = int(next(line for line in limits.splitlines() if line.startswith("Max cpu time")).split()[3])
    used = sum(int(x) for x in open(f"/proc/{pid}/stat").read().split(")")[1].split()[11:13]) / os.sysconf("SC_CLK_TCK")
    assert used < soft <= used + 7 + 2  # armed at (CPU used so far) + the per-job allowance
    # Deliver what the kernel sends at the soft limit, mid-job.
    threading.Timer(0.05, lambda: os.kill(pid, signal.SIGXCPU)).start()
    hit = box.run({"sha256": digest, "format": "csv", "gzip": False, "split": "test"})
    assert not hit.ok and hit.code == "cpu" and "CPU time" in hit.error
    assert box.run({"sha256": digest, "format": "csv", "gzip": False, "split": "test"}).ok  # a fresh child
    box.close()
