"""The Ladder: what a leaderboard may show of a submission's score on the hidden public part.

A leaderboard that shows exact scores on its test set can be read back (difference probing) and
overfitted without any model (the boosting attack). Blum & Hardt ("The Ladder: A Reliable
Leaderboard for Machine Learning Competitions", ICML 2015, arXiv:1502.04585) show a new score only
when it is significantly better than the participant's best so far, at limited precision; the shown
scores then stay close to the true ones under any adaptive sequence of submissions.

Routing is two-dimensional — a cheaper but less accurate point is a real contribution, not an
attack — so this is a *Pareto* Ladder, the paper's parameter-free form applied per dimension:

* every operating point is one submission to the Ladder of its participant (per user and track);
  the points of a file are taken most expensive first (an honest λ sweep then descends its curve,
  each cheaper point significantly cheaper than the ones before, and keeps its shape);
* a point is **released** when, against *every* point on the participant's released frontier (the
  released points no other released point dominates), it is
  either significantly more accurate or significantly cheaper: a one-sided paired test on the
  per-sample differences, ``mean(d) > k · sd(d) / √n`` with ``k`` = ``threshold_se`` — and, for
  cheaper, at least ``min_cost_step`` cheaper in relative terms (costs differ by a near-constant
  amount on every sample, so a handful of samples would pass the test alone; without the step, a
  chain of slightly cheaper points would buy hundreds of releases);
* otherwise it is **held**: nothing about it is shown but that it was held — not even which released
  point it failed against (that would answer a question about hidden values at every held point);
* released values are shown at limited precision: accuracy to ``accuracy_step``, cost to
  ``cost_digits`` significant digits; everything else shown for the point (rank score, intervals,
  the test against the best single model, curve metrics) is computed from those shown values;
  per-family / per-dataset accuracy is coarsened so that one step is at least ``group_min_samples``
  samples of the group, and a group's cost is not shown at all (one sample moves a small group's
  mean cost by several display steps: any rounding fine enough to be useful would read it).

A point that differs from a released one in a few samples is never significantly different
(one changed sample gives ``mean(d) = sd(d)/√n`` exactly), so difference probing reads nothing, and
the boosting attack gains only what one lucky release can show (measured in
``tests/benchmarks/bench_integrity.py``).

Everything here is a pure function of arrays; the sandboxed worker calls it with the public part's
per-sample values, which never leave that process.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from evaluator.frontier import gap_closed, nauc, pareto_frontier, peak_score, qnc
from evaluator.generalisation import REPORT_KEY as HELDOUT_KEY
from evaluator.metrics import rank_score

#: Coarsening steps of group values (fractions), smallest first.
_NICE_STEPS = (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0)
_Z95 = 1.959963984540054


@dataclass(frozen=True)
class LadderSettings:
    """The Ladder's parameters (defaults documented in the README, measured in the benchmark)."""

    #: a point must beat each released point by this many standard errors of the paired difference
    threshold_se: float = 2.5
    #: shown accuracy precision (a fraction: 0.001 = 0.1 accuracy points)
    accuracy_step: float = 0.001
    #: shown cost precision (significant digits of the USD per query)
    cost_digits: int = 3
    #: a per-family or per-dataset accuracy moves in steps of at least this many of its samples
    group_min_samples: int = 8
    #: a point released for being cheaper costs at most (1 − this) of each point it beats that way
    min_cost_step: float = 0.10

    def to_dict(self) -> dict[str, Any]:
        return {"threshold_se": self.threshold_se, "accuracy_step": self.accuracy_step,
                "cost_digits": self.cost_digits, "group_min_samples": self.group_min_samples,
                "min_cost_step": self.min_cost_step}


DEFAULT_SETTINGS = LadderSettings()


@dataclass(frozen=True)
class Verdict:
    """The Ladder's answer for one point: released or held (and nothing more)."""

    point: str
    released: bool


def significant_gain(new: np.ndarray, released: np.ndarray, threshold_se: float) -> np.ndarray:
    """Whether ``new`` beats each released column: a one-sided paired test on the per-sample
    differences, ``mean > threshold_se · sd / √n`` (and mean > 0). ``new`` is (n,) or (n, d) and
    ``released`` (n, R) or (n, R, d), compared along the last axis; the answer is (R,) or (R, d)."""
    n = new.shape[0]
    if released.shape[1] == 0 or n == 0:
        return np.zeros(released.shape[1:], dtype=bool)
    d = new[:, None] - released
    mean = d.mean(axis=0)
    sd = d.std(axis=0, ddof=1) if n > 1 else np.zeros_like(mean)
    tiny = (sd == 0) & (mean != 0)
    if tiny.any() and n > 1:
        # The test is scale-free: differences so small (subnormal) that their squares underflow to
        # sd = 0 are scaled to max |d| = 1 first, so they are not taken for a constant, sure gain.
        scale = np.abs(d).max(axis=0)
        scaled = d / np.where(scale > 0, scale, 1.0)
        mean = np.where(tiny, scaled.mean(axis=0), mean)
        sd = np.where(tiny, scaled.std(axis=0, ddof=1), sd)
    return (mean > 0) & (mean > threshold_se * sd / math.sqrt(n))


def climb(quality: np.ndarray, cost: np.ndarray, released_quality: np.ndarray, released_cost: np.ndarray,
          settings: LadderSettings = DEFAULT_SETTINGS) -> np.ndarray:
    """Run the points of one file (per-sample ``quality``/``cost``, (n, P)) through a participant's
    Ladder whose released points are ``released_*`` ((n, R)): whether each point is released, in
    file order. Points are judged most expensive first, and each released point joins the Ladder at once."""
    n, P = quality.shape
    R = released_quality.shape[1]
    # per released point, accuracy and negated cost side by side: "more accurate or cheaper" is one test
    ref = np.empty((n, R + P, 2), dtype=np.float64)
    ref[:, :R, 0], ref[:, :R, 1] = released_quality, -np.asarray(released_cost, dtype=np.float64)
    k = R
    released = np.zeros(P, dtype=bool)
    for t in np.argsort(-cost.mean(axis=0), kind="stable"):
        new = np.stack([quality[:, t], -cost[:, t]], axis=1).astype(np.float64)
        gains = significant_gain(new, ref[:, :k], settings.threshold_se)
        gains[:, 1] &= -new[:, 1].mean() <= (1 - settings.min_cost_step) * -ref[:, :k, 1].mean(axis=0)
        if gains.any(axis=1).all():
            ref[:, k] = new
            k += 1
            released[t] = True
    return released


# ------------------------------------------------------------------------------------ precision
def shown_accuracy(accuracy: np.ndarray | float, step: float) -> np.ndarray:
    """Accuracy rounded to a multiple of ``step`` (half up); divided by the integer ``1/step`` so that
    0.7 prints as 0.7, not 0.7000000000000001."""
    inverse = round(1.0 / step)
    return np.floor(np.asarray(accuracy, dtype=np.float64) * inverse + 0.5) / inverse


def shown_cost(cost: np.ndarray | float, digits: int) -> np.ndarray:
    """Cost rounded to ``digits`` significant digits (0 stays 0)."""
    c = np.asarray(cost, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        mag = np.where(c > 0, np.floor(np.log10(np.where(c > 0, c, 1.0))), 0.0)
        scale = 10.0 ** (digits - 1 - mag)
        return np.where(c > 0, np.round(c * scale) / scale, c)


def group_step(n_group: int, min_samples: int) -> float:
    """The shown precision of a group of ``n_group`` samples: the smallest nice step that is at
    least ``min_samples`` samples of the group, so that no single sample moves it by itself."""
    need = min_samples / max(n_group, 1)
    return next((s for s in _NICE_STEPS if s >= need), 1.0)


# ------------------------------------------------------------------------- derived statistics
def accuracy_interval(accuracy: float, n: int) -> tuple[float, float]:
    """95% normal-approximation interval of a shown accuracy over ``n`` samples."""
    half = _Z95 * math.sqrt(max(accuracy * (1 - accuracy), 0.0) / max(n, 1))
    return max(0.0, accuracy - half), min(1.0, accuracy + half)


def _p_two_sided(z: float) -> float:
    return float(math.erfc(abs(z) / math.sqrt(2.0))) if math.isfinite(z) else 0.0


def derived_tests(accuracy: float, cost: float, best_accuracy: float, best_cost: float, n: int,
                  cmin: float, cmax: float) -> dict[str, dict[str, float]]:
    """The test against the best single model from shown values only: a two-sample normal
    approximation treating router and model as independent (conservative: the paired test on
    per-sample values would need hidden data). Rank-score standard errors by the delta method at
    the shown cost."""
    se_a = math.sqrt(max(accuracy * (1 - accuracy), 0.0) / max(n, 1))
    se_b = math.sqrt(max(best_accuracy * (1 - best_accuracy), 0.0) / max(n, 1))
    out: dict[str, dict[str, float]] = {}
    delta = accuracy - best_accuracy
    se = math.hypot(se_a, se_b)
    out["accuracy"] = {"delta": delta, "ci_low": delta - _Z95 * se, "ci_high": delta + _Z95 * se,
                       "p_value": _p_two_sided(delta / se) if se > 0 else (1.0 if delta == 0 else 0.0)}
    h = 1e-6

    def slope(a: float, c: float) -> float:
        return float((rank_score(a + h, c, cmin, cmax) - rank_score(a - h, c, cmin, cmax)) / (2 * h))

    rs, rs_b = float(rank_score(accuracy, cost, cmin, cmax)), float(rank_score(best_accuracy, best_cost, cmin, cmax))
    se_rs = math.hypot(slope(accuracy, cost) * se_a, slope(best_accuracy, best_cost) * se_b)
    d_rs = rs - rs_b
    out["rank_score"] = {"delta": d_rs, "ci_low": d_rs - _Z95 * se_rs, "ci_high": d_rs + _Z95 * se_rs,
                         "p_value": _p_two_sided(d_rs / se_rs) if se_rs > 0 else (1.0 if d_rs == 0 else 0.0)}
    return out


# -------------------------------------------------------------------------------- the report
def coarse_groups(groups: dict[str, dict[str, Any]], settings: LadderSettings = DEFAULT_SETTINGS
                  ) -> dict[str, dict[str, Any]]:
    """Per-family / per-dataset values of a laddered point: accuracy in steps of at least
    ``group_min_samples`` samples; no cost and no rank score (see the module docstring)."""
    out = {}
    for name, g in groups.items():
        step = group_step(int(g["n"]), settings.group_min_samples)
        out[name] = {"accuracy": float(shown_accuracy(g["accuracy"], step)), "cost": None, "rank_score": None,
                     "n": int(g["n"]), "step": step}
    return out


def shown_point(accuracy: float, cost: float, n: int, bounds: tuple[float, float],
                settings: LadderSettings = DEFAULT_SETTINGS) -> dict[str, Any]:
    """A point as it may be shown: accuracy and cost at the Ladder's precision, and the rank score and
    its interval computed from those two numbers only (the live board's released points and the
    entries of a release, alike)."""
    cmin, cmax = bounds
    acc = float(shown_accuracy(accuracy, settings.accuracy_step))
    shown = float(shown_cost(cost, settings.cost_digits))
    lo, hi = accuracy_interval(acc, n)
    return {"accuracy": acc, "cost": shown, "total_cost": shown * n, "rank_score": float(rank_score(acc, shown, cmin, cmax)),
            "ci": {"accuracy": [lo, hi], "cost": [None, None],
                   "rank_score": [float(rank_score(lo, shown, cmin, cmax)), float(rank_score(hi, shown, cmin, cmax))]}}


def shown_report(exact: dict[str, Any], verdicts: list[Verdict],
                 settings: LadderSettings = DEFAULT_SETTINGS) -> dict[str, Any]:
    """What may be shown of a scored file: ``exact`` is its exact report on the public part
    (``ScoreReport.to_dict()``, intervals not needed); the answer has the same shape, with only the
    released points, every value derived from their shown accuracy and cost, and the held points
    listed under ``held`` (by label only)."""
    cmin, cmax = exact["settings"]["cost_bounds"]
    n = int(exact["n_samples"])
    best = exact["best_single"]
    by_label = {p["point"]: p for p in exact["points"]}
    points = []
    for v in verdicts:
        if not v.released:
            continue
        p = by_label[v.point]
        shown = shown_point(p["accuracy"], p["cost"], n, (cmin, cmax), settings)
        points.append({
            "point": v.point, **shown,
            "paired_test": derived_tests(shown["accuracy"], shown["cost"], float(best["accuracy"]),
                                         float(best["cost"]), n, cmin, cmax),
            "per_family": coarse_groups(p.get("per_family") or {}, settings),
            "per_dataset": coarse_groups(p.get("per_dataset") or {}, settings),
            # held-out vs in-distribution datasets (tracks with held-out datasets): groups like the others
            **({HELDOUT_KEY: coarse_groups(p[HELDOUT_KEY], settings)} if p.get(HELDOUT_KEY) else {}),
        })
    curve = None
    if len(points) >= 2:
        costs = np.array([p["cost"] for p in points])
        accs = np.array([p["accuracy"] for p in points])
        front = pareto_frontier(costs, accs)
        top = int(np.argmax(accs))
        area = nauc(costs[front], accs[front])
        q = qnc(costs[front], accs[front], float(best["accuracy"]), float(best["cost"]))
        gap = gap_closed(float(accs[top]), float(best["accuracy"]), float(exact["oracle"]["accuracy"]))
        curve = {"nauc": area if math.isfinite(area) else None, "ps": peak_score(accs[front]),
                 "qnc": q if math.isfinite(q) else None, "gap_closed": gap if math.isfinite(gap) else None,
                 "frontier": [points[i]["point"] for i in front], "reaches_best_single": math.isfinite(q)}
    return {
        "track": exact["track"], "split": exact["split"], "n_samples": n, "points": points, "curve": curve,
        "held": [{"point": v.point} for v in verdicts if not v.released],
        "point_order": [v.point for v in verdicts],
        "best_single": best, "oracle": exact["oracle"],
        "settings": {**exact["settings"], "replicates": 0, "ladder": settings.to_dict()},
    }
