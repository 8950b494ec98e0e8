"""Bootstrap intervals and the paired test against the best single model, deterministic for a seed.

Every replicate resamples the *samples* (rows) with replacement. Instead of gathering values
replicate by replicate, the resampling is written as a count matrix ``W`` (replicates × samples,
``W[b, i]`` = how often sample ``i`` was drawn in replicate ``b``), and every bootstrap mean of
every column of a value matrix ``V`` (samples × k) is one matrix product ``W @ V / n``. The counts
depend only on (n, replicates, seed), so one count matrix serves the router, the best single
model and all points of a curve — which is also what makes the test *paired*.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from threading import Lock

import numpy as np

DEFAULT_REPLICATES = 1000
DEFAULT_SEED = 0
CONFIDENCE = 0.95
#: Resample counts for at most this many (replicate × sample) cells are kept in memory (float32).
_BLOCK_CELLS = 1 << 22
#: Count matrices are cached only when a whole one fits here (≈ 128 MB of float32: 30,540 samples ×
#: 1,000 replicates does); larger ones are drawn block by block and dropped, bounding memory.
_CACHE_CELLS = 1 << 25
_cache: "OrderedDict[tuple[int, int, int, int], np.ndarray]" = OrderedDict()
_cache_lock = Lock()


def _count_block(n: int, seed: int, start: int, stop: int) -> np.ndarray:
    """Resample counts for replicates [start, stop); replicate ``b`` draws from its own stream.

    Streams are spawned from (seed, n), so the counts of a replicate do not depend on how
    replicates are grouped into blocks.
    """
    counts = np.empty((stop - start, n), dtype=np.float32)
    children = np.random.SeedSequence([seed, n]).spawn(stop)[start:stop]
    for r, child in enumerate(children):  # one draw of n indices per replicate, not per sample
        idx = np.random.default_rng(child).integers(0, n, size=n)
        counts[r] = np.bincount(idx, minlength=n)
    return counts


def _blocks(n: int, replicates: int, seed: int):
    """Yield count blocks covering all replicates; small ones are cached (same seed → same counts)."""
    per_block = max(1, min(replicates, _BLOCK_CELLS // max(n, 1)))
    cacheable = n * replicates <= _CACHE_CELLS
    for start in range(0, replicates, per_block):
        stop = min(replicates, start + per_block)
        if not cacheable:
            yield start, stop, _count_block(n, seed, start, stop)
            continue
        key = (n, seed, start, stop)
        with _cache_lock:
            block = _cache.get(key)
            if block is not None:
                _cache.move_to_end(key)
        if block is None:
            block = _count_block(n, seed, start, stop)
            with _cache_lock:
                _cache[key] = block
                while sum(b.size for b in _cache.values()) > _CACHE_CELLS and len(_cache) > 1:
                    _cache.popitem(last=False)
        yield start, stop, block


def bootstrap_means(values: np.ndarray, replicates: int = DEFAULT_REPLICATES, seed: int = DEFAULT_SEED) -> np.ndarray:
    """Bootstrap means of each column of ``values`` (n × k) → (replicates × k), float64."""
    v = np.asarray(values, dtype=np.float32)
    if v.ndim == 1:
        v = v[:, None]
    n = v.shape[0]
    out = np.empty((replicates, v.shape[1]), dtype=np.float64)
    if n == 0:
        out.fill(np.nan)
        return out
    for start, stop, block in _blocks(n, replicates, seed):
        out[start:stop] = block @ v
    return out / n


def interval(replicates: np.ndarray, confidence: float = CONFIDENCE) -> tuple[np.ndarray, np.ndarray]:
    """Percentile interval per column of a (replicates × k) array."""
    alpha = (1.0 - confidence) / 2.0
    # np.quantile sorts each column once; nanquantile goes column by column in Python, 20× slower.
    quantile = np.nanquantile if np.isnan(replicates).any() else np.quantile
    lo, hi = quantile(replicates, [alpha, 1.0 - alpha], axis=0)
    return lo, hi


@dataclass(frozen=True)
class PairedTest:
    """Router minus best single model on the same resamples."""

    metric: str
    delta: float
    ci_low: float
    ci_high: float
    p_value: float

    def to_dict(self) -> dict[str, float]:
        return {"metric": self.metric, "delta": self.delta, "ci_low": self.ci_low,
                "ci_high": self.ci_high, "p_value": self.p_value}


def paired_test(metric: str, observed_delta: np.ndarray, replicate_deltas: np.ndarray,
                confidence: float = CONFIDENCE) -> list[PairedTest]:
    """Two-sided bootstrap p-values for ``delta ≠ 0``, one per column of ``replicate_deltas``
    (replicates × k) with its ``observed_delta`` (k,): twice the smaller tail share, capped at 1.

    With identical decisions every replicate delta is 0 and p = 1.
    """
    d = np.asarray(replicate_deltas, dtype=np.float64)
    observed = np.atleast_1d(np.asarray(observed_delta, dtype=np.float64))
    if d.ndim == 1:
        d = d[:, None]
    lo, hi = interval(d, confidence)
    below = np.mean(d <= 0, axis=0)
    above = np.mean(d >= 0, axis=0)
    p = np.minimum(1.0, 2.0 * np.minimum(below, above))
    return [PairedTest(metric, float(observed[j]), float(lo[j]), float(hi[j]), float(p[j])) for j in range(d.shape[1])]
