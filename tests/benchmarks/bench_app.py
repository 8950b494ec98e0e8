"""Leaderboard at scale: with 10,000 DONE submissions in the database, the time to build the
leaderboard table and the Pareto figure, as a ratio to a bare pandas read of the same rows.

Target: table + figure ≤ 1.5 s. Runs on SQLite and, where it answers, PostgreSQL.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np
import pandas as pd

os.environ.setdefault("ROUTERBOARD_DATA_DIR", os.path.join(tempfile.gettempdir(), "routerboard-bench-data"))

from sqlalchemy import insert, select  # noqa: E402

from leaderboard.figures import pareto_figure  # noqa: E402
from leaderboard.tables import apply_filters, display_frame, raw_frame  # noqa: E402
from leaderboard.columns import columns_for, default_labels  # noqa: E402
from submissions.config import Settings  # noqa: E402
from submissions.models import Breakdown, ResultPoint, Submission, User  # noqa: E402
from submissions.queue import utcnow  # noqa: E402
from submissions.service import SubmissionService  # noqa: E402

FAMILIES = ["Charts & OCR/Document", "General", "STEM"]


def fill(service: SubmissionService, n: int, seed: int = 0) -> int:
    rng = np.random.default_rng(seed)
    track_id = service.track_ids[service.default_track]
    now = utcnow()
    with service.engine.begin() as conn:
        user_ids = [conn.execute(insert(User).values(username=f"bench{k}", display_name="", is_admin=False,
                                                      created_at=now).returning(User.id)).scalar_one()
                    for k in range(50)]
        n_points = np.where(rng.random(n) < 0.1, 8, 1)
        subs = [{"owner_id": user_ids[i % 50], "track_id": track_id, "kind": "user", "split": "test",
                 "router_name": f"router-{i}", "team": f"team-{i % 300}", "router_type": "feature-level",
                 "paper_url": "https://example.org/p", "code_url": "", "description": "", "uses_images": False,
                 "file_format": "csv", "file_gzip": False, "file_size": 0, "dedup_key": uuid.uuid4().hex,
                 "status": "DONE", "attempts": 1, "visibility": "public", "created_at": now,
                 "n_points": int(n_points[i]), "best_point": "0",
                 "nauc": float(rng.random()) if n_points[i] > 1 else None} for i in range(n)]
        ids = [r.id for r in conn.execute(insert(Submission).returning(Submission.id), subs)]
        pts = []
        for sid, k in zip(ids, n_points):
            acc = rng.uniform(0.35, 0.85)
            cost = 10 ** rng.uniform(-4.3, -2.5)
            for p in range(int(k)):
                pts.append({"submission_id": sid, "point": str(p), "point_order": p, "accuracy": acc + 0.01 * p,
                            "cost": cost * (1 + 0.3 * p), "total_cost": cost * 4579, "rank_score": acc * 0.9,
                            "rank_score_lo": acc * 0.88, "rank_score_hi": acc * 0.92})
        pids = [r.id for r in conn.execute(insert(ResultPoint).returning(ResultPoint.id), pts)]
        conn.execute(insert(Breakdown), [{"result_point_id": pid, "level": "family", "name": f, "accuracy": 0.6,
                                          "cost": 0.001, "rank_score": 0.5, "n": 1500} for pid in pids for f in FAMILIES])
    return len(pts)


def measure(url: str, n: int, label: str) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="rb-bench-app-"))
    service = SubmissionService(Settings(database_url=url, store_dir=tmp / "store"))
    n_pts = fill(service, n)
    track = service.default_track
    cols = columns_for(FAMILIES)

    def build():
        rows = service.leaderboard_rows(track)
        df = apply_filters(raw_frame(rows, FAMILIES))
        display_frame(df, cols, default_labels(cols))
        fig = pareto_figure(rows, budget=0.001)
        fig.to_plotly_json()  # what Gradio serialises for the browser
        return rows

    S, P, B = Submission.__table__, ResultPoint.__table__, Breakdown.__table__
    bare_q = (select(S.c.id, S.c.router_name, S.c.team, S.c.router_type, P.c.point, P.c.accuracy, P.c.cost,
                     P.c.rank_score, B.c.name, B.c.accuracy.label("fam_acc"))
              .join(P, P.c.submission_id == S.c.id).outerjoin(B, B.c.result_point_id == P.c.id)
              .where(S.c.track_id == service.track_ids[track], S.c.status == "DONE"))

    def bare():
        with service.engine.connect() as conn:
            return pd.read_sql(bare_q, conn)

    bare()
    rows = build()
    t_bare = min(_timed(bare) for _ in range(3))
    t_build = min(_timed(build) for _ in range(3))
    print(f"[app] {label}: {len(rows):,} entries ({n_pts:,} points): leaderboard table + Pareto figure "
          f"{t_build:.2f} s (target <= 1.5 s) = {t_build / t_bare:.1f}x a bare pandas read of the same rows "
          f"({t_bare:.2f} s)")


def _timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    n = 1000 if args.quick else 10_000
    tmp = Path(tempfile.mkdtemp(prefix="rb-bench-app-"))
    measure(f"sqlite:///{tmp / 'bench.db'}", n, "SQLite")
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from pgschema import fresh_schema, unavailable

    reason = unavailable()
    if reason:
        print(f"[app] PostgreSQL skipped: {reason}")
        return
    url, drop = fresh_schema(prefix="rb_bench")
    try:
        measure(url, n, "PostgreSQL")
    finally:
        drop()


if __name__ == "__main__":
    main()
