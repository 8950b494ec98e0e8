"""The board as visitors see it, derived once per change and shared by every visitor.

A public leaderboard is read far more often than it changes. Everything a visitor's handler would
otherwise rebuild from the database — the rows, the ranked numeric frame, the arrays the Pareto
plot and the budget answer are made of — is derived here once per board version (the service bumps
it with every change: a result written, an entry withdrawn, hidden or re-run) and kept; a
handler then only filters, sorts, slices a page and draws.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from evaluator.pricing import PriceTable, coarse_steps, track_table
from leaderboard.figures import achievable_points
from leaderboard.prices import Repriced, board_points, is_published, reprice_rows
from leaderboard.tables import raw_frame

#: the board selector's value for the live board (a release is ``release:<id>``)
LIVE = "live"
#: rows per page of the leaderboard table (and the JSON API's default page)
PAGE_SIZE = 100
#: re-priced views kept per process (each is one table's board at one version)
REPRICED_KEPT = 32


def release_id(board: str | None) -> int | None:
    """The release a board value names (``release:3`` → 3); None for the live board."""
    if board and str(board).startswith("release:"):
        return int(str(board).split(":", 1)[1])
    return None


@dataclass
class BoardView:
    """One version of one board: rows, the ranked frame, the achievable points as arrays."""

    version: int
    rows: list[dict[str, Any]]
    frame: pd.DataFrame
    #: every achievable point (oracles excluded): cost, accuracy, row index, point label
    costs: np.ndarray
    accs: np.ndarray
    owners: np.ndarray
    labels: list[str]
    #: small per-view memo (CSV exports per filter set), dropped with the view
    memo: dict = field(default_factory=dict)
    #: set when the view is the live board under another price table than the track's
    repriced: Repriced | None = None

    @classmethod
    def build(cls, version: int, rows: list[dict[str, Any]], families: list[str]) -> "BoardView":
        costs, accs, owners, labels = achievable_points(rows)
        return cls(version, rows, raw_frame(rows, families), costs, accs, owners, labels)

    def remember(self, key: tuple, value: Any, kept: int, drop=None) -> Any:
        """Keep ``value`` in the memo under ``key``, with at most ``kept`` entries of its kind (``key[0]``):
        the oldest go first, each handed to ``drop`` (e.g. to delete its file)."""
        same = [k for k in list(self.memo) if isinstance(k, tuple) and k and k[0] == key[0]]
        for old in same[:max(0, len(same) - kept + 1)]:
            gone = self.memo.pop(old, None)
            if drop is not None and gone is not None:
                drop(gone)
        self.memo[key] = value
        return value

    def drop_files(self) -> None:
        """Delete the CSV exports this view wrote (a view dropped from a cache takes its files along)."""
        for key, value in list(self.memo.items()):
            if isinstance(key, tuple) and key and key[0] == "csv":
                Path(value).unlink(missing_ok=True)

    def best_under(self, budget: float) -> tuple[str, dict] | None:
        """The most accurate achievable point costing ≤ ``budget`` per query (ties: cheaper)."""
        ok = np.flatnonzero(self.costs <= budget * (1 + 1e-12))
        if not ok.size:
            return None
        k = ok[np.lexsort((self.costs[ok], -self.accs[ok]))[0]]
        row = self.rows[int(self.owners[k])]
        point = next(p for p in row["points"] if p["point"] == self.labels[k])
        return row["router"], point


class Boards:
    """The current view of each (track, board); rebuilt when the board version moves."""

    def __init__(self, service: Any, families) -> None:
        self.service = service
        self.families = families
        self._views: dict[tuple[str, str], BoardView] = {}
        self._repriced: OrderedDict[tuple[str, int, str, bool], BoardView] = OrderedDict()
        self._steps_memo: dict[tuple[str, str], tuple[np.ndarray, np.ndarray]] = {}
        self._lock = threading.Lock()

    def view(self, track: str, board: str | None = LIVE, table: PriceTable | None = None) -> BoardView:
        """The board as shown; with ``table`` (live board only), re-priced under it — derived once per
        board version and table, so a visitor's edit costs one re-pricing and paging costs nothing.
        Raises :class:`evaluator.pricing.PriceTableError` when the track cannot be re-priced."""
        base = self._view(track, board)
        bundle = self.service.bundle(track)
        if table is None or release_id(board) is not None or table.same_prices(track_table(bundle)):
            return base
        published = is_published(bundle, table)
        key = (track, base.version, table.key, published)
        hit = self._repriced.get(key)
        if hit is None:
            _, data = self.service.repricing_data(track)
            flat = base.memo.get("board-points")
            if flat is None or flat[0] is not data:  # once per board version, whatever the table
                flat = base.memo["board-points"] = (data, board_points(base.rows, data))
            coarse = None if published else self._steps(track)
            rep = reprice_rows(base.rows, data, table, bundle.model_ids, flat=flat[1], coarse=coarse)
            hit = BoardView.build(base.version, rep.rows, self.families(track))
            hit.repriced = rep
            with self._lock:
                self._repriced[key] = hit
                while len(self._repriced) > REPRICED_KEPT:
                    _, old = self._repriced.popitem(last=False)
                    old.drop_files()
        return hit

    def _steps(self, track: str) -> tuple[np.ndarray, np.ndarray]:
        """The track's rounding steps of routers' token sums under a visitor's table (once per track)."""
        key = ("coarse-steps", track)
        if key not in self._steps_memo:
            self._steps_memo[key] = coarse_steps(self.service.bundle(track))
        return self._steps_memo[key]

    def _view(self, track: str, board: str | None = LIVE) -> BoardView:
        release = release_id(board)
        key = (track, f"release:{release}" if release is not None else LIVE)
        hit = self._views.get(key)
        if release is not None:  # a release never changes
            if hit is None:
                hit = self._views[key] = BoardView.build(-1, self.service.release_rows(release), self.families(track))
            return hit
        version, rows = self.service.board(track)  # cached by the service per version: one small query
        if hit is not None and hit.version == version:
            return hit
        with self._lock:  # one rebuild per change, however many visitors arrive at once
            hit = self._views.get(key)
            if hit is None or hit.version != version:
                hit = self._views[key] = BoardView.build(version, rows, self.families(track))
        return hit
