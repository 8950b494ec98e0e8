"""Per-split arrays the scorer needs again and again, computed once per (bundle, split).

A worker scores many files against the same split, so the split's row indices, group codes,
single-model means and oracle are cached on the bundle. Column statistics are summed over row
blocks so that a large bundle (1M samples × 100 models) is never copied whole.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import pandas as pd

from evaluator.bundle import Bundle

_ROW_BLOCK = 1 << 16


@dataclass(frozen=True)
class SplitIndex:
    """Which bundle rows form a split, in sample order. Needs no labels: validation uses it."""

    split: str
    rows: np.ndarray

    @property
    def n(self) -> int:
        return int(self.rows.size)

    def sample_ids(self, bundle: Bundle, positions: np.ndarray) -> list[str]:
        """Ids of the samples at ``positions`` of this split (for messages; never the whole split)."""
        return [str(x) for x in bundle.samples["sample_id"].to_numpy()[self.rows[positions]]]


def split_index(bundle: Bundle, split: str) -> SplitIndex:
    cache: dict[str, SplitIndex] = bundle.__dict__.setdefault("_split_index_cache", {})
    if split not in cache:
        cache[split] = SplitIndex(split, bundle.split_rows(split))
    return cache[split]


@dataclass(frozen=True)
class SplitArrays:
    split: str
    rows: np.ndarray               # rows of the bundle's matrices, in sample order
    family_codes: np.ndarray
    family_names: list[str]
    dataset_codes: np.ndarray
    dataset_names: list[str]
    model_accuracy: np.ndarray     # (m,) mean quality of each single model on this split
    model_cost: np.ndarray         # (m,) mean cost of each single model on this split
    oracle_choice: np.ndarray      # (n,) the oracle's model per sample

    @property
    def n(self) -> int:
        return int(self.rows.size)


def _blockwise(rows: np.ndarray, fn: Callable[[np.ndarray], None]) -> None:
    for start in range(0, rows.size, _ROW_BLOCK):
        fn(rows[start:start + _ROW_BLOCK])


def oracle_choice(quality: np.ndarray, cost: np.ndarray) -> np.ndarray:
    """Per row, the cheapest model among those with the highest quality; ties → earlier model (ours).
    Unknown (NaN) cells — unseen models on train/dev — are never chosen."""
    best = np.nanmax(quality, axis=1) if np.isnan(quality).any() else quality.max(axis=1)
    masked = np.where(quality == best[:, None], cost, np.inf)
    return masked.argmin(axis=1)


def split_arrays(bundle: Bundle, split: str) -> SplitArrays:
    """The cached :class:`SplitArrays` of ``bundle`` for ``split`` (labels must be loaded)."""
    cache: dict[str, SplitArrays] = bundle.__dict__.setdefault("_split_cache", {})
    if split in cache:
        return cache[split]
    bundle.require_labels(split)
    index = split_index(bundle, split)
    rows = index.rows
    # Only the two group columns are taken, never a copy of the whole samples table.
    fam_codes, fam_names = pd.factorize(bundle.samples["family"].iloc[rows], sort=True)
    ds_codes, ds_names = pd.factorize(bundle.samples["dataset"].iloc[rows], sort=True)
    m = len(bundle.models)
    acc_sum = np.zeros(m)
    cost_sum = np.zeros(m)
    oracle = np.empty(rows.size, dtype=np.int64)
    pos = [0]

    def block(r: np.ndarray) -> None:
        q = bundle.quality[r]
        c = bundle.cost[r]
        acc_sum[:] += q.sum(axis=0, dtype=np.float64)
        cost_sum[:] += c.sum(axis=0, dtype=np.float64)
        oracle[pos[0]:pos[0] + r.size] = oracle_choice(q, c)
        pos[0] += r.size

    _blockwise(rows, block)
    n = max(rows.size, 1)
    arrays = SplitArrays(
        split=split, rows=rows,
        family_codes=fam_codes.astype(np.int64), family_names=[str(x) for x in fam_names],
        dataset_codes=ds_codes.astype(np.int64), dataset_names=[str(x) for x in ds_names],
        model_accuracy=acc_sum / n, model_cost=cost_sum / n, oracle_choice=oracle,
    )
    cache[split] = arrays
    return arrays
