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


def grouped_curve_metrics(groups: np.ndarray, costs: np.ndarray, perfs: np.ndarray, n_groups: int,
                          best_acc: float, best_cost: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """nAUC, Ps and QNC of many curves at once — points tagged with their curve's ``groups`` code
    (0..n_groups-1) — exactly as :func:`pareto_frontier` and the per-curve functions define them, with
    no Python loop over curves (re-pricing a 10,000-entry board recomputes every curve)."""
    g = np.asarray(groups, dtype=np.int64)
    x = np.asarray(costs, dtype=np.float64)
    y = np.asarray(perfs, dtype=np.float64)
    nan = np.full(n_groups, np.nan)
    if g.size == 0:
        return nan, nan.copy(), np.full(n_groups, np.inf)
    order = np.lexsort((-y, x, g))
    g, x, y = g[order], x[order], y[order]
    # the running maximum restarts at each curve: offset every curve above all earlier ones
    lift = float(np.nanmax(y) - np.nanmin(y)) + 1.0
    key = g * lift + y
    prev = np.concatenate(([-np.inf], np.maximum.accumulate(key)[:-1]))
    front = key > prev
    g, x, y = g[front], x[front], y[front]
    count = np.bincount(g, minlength=n_groups)
    ps = np.where(count > 0, _group_max(g, y, n_groups), np.nan)
    same = g[1:] == g[:-1]
    seg = np.where(same, (x[1:] - x[:-1]) * (y[1:] + y[:-1]) * 0.5, 0.0)
    area = np.bincount(g[1:], weights=seg, minlength=n_groups)
    first = np.full(n_groups, np.nan)
    last = np.full(n_groups, np.nan)
    starts = np.flatnonzero(np.concatenate(([True], ~same)))
    first[g[starts]] = x[starts]
    ends = np.flatnonzero(np.concatenate((~same, [True])))
    last[g[ends]] = x[ends]
    span = last - first
    with np.errstate(invalid="ignore", divide="ignore"):
        area_n = np.where((count >= 2) & (span > 0), area / np.where(span > 0, span, 1.0), np.nan)
    reach = np.flatnonzero(y >= best_acc)
    q = np.full(n_groups, np.inf)
    if reach.size and best_cost > 0:
        firsts = reach[np.concatenate(([True], g[reach][1:] != g[reach][:-1]))]
        q[g[firsts]] = x[firsts] / best_cost
    return area_n, ps, q


def _group_max(groups: np.ndarray, values: np.ndarray, n_groups: int) -> np.ndarray:
    out = np.full(n_groups, -np.inf)
    np.maximum.at(out, groups, values)
    return out


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
