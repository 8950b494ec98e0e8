"""Starter routers: soft labels and utility routing by hand, a tiny end-to-end run, and on a
realistic slice of the default track a λ sweep that beats the strongest single model and the
StrongestPerDataset lookup."""

import math

import numpy as np
import pandas as pd
import pytest

import evaluator
from evaluator.frontier import nauc, pareto_frontier
from helpers import make_bundle, routable_bundle, track_slice
from submissions.routers.features import compact
from submissions.routers.labels import soft_labels
from submissions.routers.sweep import LAMBDAS, expected_cost, point_label, route, train_sweep
from submissions.validation import validate

Q = np.array([[1, 1, 0], [0, 1, 1], [0, 0, 0]], dtype=float)
C = np.array([[0.01, 0.1, 1.0], [0.01, 0.1, 1.0], [0.5, 0.1, 1.0]])


def test_lambda_zero_spreads_mass_over_correct_models():
    L = soft_labels(Q, C, 0.0, 0.01, 1.0)
    np.testing.assert_allclose(L[0], [0.5, 0.5, 0.0])
    np.testing.assert_allclose(L[1], [0.0, 0.5, 0.5])
    np.testing.assert_allclose(L.sum(axis=1), 1.0)


def test_larger_lambda_moves_mass_to_cheaper_correct_models():
    # normalised log costs: 0.01 → 0, 0.1 → 0.5, 1.0 → 1
    L = soft_labels(Q, C, 2.0, 0.01, 1.0)
    assert L[0, 0] == pytest.approx(1 / (1 + math.exp(-1.0)))
    assert L[1, 1] == pytest.approx(1 / (1 + math.exp(-1.0)))
    assert soft_labels(Q, C, 20.0, 0.01, 1.0)[0, 0] > L[0, 0]
    np.testing.assert_array_equal(soft_labels(Q, C, math.inf, 0.01, 1.0)[:2], [[1, 0, 0], [0, 1, 0]])
    assert not np.isnan(soft_labels(Q, C, 1e6, 0.01, 1.0)).any()


def test_nobody_correct_goes_to_the_cheapest_model():
    for lam in (0.0, 3.0, math.inf):
        np.testing.assert_array_equal(soft_labels(Q, C, lam, 0.01, 1.0)[2], [0, 1, 0])


def test_utility_routing_by_hand():
    p = np.array([[0.9, 0.8, 0.2], [0.5, 0.5, 0.9]])
    cost = np.array([[3.0, 1.0, 1.0], [1.0, 1.0, 4.0]])
    assert route(p, cost, 0.0, 1.0).tolist() == [0, 2]            # most likely correct
    assert route(p, cost, 0.06, 1.0).tolist() == [1, 2]           # 0.9 − 0.18 < 0.8 − 0.06
    assert route(p, cost, 1.0, 1.0).tolist() == [1, 0]
    assert route(p, cost, math.inf, 1.0).tolist() == [1, 0]       # cheapest; ties → more likely correct
    b = make_bundle(np.ones((4, 2)), np.array([[1.0, 2], [3, 4], [5, 6], [7, 8]]), splits=["train"] * 3 + ["test"],
                    datasets=["ChartQA", "ChartQA", "MMBench", "DocVQA"])
    got = expected_cost(b, np.arange(3), np.arange(4))
    np.testing.assert_allclose(got, [[2, 3], [2, 3], [5, 6], [3, 4]])  # DocVQA: not in train → all of train


def test_compact_projects_wide_blocks_on_the_fit_rows():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((200, 50)).astype(np.float32)
    np.testing.assert_array_equal(compact(x[:, :10], np.arange(100)), x[:, :10])  # narrow: unchanged
    y = compact(x, np.arange(100), dims=8)
    assert y.shape == (200, 8)
    changed = x.copy()
    changed[100:] *= 5  # rows outside the fit rows do not move the projection
    np.testing.assert_allclose(compact(changed, np.arange(100), dims=8)[:100], y[:100], atol=1e-5)


def test_tiny_fixture_end_to_end(tmp_path):
    rng = np.random.default_rng(0)
    n = 60
    Y = (rng.random((n, 3)) < [0.4, 0.6, 0.8]).astype(float)
    cost = np.tile([0.01, 0.05, 0.3], (n, 1))
    splits = ["train"] * 36 + ["dev"] * 12 + ["test"] * 12
    b = make_bundle(Y, cost, splits=splits, datasets=["ChartQA", "MMBench"] * 30, bounds=(0.01, 0.3))
    b.samples["question"] = [f"question {i} about {'charts' if i % 2 == 0 else 'scenes'}" for i in range(n)]
    for router, objective in [(r, "utility") for r in ("knn", "linear", "mlp")] + [("linear", "soft-labels")]:
        res = train_sweep(b, router, lambdas=(0.0, 4.0, math.inf), progress=False, objective=objective)
        path = tmp_path / f"{router}.csv"
        res.predictions.to_csv(path, index=False)
        checked = validate(b, path.read_bytes(), path.name, "test")
        assert checked.ok, checked.summary()
        report = evaluator.score(b, res.predictions, split="test", replicates=0)
        assert [p.point for p in report.points] == [point_label(x) for x in (0.0, 4.0, math.inf)]
        assert report.curve is not None


@pytest.fixture(scope="module")
def slice_bundle(sim_bundle):
    """A realistic slice of the default track: 6,000 train, 1,500 dev, 700 test samples."""
    return track_slice(sim_bundle, 0, train=6000, dev=1500, test=700)


@pytest.fixture(scope="module")
def slice_sweeps(slice_bundle):
    return {r: train_sweep(slice_bundle, r, progress=False) for r in ("knn", "linear", "mlp")}


def test_a_starter_beats_the_per_dataset_lookup_on_dev(slice_bundle, slice_sweeps):
    """Issue #12: soft-label starters stayed 3–4 rank-score points below StrongestPerDataset on this
    slice's dev split (kNN −3.0, linear −3.1, MLP −4.3; −1.6 on the full track). Predicting each
    model's correctness and routing by accuracy minus λ·cost must at least match the lookup."""
    spd = evaluator.score_references(slice_bundle, "dev", replicates=0)["StrongestPerDataset"].points[0].rank_score
    best = {r: max(res.dev_rank_scores.values()) for r, res in slice_sweeps.items()}
    assert max(best.values()) > spd, (best, spd)
    # the lookup is inside every starter's hypothesis class: none falls a point below it
    assert min(best.values()) > spd - 0.01, (best, spd)


def test_mlp_sweep_beats_the_strongest_single_model(slice_bundle, slice_sweeps):
    res = slice_sweeps["mlp"]
    assert [p for p in res.predictions["point"].unique()] == [point_label(x) for x in LAMBDAS]
    report = evaluator.score(slice_bundle, res.predictions, split="test", replicates=0)
    refs = evaluator.score_references(slice_bundle, "test", replicates=0)
    strongest = refs["StrongestGlobal"].points[0].rank_score
    assert max(p.rank_score for p in report.points) > strongest
    singles = np.array([(refs[m].points[0].cost, refs[m].points[0].accuracy) for m in slice_bundle.model_ids])
    front = pareto_frontier(singles[:, 0], singles[:, 1])
    singles_nauc = nauc(singles[front, 0], singles[front, 1])
    assert report.curve.nauc > singles_nauc, (report.curve.nauc, singles_nauc)
    # deterministic for a seed
    again = train_sweep(slice_bundle, "mlp", lambdas=(0.0, 0.05), progress=False)
    once = train_sweep(slice_bundle, "mlp", lambdas=(0.0, 0.05), progress=False)
    pd.testing.assert_frame_equal(again.predictions, once.predictions)


def test_routers_train_command_and_starter_entries(tmp_path, capsys):
    """`routerboard routers train` on a small track writes starter files that a worker queues and
    scores as ``starter`` entries of the leaderboard."""
    from conftest import make_settings
    from leaderboard.cli import main
    from submissions.service import SubmissionService
    from submissions.worker import TrackSource, Worker

    path = routable_bundle(80, test=16).save(tmp_path / "tiny")
    assert main(["routers", "train", "--track", str(path), "--router", "knn", "--router", "linear"]) == 0
    assert '"knn"' in capsys.readouterr().out
    assert main(["routers", "train", "--track", str(tmp_path / "nope")]) == 2
    settings = make_settings(f"sqlite:///{tmp_path / 'db.sqlite'}", tmp_path)
    Worker(settings, [TrackSource(str(path), str(path / "hidden"))]).run(stop_when_idle=True)
    rows = SubmissionService(settings, tracks=[str(path)]).leaderboard_rows()
    starters = {r["router"]: r for r in rows if r["kind"] == "starter"}
    assert set(starters) == {"Starter kNN (λ sweep)", "Starter linear (λ sweep)"}
    # 12 λ points per file, each judged by the starter's own Ladder on the 8 public test samples
    assert all(r["n_points"] == 12 and 1 <= r["n_released"] <= 12 for r in starters.values())
