"""Re-pricing a busy board: with 10,000 DONE entries (17,000+ points, each with its per-model token
sums), the time to re-price every entry under another price table, side by side with the time to
build the same board's table without re-pricing, measured in one run.

Target: re-pricing 10,000 entries ≤ 0.2 s. Prints:
  [1] the array work alone (costs, bounds, rank scores, best points, curve metrics): ``reprice_rows``
  [2] building the board view without re-pricing (rows → ranked frame → achievable points)
  [3] a visitor's first page after an edit (re-price + build + page), and the same page again (cached)
Runs on SQLite (and PostgreSQL where it answers, with ``--pg``).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("ROUTERBOARD_DATA_DIR", os.path.join(tempfile.gettempdir(), "routerboard-bench-data"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from sqlalchemy import update  # noqa: E402

import evaluator  # noqa: E402
from bench_app import FAMILIES, fill  # noqa: E402
from bench_scoring import best_of  # noqa: E402
from evaluator.pricing import pricing_basis, track_table  # noqa: E402
from leaderboard.board import LIVE, BoardView, Boards  # noqa: E402
from leaderboard.prices import CUSTOM, board_points, reprice_rows  # noqa: E402
from leaderboard.tabs import Ctx, leaderboard_view  # noqa: E402
from leaderboard.columns import columns_for, default_labels  # noqa: E402
from submissions.config import Settings  # noqa: E402
from submissions.models import Track  # noqa: E402
from submissions.service import SubmissionService  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--pg", action="store_true", help="on PostgreSQL (127.0.0.1:5432, database test)")
    args = parser.parse_args()
    n = 1000 if args.quick else 10_000
    tmp = Path(tempfile.mkdtemp(prefix="rb-bench-prices-"))
    url = "postgresql+psycopg://postgres@127.0.0.1:5432/test" if args.pg else f"sqlite:///{tmp / 'bench.db'}"
    service = SubmissionService(Settings(database_url=url, store_dir=tmp / "store"))
    track = service.default_track
    full = evaluator.load_bundle("vlrb-sim")  # the pricing basis needs the hidden part, as a worker has it
    with service.engine.begin() as conn:
        conn.execute(update(Track).where(Track.id == service.track_ids[track])
                     .values(pricing=pricing_basis(full).to_dict()))
    points = fill(service, n)
    own = track_table(full)
    j = own.model_ids.index("GPT-4o")
    table = own.with_prices({"GPT-4o": (own.input[j] / 2, own.output[j] / 2)})
    _, rows = service.board(track)
    _, data = service.repricing_data(track)
    print(f"board: {len(rows):,} entries, {points:,} points, {len(own.model_ids)} models; {url.split(':')[0]}")
    repeat = 3 if args.quick else 5
    flat = board_points(rows, data)
    t_flat = best_of(lambda: board_points(rows, data), repeat)
    t_core = best_of(lambda: reprice_rows(rows, data, table, full.model_ids, flat=flat), repeat)
    t_build = best_of(lambda: BoardView.build(1, rows, FAMILIES), repeat)
    t_both = best_of(lambda: BoardView.build(1, reprice_rows(rows, data, table, full.model_ids).rows, FAMILIES), repeat)
    print(f"[1] re-price every entry (reprice_rows):          {t_core:7.3f} s   target <= 0.2 s"
          f"  ({t_core / t_build:.2f}x the table build)")
    print(f"    (+ once per board version, for every table: flattening the points {t_flat:.3f} s)")
    print(f"[2] build the board without re-pricing:          {t_build:7.3f} s")
    print(f"    re-price + build the re-priced board:        {t_both:7.3f} s   ({t_both / t_build:.2f}x the build alone)")
    ctx = Ctx(service, boards=Boards(service, lambda t: FAMILIES))
    cols = columns_for(FAMILIES)
    custom = {"track": track, "models": {m: {"input": i, "output": o}
                                          for m, i, o in zip(table.model_ids, table.input, table.output)}}
    args_ = (track, LIVE, "", None, True, None, default_labels(cols), "Rank", False, 1)
    t = time.perf_counter()
    leaderboard_view(ctx, *args_, CUSTOM, custom)
    first = time.perf_counter() - t
    again = best_of(lambda: leaderboard_view(ctx, *args_, CUSTOM, custom), repeat)
    plain = best_of(lambda: leaderboard_view(ctx, *args_), repeat)
    print(f"[3] a visitor's first page after an edit:        {first:7.3f} s")
    print(f"    the next page view at the same prices:       {again:7.3f} s   (track's prices: {plain:.3f} s)")


if __name__ == "__main__":
    main()
