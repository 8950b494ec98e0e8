"""Per-point metrics against values worked out by hand."""

import math

import numpy as np
import pytest

from evaluator.metrics import best_single_model, group_means, normalised_cost, rank_score


def test_rank_score_at_the_cheapest_bound():
    # Cn = 1 → S = 1.1·A / (0.1·A + 1) = 0.55 / 1.05 for A = 0.5
    assert rank_score(0.5, 0.001, 0.001, 1.0) == pytest.approx(0.55 / 1.05, abs=1e-12)


def test_rank_score_midway_in_log_cost():
    # cmin=1, cmax=16, c=4: Cn = (4-2)/(4-0) = 0.5; A = 0.8: S = 1.1·0.8·0.5 / (0.08 + 0.5)
    assert normalised_cost(4.0, 1.0, 16.0) == pytest.approx(0.5, abs=1e-15)
    assert rank_score(0.8, 4.0, 1.0, 16.0) == pytest.approx(0.44 / 0.58, abs=1e-12)


def test_rank_score_zero_accuracy_and_cost_at_or_beyond_bounds():
    assert rank_score(0.0, 4.0, 1.0, 16.0) == 0.0
    assert rank_score(0.9, 16.0, 1.0, 16.0) == 0.0           # Cn = 0 at cmax
    assert rank_score(0.9, 1000.0, 1.0, 16.0) == 0.0         # clipped to cmax
    at_min = rank_score(0.9, 1.0, 1.0, 16.0)
    assert rank_score(0.9, 0.01, 1.0, 16.0) == at_min        # clipped to cmin
    assert at_min == pytest.approx(1.1 * 0.9 / (0.09 + 1.0), abs=1e-12)


def test_rank_score_perfect_router_is_one_and_is_vectorised():
    out = rank_score(np.array([1.0, 0.0, 0.5]), np.array([1.0, 1.0, 16.0]), 1.0, 16.0)
    np.testing.assert_allclose(out, [1.0, 0.0, 0.0], atol=1e-15)


def test_group_means_with_an_empty_group():
    vals = np.array([1.0, 0.0, 1.0, 1.0])
    means, counts = group_means(vals, np.array([0, 0, 2, 2]), 3)
    np.testing.assert_array_equal(counts, [2, 0, 2])
    assert means[0] == 0.5 and math.isnan(means[1]) and means[2] == 1.0
    means2, _ = group_means(np.column_stack([vals, 2 * vals]), np.array([0, 0, 2, 2]), 3)
    assert means2[0, 1] == 1.0


def test_best_single_model_ties_go_to_the_cheaper_then_earlier():
    assert best_single_model(np.array([0.7, 0.8, 0.8]), np.array([1.0, 3.0, 2.0])) == 2
    assert best_single_model(np.array([0.8, 0.8]), np.array([1.0, 1.0])) == 0


def test_bootstrap_interval_of_a_constant_is_a_point_and_seeded():
    from evaluator.bootstrap import bootstrap_means, interval

    ones = np.ones(50)
    lo, hi = interval(bootstrap_means(ones, replicates=100, seed=1))
    assert lo[0] == pytest.approx(1.0) and hi[0] == pytest.approx(1.0)
    v = np.arange(50, dtype=float) % 2
    a = bootstrap_means(v, replicates=200, seed=5)
    np.testing.assert_array_equal(a, bootstrap_means(v, replicates=200, seed=5))
    assert not np.array_equal(a, bootstrap_means(v, replicates=200, seed=6))
    assert abs(a.mean() - 0.5) < 0.02  # centred on the sample mean


def test_paired_test_p_value_from_tail_shares():
    from evaluator.bootstrap import paired_test

    (t,) = paired_test("accuracy", 0.1, np.array([0.05, 0.1, 0.2, -0.01]))
    assert t.p_value == pytest.approx(2 * 0.25)  # one of four replicates at or below zero
    assert paired_test("accuracy", 0.0, np.zeros(10))[0].p_value == 1.0
    # one call tests many columns (the points of a curve), each as if alone
    many = paired_test("accuracy", np.array([0.1, 0.0]), np.column_stack([[0.05, 0.1, 0.2, -0.01], np.zeros(4)]))
    assert [x.p_value for x in many] == pytest.approx([0.5, 1.0]) and many[0].delta == 0.1
