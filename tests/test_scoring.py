"""evaluator.score: hand-worked reports, error reporting, and properties over random tracks."""

import json
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import evaluator
from evaluator.baselines import reference_entries
from evaluator.metrics import rank_score
from helpers import make_bundle, predictions

# 4 dev samples, 3 models. Quality and cost chosen so every number below is easy to check.
Y = [[1, 0, 1], [0, 1, 1], [0, 0, 1], [1, 1, 0]]
C = [[0.01, 0.1, 0.5], [0.01, 0.1, 0.5], [0.01, 0.1, 0.5], [0.01, 0.1, 0.5]]
DATASETS = ["MMBench", "MMBench", "MathVista", "DocVQA"]


@pytest.fixture()
def tiny():
    return make_bundle(Y, C, datasets=DATASETS, bounds=(0.01, 0.5), aliases={"model-2": ("Big-Model",)})


def test_single_point_report_by_hand(tiny):
    report = evaluator.score(tiny, predictions(tiny, [0, 1, 2, 0]), replicates=0)
    p = report.points[0]
    assert p.accuracy == 1.0
    assert p.cost == pytest.approx((0.01 + 0.1 + 0.5 + 0.01) / 4, abs=1e-15)
    assert p.total_cost == pytest.approx(0.62, abs=1e-15)
    cn = (math.log2(0.5) - math.log2(0.155)) / (math.log2(0.5) - math.log2(0.01))
    assert p.rank_score == pytest.approx(1.1 * cn / (0.1 + cn), abs=1e-12)
    assert p.per_family["General"].accuracy == 1.0 and p.per_family["General"].n == 2
    assert p.per_dataset["MathVista"].cost == pytest.approx(0.5)
    assert p.per_dataset["MathVista"].rank_score == 0.0  # at cmax
    assert report.curve is None
    assert report.best_single["model_id"] == "model-2"  # 3/4 correct
    assert report.oracle["accuracy"] == 1.0
    # oracle picks the cheapest correct model: 0, 1, 2, 0
    assert report.oracle["cost"] == pytest.approx(0.155)


def test_multi_point_curve_by_hand(tiny):
    frame = pd.concat([predictions(tiny, 0, point="cheap"), predictions(tiny, 2, point="big"),
                       predictions(tiny, [0, 1, 2, 0], point="routed")])
    report = evaluator.score(tiny, frame, replicates=0)
    assert [p.point for p in report.points] == ["big", "cheap", "routed"]  # canonical order
    curve = report.curve
    # points: cheap (0.01, .5), big (0.5, .75), routed (0.155, 1.0) → frontier cheap, routed
    assert curve.frontier == ["cheap", "routed"]
    assert curve.ps == 1.0
    assert curve.nauc == pytest.approx((0.155 - 0.01) * 0.75 / (0.155 - 0.01))
    assert curve.qnc == pytest.approx(0.155 / 0.5)
    assert curve.gap_closed == pytest.approx(1.0)  # best single .75, oracle 1.0, router 1.0


def test_aliases_are_case_insensitive(tiny):
    frame = predictions(tiny, 2)
    frame["model_id"] = "big-MODEL"
    assert evaluator.score(tiny, frame, replicates=0).points[0].accuracy == 0.75


def test_intervals_are_seeded_and_paired_test_is_null_for_the_best_model(tiny):
    frame = predictions(tiny, 2)
    a = evaluator.score(tiny, frame, replicates=200, seed=3).to_dict()
    b = evaluator.score(tiny, frame, replicates=200, seed=3).to_dict()
    assert a == b
    t = a["points"][0]["paired_test"]["accuracy"]
    assert t["delta"] == 0.0 and t["p_value"] == 1.0
    lo, hi = a["points"][0]["ci"]["accuracy"]
    assert 0.0 <= lo <= 0.75 <= hi <= 1.0


def test_paired_test_detects_a_clear_difference(sim_bundle):
    sa_ids = predictions(sim_bundle, 0)  # Janus-Pro-1B everywhere: far below the best single model
    report = evaluator.score(sim_bundle, sa_ids, replicates=500)
    t = report.points[0].paired["accuracy"]
    assert t.delta < -0.3 and t.ci_high < 0 and t.p_value < 0.01


def test_report_is_strict_json(tiny):
    frame = pd.concat([predictions(tiny, 0, point="a"), predictions(tiny, 0, point="b")])
    d = evaluator.score(tiny, frame, replicates=50).to_dict()
    text = json.dumps(d, allow_nan=False)
    assert d["curve"]["nauc"] is None  # one frontier point
    assert d["curve"]["qnc"] is None and d["curve"]["reaches_best_single"] is False
    assert set(d["points"][0]) >= {"point", "accuracy", "cost", "total_cost", "rank_score", "ci",
                                   "per_family", "per_dataset"}
    assert '"Infinity"' not in text


@pytest.mark.parametrize("mutate, code", [
    (lambda f: f.drop(columns=["model_id"]), "missing_columns"),
    (lambda f: f.iloc[:0], "empty_file"),
    (lambda f: f.iloc[1:], "missing_sample_id"),
    (lambda f: pd.concat([f, f.iloc[:1]]), "duplicate_sample_id"),
    (lambda f: f.assign(sample_id=["nope"] + list(f.sample_id[1:])), "unknown_sample_id"),
    (lambda f: f.assign(model_id=["model-9"] + list(f.model_id[1:])), "unknown_model_id"),
    (lambda f: f.assign(model_id=[None] + list(f.model_id[1:])), "empty_cell"),
    (lambda f: pd.concat([f.assign(point=str(k)) for k in range(101)]), "too_many_points"),
])
def test_bad_predictions_name_the_problem(tiny, mutate, code):
    with pytest.raises(evaluator.PredictionError) as info:
        evaluator.score(tiny, mutate(predictions(tiny, 0)), replicates=0)
    codes = [p.code for p in info.value.problems]
    assert code in codes, codes
    assert code in str(info.value)


def test_unknown_model_suggests_the_closest_name(tiny):
    frame = predictions(tiny, 0)
    frame["model_id"] = "model_0"
    with pytest.raises(evaluator.PredictionError) as info:
        evaluator.score(tiny, frame)
    assert "did you mean ['model-0'" in str(info.value)


def test_test_split_needs_the_hidden_part(tmp_path, tiny):
    b = make_bundle(Y, C, splits=["train", "dev", "test", "test"], datasets=DATASETS, bounds=(0.01, 0.5))
    b.save(tmp_path / "b")
    public_only = evaluator.load_bundle(tmp_path / "b", hidden=False)
    with pytest.raises(evaluator.HiddenPartMissing, match="hidden part"):
        evaluator.score(public_only, predictions(public_only, 0, split="test"), split="test")
    full = evaluator.load_bundle(tmp_path / "b")
    assert evaluator.score(full, predictions(full, 0, split="test"), split="test", replicates=0).points[0].accuracy == 0.5


# ------------------------------------------------------------------ properties
tracks = st.integers(2, 40).flatmap(lambda n: st.integers(1, 6).flatmap(lambda m: st.tuples(
    st.just(n), st.just(m), st.integers(0, 2**31 - 1))))


def _random_bundle(n, m, seed):
    rng = np.random.default_rng(seed)
    Yr = (rng.random((n, m)) < rng.random(m)).astype(float)
    Cr = rng.choice([0.01, 0.02, 0.05, 0.1, 0.3], size=(n, m))
    ds = rng.choice(["MMBench", "ChartQA", "MathVista"], size=n)
    return make_bundle(Yr, Cr, datasets=ds, splits=["train"] * 2 + ["dev"] * (n - 2) if n > 4 else ["dev"] * n,
                       bounds=(0.01, 0.3)), rng


@settings(max_examples=60, deadline=None)
@given(tracks)
def test_oracle_accuracy_is_at_least_every_entrys(args):
    n, m, seed = args
    bundle, rng = _random_bundle(n, m, seed)
    dev_n = int((bundle.samples.split == "dev").sum())
    oracle_acc = evaluator.score(bundle, predictions(bundle, 0), replicates=0).oracle["accuracy"]
    rows = bundle.split_rows("dev")
    assert oracle_acc == pytest.approx(bundle.quality[rows].max(axis=1).mean(), abs=1e-12)
    entries = [e.choice for e in reference_entries(bundle, "dev")] + [rng.integers(0, m, size=dev_n)]
    for choice in entries:
        acc = evaluator.score(bundle, predictions(bundle, choice), replicates=0).points[0].accuracy
        assert oracle_acc >= acc - 1e-12


def test_numeric_points_sort_numerically(tiny):
    frame = pd.concat([predictions(tiny, 0, point=p) for p in ("10", "2", "0.5")])
    assert [p.point for p in evaluator.score(tiny, frame, replicates=0).points] == ["0.5", "2", "10"]


@settings(max_examples=60, deadline=None)
@given(tracks)
def test_scores_are_invariant_to_row_order(args):
    n, m, seed = args
    bundle, rng = _random_bundle(n, m, seed)
    split = "dev"
    frame = pd.concat([predictions(bundle, rng.integers(0, m, size=(bundle.samples.split == split).sum()), split, point=p)
                       for p in ("a", "b")])
    shuffled = frame.sample(frac=1.0, random_state=seed % 1000)
    assert evaluator.score(bundle, frame, split).to_dict() == evaluator.score(bundle, shuffled, split).to_dict()


@settings(max_examples=60, deadline=None)
@given(tracks)
def test_single_model_file_scores_that_models_column_means(args):
    n, m, seed = args
    bundle, rng = _random_bundle(n, m, seed)
    j = int(rng.integers(0, m))
    rows = bundle.split_rows("dev")
    p = evaluator.score(bundle, predictions(bundle, j), replicates=0).points[0]
    assert p.accuracy == pytest.approx(bundle.quality[rows, j].mean(), abs=1e-12)
    assert p.cost == pytest.approx(bundle.cost[rows, j].mean(), abs=1e-12)
    assert p.rank_score == pytest.approx(float(rank_score(p.accuracy, p.cost, 0.01, 0.3)), abs=1e-12)
