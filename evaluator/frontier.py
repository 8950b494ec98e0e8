"""Curve metrics after MMR-Bench: Pareto frontier, nAUC, peak score Ps, QNC, gap closed, oracle curve.

A *curve* is a set of operating points (average cost per query, accuracy). All functions take plain
arrays and return floats or arrays; NaN and ∞ carry the cases the definitions leave degenerate.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def pareto_frontier(costs: np.ndarray, perfs: np.ndarray) -> np.ndarray:
    """Indices of the frontier points, in increasing cost.

    Points are sorted by (cost ascending, performance descending); a point is kept when its
    performance is strictly greater than every point before it — the MMR-Bench rule, vectorised as
    a comparison with the running maximum.
    """
    costs = np.asarray(costs, dtype=np.float64)
    perfs = np.asarray(perfs, dtype=np.float64)
    if costs.size == 0:
        return np.zeros(0, dtype=np.int64)
    order = np.lexsort((-perfs, costs))
    p = perfs[order]
    prev_best = np.concatenate(([-np.inf], np.maximum.accumulate(p)[:-1]))
    return order[p > prev_best]


def nauc(frontier_costs: np.ndarray, frontier_perfs: np.ndarray) -> float:
    """Trapezoidal area under the frontier, divided by the frontier's cost range; NaN for < 2 points."""
    x = np.asarray(frontier_costs, dtype=np.float64)
    y = np.asarray(frontier_perfs, dtype=np.float64)
    if x.size < 2:
        return float("nan")
    span = x[-1] - x[0]
    if span <= 0:
        return float("nan")
    return float(np.sum((x[1:] - x[:-1]) * (y[1:] + y[:-1]) * 0.5) / span)


def peak_score(frontier_perfs: np.ndarray) -> float:
    """Ps: the highest performance on the frontier (NaN for an empty frontier)."""
    y = np.asarray(frontier_perfs, dtype=np.float64)
    return float(y.max()) if y.size else float("nan")


def qnc(frontier_costs: np.ndarray, frontier_perfs: np.ndarray, best_acc: float, best_cost: float) -> float:
    """First frontier cost reaching the best single model's accuracy, over that model's cost; ∞ if none."""
    x = np.asarray(frontier_costs, dtype=np.float64)
    y = np.asarray(frontier_perfs, dtype=np.float64)
    reached = np.flatnonzero(y >= best_acc)
    if reached.size == 0 or best_cost <= 0:
        return float("inf")
    return float(x[reached[0]] / best_cost)


def gap_closed(accuracy: float, best_acc: float, oracle_acc: float) -> float:
    """Share of the best-single-to-oracle accuracy gap a router closes; NaN when there is no gap."""
    gap = oracle_acc - best_acc
    if not gap > 0:
        return float("nan")
    return float((accuracy - best_acc) / gap)


@dataclass(frozen=True)
class Curve:
    """An oracle or router curve: mean cost and mean performance per threshold, cost ascending."""

    thresholds: np.ndarray
    costs: np.ndarray
    perfs: np.ndarray


def oracle_curve(quality: np.ndarray, cost: np.ndarray) -> Curve:
    """The MMR-Bench oracle curve, exact at every distinct per-sample cost threshold, by sort and sweep.

    At threshold ``T`` each sample takes the best quality among models costing ≤ ``T`` on it, at the
    cost of the cheapest model reaching that quality; a sample with no model under ``T`` contributes
    quality 0 and cost 0 (ours). Evaluating that threshold by threshold costs O(n·m) per threshold,
    O((n·m)²) in all. Instead: per sample, walk models in cost order and emit an *event* each time
    the running best quality rises (plus the first model, which makes the sample active); each
    event changes the sample's (quality, cost) by a known delta at a known threshold. One global
    sort of the events and two cumulative sums give the whole curve in O(n·m·log(n·m)).
    """
    Y = np.asarray(quality, dtype=np.float64)
    C = np.asarray(cost, dtype=np.float64)
    n, m = Y.shape
    if n == 0 or m == 0:
        empty = np.zeros(0)
        return Curve(empty, empty, empty)
    # Ties in cost need no tie-break: events at one threshold are applied together.
    order = np.argsort(C, axis=1, kind="stable")
    cs = np.take_along_axis(C, order, axis=1)
    ys = np.take_along_axis(Y, order, axis=1)
    run = np.maximum.accumulate(ys, axis=1)
    prev = np.concatenate((np.full((n, 1), -np.inf), run[:, :-1]), axis=1)
    event = run > prev  # the first column is always an event (prev = -inf)
    # The sample's current cost is the cost at its latest event; its quality the running best.
    cur_cost = np.where(event, cs, np.nan)
    cur_cost = _ffill_rows(cur_cost)
    prev_cost = np.concatenate((np.zeros((n, 1)), cur_cost[:, :-1]), axis=1)
    prev_q = np.concatenate((np.zeros((n, 1)), run[:, :-1]), axis=1)
    t = cs[event]
    dq = (run - prev_q)[event]
    dc = (cur_cost - prev_cost)[event]
    # All thresholds are distinct cost values, including those where no sample's choice changes.
    thresholds = np.unique(C)
    ev_order = np.argsort(t, kind="stable")
    t_sorted = t[ev_order]
    cum_q = np.concatenate(([0.0], np.cumsum(dq[ev_order])))
    cum_c = np.concatenate(([0.0], np.cumsum(dc[ev_order])))
    upto = np.searchsorted(t_sorted, thresholds, side="right")  # events with t ≤ T
    return Curve(thresholds=thresholds, costs=cum_c[upto] / n, perfs=cum_q[upto] / n)


def _ffill_rows(a: np.ndarray) -> np.ndarray:
    """Forward-fill NaN along each row (first column is never NaN here)."""
    n, m = a.shape
    idx = np.where(np.isnan(a), 0, np.arange(m)[None, :])
    np.maximum.accumulate(idx, axis=1, out=idx)
    return a[np.arange(n)[:, None], idx]
