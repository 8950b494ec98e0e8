"""The secret public/private partition of a track's test split.

As on Kaggle, the test split is cut once into a *public* part, whose scores the live leaderboard
shows (through the Ladder), and a *private* part, scored for every submission but revealed only in
releases. Which test row is in which part is itself hidden: it is stored with the hidden part of the
bundle, never in the public samples, so nobody can aim a probe at one part.

A scored part is named like a split, ``"test:public"`` or ``"test:private"``; every per-split cache
and the scorer work on those names unchanged.
"""

from __future__ import annotations

import secrets

import numpy as np
import pandas as pd

PUBLIC = "public"
PRIVATE = "private"
PARTS: tuple[str, ...] = (PUBLIC, PRIVATE)
TEST = "test"
PUBLIC_SPLIT = f"{TEST}:{PUBLIC}"
PRIVATE_SPLIT = f"{TEST}:{PRIVATE}"
PUBLIC_FRACTION = 0.5


def parse_split(split: str) -> tuple[str, str | None]:
    """``"test:public"`` → ``("test", "public")``; a plain split → ``(split, None)``."""
    base, _, part = split.partition(":")
    return base, (part or None)


def assign_parts(samples: pd.DataFrame, seed: int | None = None,
                 public_fraction: float = PUBLIC_FRACTION) -> np.ndarray:
    """A random partition of the test rows, stratified by dataset: per dataset, a random
    ``round(public_fraction · n)`` of its test rows are public and the rest private.

    ``seed=None`` (what importers use) draws the seed from the operating system's secure source:
    a partition computed from a known seed and the public columns could be recomputed by anyone.
    The partition is stored in the bundle's hidden part, so it need not be reproducible. A given
    seed reproduces the partition (tests). Returns one label per sample row (``""`` outside the test
    split). Stratifying keeps every dataset's share the same in both parts; rows are visited in
    ``sample_id`` order, so the partition does not depend on row order.
    """
    if seed is None:
        seed = secrets.randbits(128)
    labels = np.full(len(samples), "", dtype=object)
    test = np.flatnonzero(samples["split"].to_numpy() == TEST)
    if test.size == 0:
        return labels
    rng = np.random.default_rng(seed)
    frame = samples.iloc[test][["dataset", "sample_id"]].astype(str)
    order = np.lexsort((frame["sample_id"].to_numpy(), frame["dataset"].to_numpy()))
    datasets = frame["dataset"].to_numpy()[order]
    rows = test[order]
    starts = np.flatnonzero(np.r_[True, datasets[1:] != datasets[:-1]])
    ends = np.r_[starts[1:], rows.size]
    for lo, hi in zip(starts, ends):
        group = rows[lo:hi]
        public = rng.permutation(group.size) < int(round(public_fraction * group.size))
        labels[group] = np.where(public, PUBLIC, PRIVATE)
    return labels


def check_parts(split: np.ndarray, parts: np.ndarray) -> list[str]:
    """Problems with a partition: every test row labelled public or private, nothing else labelled."""
    problems = []
    is_test = split == TEST
    bad = is_test & ~np.isin(parts, PARTS)
    if bad.any():
        problems.append(f"{int(bad.sum())} test row(s) are in neither part (labels must be {list(PARTS)})")
    stray = ~is_test & (parts != "")
    if stray.any():
        problems.append(f"{int(stray.sum())} non-test row(s) carry a part label")
    return problems
