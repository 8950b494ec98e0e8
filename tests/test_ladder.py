"""The Ladder's rule on hand-made cases: release, hold, precision, and the identity that makes
difference probing read nothing."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evaluator.ladder import (DEFAULT_SETTINGS, LadderSettings, Verdict, accuracy_interval, climb, group_step,
                              shown_accuracy, shown_cost, shown_report, significant_gain)

N = 100
ZERO = np.zeros((N, 1))


def flips(k: int, n: int = N) -> np.ndarray:
    q = np.zeros(n)
    q[:k] = 1.0
    return q


def test_first_point_is_always_released():
    assert list(climb(flips(0)[:, None], np.ones((N, 1)), np.zeros((N, 0)), np.zeros((N, 0)))) == [True]


def test_one_changed_sample_is_held_ten_are_released():
    # one flip: mean 1/n, sd 1/sqrt(n) → exactly one standard error; the threshold is 2.5
    assert not climb(flips(1)[:, None], np.ones((N, 1)), ZERO, np.ones((N, 1)))[0]
    # ten flips: mean 0.1, sd 0.3015 → 3.3 standard errors
    assert climb(flips(10)[:, None], np.ones((N, 1)), ZERO, np.ones((N, 1)))[0]
    # the threshold decides: at 4 standard errors ten flips are held
    strict = LadderSettings(threshold_se=4.0)
    assert not climb(flips(10)[:, None], np.ones((N, 1)), ZERO, np.ones((N, 1)), strict)[0]


def test_a_significantly_cheaper_point_is_released_even_when_less_accurate():
    cost_ref = np.full((N, 1), 1.0)
    assert climb(np.zeros((N, 1)), np.full((N, 1), 0.5), np.ones((N, 1)), cost_ref)[0]
    # cheaper on one sample only: held
    one = np.ones(N)
    one[0] = 0.5
    assert not climb(np.zeros((N, 1)), one[:, None], np.ones((N, 1)), cost_ref)[0]


def test_cheaper_must_also_be_a_real_step():
    """Costs differ by a near-constant amount on every sample, so a few samples pass the paired test;
    a point released for being cheaper must also be at least 10% cheaper, or a chain of slightly
    cheaper points would buy a release per step."""
    ref_c = np.full((N, 1), 1.0)
    for factor, released in ((0.95, False), (0.89, True)):
        assert climb(np.zeros((N, 1)), np.full((N, 1), factor), np.ones((N, 1)), ref_c)[0] == released, factor
    # more accurate needs no cost step
    assert climb(np.ones((N, 1)), np.full((N, 1), 0.99), np.zeros((N, 1)), ref_c)[0]


def test_a_point_must_beat_every_released_point():
    # released: a cheap weak point and an expensive strong one; the new point is more accurate than
    # the weak one but neither more accurate nor cheaper than the strong one → held
    ref_q = np.stack([flips(0), flips(60)], axis=1)
    ref_c = np.stack([np.full(N, 0.1), np.full(N, 1.0)], axis=1)
    assert not climb(flips(55)[:, None], np.full((N, 1), 1.0), ref_q, ref_c)[0]


def test_points_of_a_file_are_judged_most_expensive_first_and_join_the_ladder():
    # three points: expensive+accurate, cheap, and a copy of the cheap one that differs in one sample
    q = np.stack([flips(50), flips(0), flips(1)], axis=1)
    c = np.stack([np.full(N, 1.0), np.full(N, 0.1), np.full(N, 0.1)], axis=1)
    assert list(climb(q, c, np.zeros((N, 0)), np.zeros((N, 0)))) == [True, True, False]


@settings(max_examples=200, deadline=None)
@given(n=st.integers(2, 5000), base=st.floats(0, 1), delta=st.floats(-1, 1).filter(lambda d: d != 0),
       where=st.integers(0, 4999))
def test_difference_probing_reads_nothing(n, base, delta, where):
    """A point that differs from a released one in a single sample is never significantly different
    at any threshold above 1 standard error: for d with one non-zero entry, |mean(d)| = sd(d)/√n
    exactly (at exactly 1 it is a tie, decided by rounding)."""
    ref = np.full(n, base)
    new = ref.copy()
    new[where % n] += delta
    d = new - ref
    assert abs(d.mean()) == pytest.approx(d.std(ddof=1) / math.sqrt(n), rel=1e-9)
    for k in (1.0 + 1e-6, DEFAULT_SETTINGS.threshold_se):
        assert not significant_gain(new, ref[:, None], k)[0]
        assert not significant_gain(-new, -ref[:, None], k)[0]


def test_shown_precision():
    assert shown_accuracy(0.71249, 0.001) == 0.712 and shown_accuracy(0.7125, 0.001) == 0.713
    assert repr(float(shown_accuracy(0.70001, 0.001))) == "0.7"
    assert shown_cost(0.000123456, 3) == pytest.approx(0.000123, rel=1e-12)
    assert shown_cost(0.0, 3) == 0.0
    # a group's shown accuracy moves in steps of at least 8 of its samples
    assert group_step(164, 8) == 0.05 and group_step(760, 8) == 0.02 and group_step(4, 8) == 1.0
    lo, hi = accuracy_interval(0.5, 2500)
    assert (lo, hi) == pytest.approx((0.5 - 1.96 * 0.01, 0.5 + 1.96 * 0.01), abs=1e-4)


def test_shown_report_derives_everything_from_shown_values():
    exact = {
        "track": "t@1", "split": "test:public", "n_samples": 1000,
        "points": [
            {"point": "a", "accuracy": 0.61234, "cost": 0.00123456, "total_cost": 1.23456, "rank_score": 0.5,
             "per_family": {"STEM": {"accuracy": 0.6666, "cost": 0.001234, "rank_score": 0.4, "n": 300}},
             "per_dataset": {"AI2D": {"accuracy": 0.7123, "cost": 0.0011, "rank_score": 0.4, "n": 160}}},
            {"point": "b", "accuracy": 0.6125, "cost": 0.00123, "total_cost": 1.23, "rank_score": 0.5,
             "per_family": {}, "per_dataset": {}},
        ],
        "curve": None, "best_single": {"model_id": "m", "accuracy": 0.6, "cost": 0.001},
        "oracle": {"accuracy": 0.9, "cost": 0.0005}, "settings": {"cost_bounds": [0.0001, 0.01], "beta": 0.1},
    }
    shown = shown_report(exact, [Verdict("a", True), Verdict("b", False)])
    (p,) = shown["points"]
    assert (p["accuracy"], p["cost"]) == (0.612, pytest.approx(0.00123, rel=1e-12))
    from evaluator.metrics import rank_score

    assert p["rank_score"] == pytest.approx(float(rank_score(0.612, 0.00123, 0.0001, 0.01)), abs=1e-12)
    assert p["per_family"]["STEM"]["accuracy"] == pytest.approx(0.65)  # 8/300 → step 0.05
    assert p["per_dataset"]["AI2D"]["accuracy"] == pytest.approx(0.7)  # 8/160 → step 0.05
    # a group's cost is not shown: one sample moves a small group's mean cost by several display steps
    assert p["per_dataset"]["AI2D"]["cost"] is None and p["per_dataset"]["AI2D"]["rank_score"] is None
    assert shown["held"] == [{"point": "b"}]  # held, and nothing about why
    assert shown["point_order"] == ["a", "b"]
    assert shown["curve"] is None  # one released point: no curve
    serialised = repr(shown)
    for hidden in ("0.61234", "0.00123456", "0.6666", "0.7123", "0.6125", "0.001234", "0.0011"):
        assert hidden not in serialised
