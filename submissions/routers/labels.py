"""VL-RouterBench's accuracy–cost soft labels.

For sample ``i`` the label puts probability mass only on the models that answer it correctly, with
weights ∝ exp(−λ · c̃_im), where c̃ is the model's log-normalised cost on that sample in [0, 1]
(0 = the track's cheapest bound, 1 = its dearest). λ = 0 spreads the mass evenly over the correct
models (accuracy only); as λ grows it moves to the cheaper correct models; λ → ∞ puts it all on the
cheapest correct one.

Samples that no model answers correctly carry no accuracy signal; the choice made here is to put all
their mass on the *cheapest* model for that sample — if nothing succeeds, spend least — so that the
router still learns where money is wasted.
"""

from __future__ import annotations

import numpy as np

CORRECT = 0.5  # quality at or above this counts as correct (quality may be fractional)


def normalised_log_cost(cost: np.ndarray, cmin: float, cmax: float) -> np.ndarray:
    c = np.clip(np.asarray(cost, dtype=np.float64), cmin, cmax)
    return (np.log2(c) - np.log2(cmin)) / (np.log2(cmax) - np.log2(cmin))


def soft_labels(quality: np.ndarray, cost: np.ndarray, lam: float, cmin: float, cmax: float) -> np.ndarray:
    """(n, m) rows summing to 1. ``lam = np.inf`` gives the one-hot cheapest correct model."""
    correct = np.asarray(quality) >= CORRECT
    c = normalised_log_cost(cost, cmin, cmax)
    n, m = correct.shape
    out = np.zeros((n, m))
    rows = np.arange(n)
    nobody = ~correct.any(axis=1)
    if np.isinf(lam):
        masked = np.where(correct, np.asarray(cost, dtype=np.float64), np.inf)
        out[rows, masked.argmin(axis=1)] = 1.0
    else:
        # Subtract the per-row minimum before exponentiating: the same weights, no underflow.
        logits = np.where(correct, -lam * c, -np.inf)
        logits -= np.where(correct.any(axis=1, keepdims=True), logits.max(axis=1, keepdims=True), 0.0)
        w = np.where(correct, np.exp(logits), 0.0)
        sums = w.sum(axis=1, keepdims=True)
        out = np.divide(w, sums, out=np.zeros_like(w), where=sums > 0)
    out[nobody] = 0.0
    out[rows[nobody], np.asarray(cost)[nobody].argmin(axis=1)] = 1.0
    return out
