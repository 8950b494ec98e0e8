"""Per-point metrics: accuracy, cost, rank score and their per-group breakdowns.

Pure functions over arrays. ``choice`` is always an integer array of model columns, one per sample
row of the quality matrix ``Y`` and cost matrix ``C`` being scored.
"""

from __future__ import annotations

import numpy as np

#: VL-RouterBench / RouterArena weight of accuracy in the rank score's weighted harmonic mean.
RANK_SCORE_BETA = 0.1


def normalised_cost(cost: np.ndarray | float, cmin: float, cmax: float) -> np.ndarray:
    """Log-normalised cost ``Cn`` in [0, 1]: 1 at ``cmin`` (cheapest), 0 at ``cmax``.

    Costs outside the bounds are clipped first (ours: the peers leave this open), so a router
    cheaper than ``cmin`` gets no more credit than one at ``cmin``.
    """
    c = np.clip(np.asarray(cost, dtype=np.float64), cmin, cmax)
    return (np.log2(cmax) - np.log2(c)) / (np.log2(cmax) - np.log2(cmin))


def rank_score(accuracy: np.ndarray | float, cost: np.ndarray | float, cmin: float, cmax: float,
               beta: float = RANK_SCORE_BETA) -> np.ndarray:
    """VL-RouterBench rank score ``S = (1+β)·A·Cn / (β·A + Cn)`` as a fraction in [0, 1].

    ``S = 0`` where ``A = 0`` or ``Cn = 0`` (ours: the formula's 0/0 case). Vectorised over any
    broadcastable ``accuracy`` and ``cost`` (e.g. bootstrap replicates).
    """
    a = np.asarray(accuracy, dtype=np.float64)
    cn = normalised_cost(cost, cmin, cmax)
    denom = beta * a + cn
    with np.errstate(divide="ignore", invalid="ignore"):
        s = np.where(denom > 0, (1.0 + beta) * a * cn / np.where(denom > 0, denom, 1.0), 0.0)
    return np.where((a > 0) & (cn > 0), s, 0.0)


def group_means(values: np.ndarray, codes: np.ndarray, n_groups: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean of ``values`` per group code (0..n_groups-1) and the group sizes; NaN for empty groups.

    ``values`` may be 1-D (n,) or 2-D (n, k): one bincount per column, no Python loop over samples.
    """
    counts = np.bincount(codes, minlength=n_groups).astype(np.float64)
    vals = values if values.ndim == 2 else values[:, None]
    sums = np.stack([np.bincount(codes, weights=vals[:, j], minlength=n_groups) for j in range(vals.shape[1])], axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        means = sums / counts[:, None]
    return (means if values.ndim == 2 else means[:, 0]), counts


def best_single_model(model_accuracy: np.ndarray, model_cost: np.ndarray) -> int:
    """Column with the highest mean accuracy; ties go to the cheaper, then to the earlier model."""
    acc = np.asarray(model_accuracy, dtype=np.float64)
    order = np.lexsort((np.arange(acc.size), np.asarray(model_cost, dtype=np.float64), -acc))
    return int(order[0])
