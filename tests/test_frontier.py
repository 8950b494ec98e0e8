"""Curve metrics (MMR-Bench) on tiny hand-worked cases, and the sort-and-sweep oracle curve
against the threshold-by-threshold definition."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from evaluator.frontier import gap_closed, nauc, oracle_curve, pareto_frontier, peak_score, qnc

COSTS = np.array([1.0, 2.0, 2.0, 3.0, 4.0])
PERFS = np.array([0.5, 0.4, 0.7, 0.7, 0.9])


def test_pareto_frontier_keeps_strict_improvements_in_cost_order():
    np.testing.assert_array_equal(pareto_frontier(COSTS, PERFS), [0, 2, 4])


def test_pareto_frontier_identical_points_keep_one():
    np.testing.assert_array_equal(pareto_frontier([1.0, 1.0], [0.5, 0.5]), [0])


def test_all_points_dominated_by_one():
    front = pareto_frontier([1.0, 2.0, 3.0], [0.9, 0.5, 0.8])
    np.testing.assert_array_equal(front, [0])
    assert math.isnan(nauc([1.0], [0.9]))
    assert peak_score([0.9]) == 0.9


def test_nauc_trapezoid_over_cost_range():
    # (1,.5)-(2,.7): 1·0.6 ; (2,.7)-(4,.9): 2·0.8 ; area 2.2 over range 3
    assert nauc([1.0, 2.0, 4.0], [0.5, 0.7, 0.9]) == pytest.approx(2.2 / 3, abs=1e-15)


def test_single_point_and_empty():
    assert math.isnan(nauc([1.0], [0.5]))
    assert math.isnan(peak_score([]))
    assert pareto_frontier([], []).size == 0


def test_qnc_first_frontier_cost_reaching_best_single():
    assert qnc([1.0, 2.0, 4.0], [0.5, 0.7, 0.9], best_acc=0.7, best_cost=4.0) == 0.5
    assert qnc([1.0, 2.0, 4.0], [0.5, 0.7, 0.9], best_acc=0.95, best_cost=4.0) == math.inf  # none reaches


def test_gap_closed():
    assert gap_closed(0.8, 0.7, 0.9) == pytest.approx(0.5)
    assert gap_closed(0.6, 0.7, 0.9) == pytest.approx(-0.5)
    assert math.isnan(gap_closed(0.7, 0.7, 0.7))
    assert gap_closed(0.0, 0.0, 1.0) == 0.0  # zero accuracy, zero best


def naive_oracle_curve(Y, C):
    """MMR-Bench's definition, one threshold at a time (a sample with nothing affordable counts 0, 0)."""
    ts = np.unique(C)
    costs, perfs = [], []
    for T in ts:
        ok = C <= T
        best = np.where(ok, Y, -np.inf).max(axis=1)
        has = ok.any(axis=1)
        cheapest = np.where(ok & (Y == best[:, None]), C, np.inf).min(axis=1)
        costs.append(np.where(has, cheapest, 0.0).mean())
        perfs.append(np.where(has, best, 0.0).mean())
    return ts, np.array(costs), np.array(perfs)


def test_oracle_curve_by_hand():
    Y = np.array([[1.0, 0.0], [0.0, 1.0]])
    C = np.array([[2.0, 1.0], [1.0, 2.0]])
    curve = oracle_curve(Y, C)
    np.testing.assert_array_equal(curve.thresholds, [1.0, 2.0])
    np.testing.assert_allclose(curve.costs, [1.0, 2.0])
    np.testing.assert_allclose(curve.perfs, [0.0, 1.0])


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 9).flatmap(lambda n: st.integers(1, 5).flatmap(lambda m: st.tuples(
    arrays(np.float64, (n, m), elements=st.sampled_from([0.0, 0.5, 1.0])),
    arrays(np.float64, (n, m), elements=st.sampled_from([0.1, 0.2, 0.3, 0.5, 1.0]))))))
def test_oracle_curve_equals_threshold_by_threshold_definition(ym):
    Y, C = ym
    curve = oracle_curve(Y, C)
    ts, costs, perfs = naive_oracle_curve(Y, C)
    np.testing.assert_array_equal(curve.thresholds, ts)
    np.testing.assert_allclose(curve.costs, costs, rtol=0, atol=1e-12)
    np.testing.assert_allclose(curve.perfs, perfs, rtol=0, atol=1e-12)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.floats(0.001, 10), st.floats(0, 1)), min_size=1, max_size=30))
def test_frontier_is_monotone(points):
    costs = np.array([p[0] for p in points])
    perfs = np.array([p[1] for p in points])
    front = pareto_frontier(costs, perfs)
    assert np.all(np.diff(costs[front]) > 0)
    assert np.all(np.diff(perfs[front]) > 0)
    # every point is weakly dominated by some frontier point
    for c, p in zip(costs, perfs):
        assert np.any((costs[front] <= c) & (perfs[front] >= p))
