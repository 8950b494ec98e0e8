"""Starter routers: soft labels by hand, a tiny end-to-end run, and on a realistic slice of the
default track a λ sweep that beats the strongest single model."""

import math

import numpy as np
import pandas as pd
import pytest

import evaluator
from evaluator.frontier import nauc, pareto_frontier
from helpers import make_bundle
from submissions.routers.labels import soft_labels
from submissions.routers.sweep import point_label, train_sweep
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


def test_tiny_fixture_end_to_end(tmp_path):
    rng = np.random.default_rng(0)
    n = 60
    Y = (rng.random((n, 3)) < [0.4, 0.6, 0.8]).astype(float)
    cost = np.tile([0.01, 0.05, 0.3], (n, 1))
    splits = ["train"] * 36 + ["dev"] * 12 + ["test"] * 12
    b = make_bundle(Y, cost, splits=splits, datasets=["ChartQA", "MMBench"] * 30, bounds=(0.01, 0.3))
    b.samples["question"] = [f"question {i} about {'charts' if i % 2 == 0 else 'scenes'}" for i in range(n)]
    for router in ("knn", "linear", "mlp"):
        res = train_sweep(b, router, lambdas=(0.0, 4.0, math.inf), progress=False)
        path = tmp_path / f"{router}.csv"
        res.predictions.to_csv(path, index=False)
        checked = validate(b, path.read_bytes(), path.name, "test")
        assert checked.ok, checked.summary()
        report = evaluator.score(b, res.predictions, split="test", replicates=0)
        assert [p.point for p in report.points] == [point_label(x) for x in (0.0, 4.0, math.inf)]
        assert report.curve is not None


@pytest.fixture(scope="module")
def slice_bundle(sim_bundle):
    """A realistic slice of the default track: 2,400 train, 500 dev, 700 test samples."""
    rng = np.random.default_rng(0)
    s = sim_bundle.samples
    rows = np.concatenate([rng.choice(np.flatnonzero(s.split == sp), k, replace=False)
                           for sp, k in (("train", 2400), ("dev", 500), ("test", 700))])
    return sim_bundle.subset(rows)


def test_mlp_sweep_beats_the_strongest_single_model(slice_bundle):
    res = train_sweep(slice_bundle, "mlp", progress=False)
    report = evaluator.score(slice_bundle, res.predictions, split="test", replicates=0)
    refs = evaluator.score_references(slice_bundle, "test", replicates=0)
    strongest = refs["StrongestGlobal"].points[0].rank_score
    assert max(p.rank_score for p in report.points) > strongest
    singles = np.array([(refs[m].points[0].cost, refs[m].points[0].accuracy) for m in slice_bundle.model_ids])
    front = pareto_frontier(singles[:, 0], singles[:, 1])
    singles_nauc = nauc(singles[front, 0], singles[front, 1])
    assert report.curve.nauc > singles_nauc, (report.curve.nauc, singles_nauc)
    # deterministic for a seed
    again = train_sweep(slice_bundle, "mlp", lambdas=(0.0, 8.0), progress=False)
    once = train_sweep(slice_bundle, "mlp", lambdas=(0.0, 8.0), progress=False)
    pd.testing.assert_frame_equal(again.predictions, once.predictions)


def test_routers_train_command_and_starter_entries(tmp_path, capsys):
    """`routerboard routers train` on a small track writes starter files that a worker queues and
    scores as ``starter`` entries of the leaderboard."""
    from conftest import make_settings
    from leaderboard.cli import main
    from submissions.service import SubmissionService
    from submissions.worker import TrackSource, Worker

    rng = np.random.default_rng(3)
    n = 80
    b = make_bundle((rng.random((n, 3)) < [0.4, 0.6, 0.8]).astype(float), np.tile([0.01, 0.05, 0.3], (n, 1)),
                    splits=["train"] * 48 + ["dev"] * 16 + ["test"] * 16, datasets=["ChartQA", "MMBench"] * 40,
                    bounds=(0.01, 0.3))
    b.samples["question"] = [f"question {i}" for i in range(n)]
    path = b.save(tmp_path / "tiny")
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
