"""Helpers the importers share: seeded splitting and model-name checks."""

from __future__ import annotations

import numpy as np
import pandas as pd

SPLIT_FRACTIONS = (0.70, 0.15, 0.15)


def seeded_split(datasets: pd.Series, seed: int) -> np.ndarray:
    """A 70/15/15 train/dev/test split, stratified by dataset, reproducible from ``seed``."""
    rng = np.random.default_rng(seed)
    split = np.empty(len(datasets), dtype=object)
    codes, _ = pd.factorize(datasets, sort=True)
    for g in range(codes.max() + 1 if len(codes) else 0):
        rows = rng.permutation(np.flatnonzero(codes == g))
        n_train = int(round(SPLIT_FRACTIONS[0] * rows.size))
        n_dev = int(round(SPLIT_FRACTIONS[1] * rows.size))
        split[rows[:n_train]] = "train"
        split[rows[n_train:n_train + n_dev]] = "dev"
        split[rows[n_train + n_dev:]] = "test"
    return split.astype(str)
