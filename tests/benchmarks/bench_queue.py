"""Queue throughput: ≥500 valid submissions of the default track through 2 worker processes on
PostgreSQL, against bare in-process scoring of the same files, measured in one run.

Prints submissions/s (drain time = first claim to last result, from the workers' own timestamps)
and the queue overhead per job (claim, lease, sandbox round trip, result writes) as a ratio to the
bare parse + validate + score time. Target: ≥ 20 submissions/s. Needs PostgreSQL (DATABASE_URL or
127.0.0.1:5432/test); ``--sqlite`` runs it on a SQLite file instead.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

os.environ.setdefault("ROUTERBOARD_DATA_DIR", os.path.join(tempfile.gettempdir(), "routerboard-bench-data"))

import evaluator  # noqa: E402
from evaluator.tracks import builtin_track_dir, ensure_builtin  # noqa: E402
from submissions.config import Settings  # noqa: E402
from submissions.models import Submission  # noqa: E402
from submissions.service import SubmissionMeta, SubmissionService  # noqa: E402
from submissions.validation import validate  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from pgschema import fresh_schema  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--sqlite", action="store_true")
    parser.add_argument("-n", type=int, default=None)
    args = parser.parse_args()
    n = args.n or (60 if args.quick else 500)
    ensure_builtin("vlrb-sim")
    tmp = Path(tempfile.mkdtemp(prefix="rb-bench-queue-"))
    drop = lambda: None  # noqa: E731
    if args.sqlite:
        url = f"sqlite:///{tmp / 'bench.db'}"
    else:
        url, drop = fresh_schema(prefix="rb_bench")
    try:
        run(url, tmp, n)
    finally:
        drop()


def run(url: str, tmp: Path, n: int) -> None:
    settings = Settings(database_url=url, store_dir=tmp / "store", daily_quota=10_000, heartbeat_seconds=2)
    service = SubmissionService(settings)
    bundle = service.bundle(service.default_track)
    ids = bundle.samples.loc[bundle.samples.split == "test", "sample_id"].to_numpy()
    names = np.asarray(bundle.model_ids, dtype=object)
    rng = np.random.default_rng(0)
    files = [pd.DataFrame({"sample_id": ids, "model_id": names[rng.integers(0, len(names), ids.size)]})
             .to_csv(index=False).encode() for _ in range(n)]

    hidden = evaluator.load_bundle("vlrb-sim")
    evaluator.score(hidden, pd.DataFrame({"sample_id": ids, "model_id": names[0]}), split="test")  # warm, as workers are
    t = time.perf_counter()
    for data in files:
        r = validate(hidden, data, "p.csv", "test")
        evaluator.score_decisions(hidden, r.decisions)
    bare = (time.perf_counter() - t) / n

    t = time.perf_counter()
    for k, data in enumerate(files):
        res = service.submit(f"user{k % 25:02d}", service.default_track, "p.csv", data, SubmissionMeta(f"r{k}"))
        assert res.accepted, res.message
    enqueue = (time.perf_counter() - t) / n

    root = builtin_track_dir("vlrb-sim")
    env = {**os.environ, "DATABASE_URL": url, "ROUTERBOARD_STORE_DIR": str(settings.store_dir)}
    workers = [subprocess.Popen([sys.executable, "-m", "leaderboard.cli", "worker", "--track", str(root), "--hidden",
                                 str(root / "hidden"), "--exit-when-idle", "--poll", "0.05"], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for _ in range(2)]
    try:
        for w in workers:
            w.wait(timeout=1800)
    finally:
        for w in workers:
            if w.poll() is None:
                w.send_signal(signal.SIGTERM)
    from sqlalchemy import func, select

    with service.factory() as s:
        first, last, done = s.execute(select(func.min(Submission.started_at), func.max(Submission.finished_at),
                                             func.count()).where(Submission.kind == "user",
                                                                 Submission.status == "DONE")).one()
    drain = (last - first).total_seconds()
    rate = done / drain
    per_job_worker = 2 * drain / done
    overhead = per_job_worker - bare
    db = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
    print(f"[queue] {done}/{n} submissions DONE through 2 workers on {db}: drain {drain:.1f} s = "
          f"{rate:.1f} submissions/s (target >= 20)")
    print(f"        per job per worker {per_job_worker * 1e3:.1f} ms vs bare parse+validate+score "
          f"{bare * 1e3:.1f} ms in-process: queue overhead {overhead * 1e3:.1f} ms = {overhead / bare:.2f}x bare")
    print(f"        (upload side, not in the drain: validate + store + enqueue {enqueue * 1e3:.1f} ms per file)")


if __name__ == "__main__":
    main()
