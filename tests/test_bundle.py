"""Bundles on disk: public and hidden parts apart, round trips, and clear errors."""

import shutil

import numpy as np
import pytest

import evaluator
from evaluator.bundle import CostBounds
from helpers import make_bundle, predictions

Y = [[1, 0], [0, 1], [1, 1], [0, 0], [1, 0], [0, 1]]
C = [[0.1, 0.2], [0.1, 0.2], [0.1, 0.3], [0.1, 0.2], [0.2, 0.2], [0.1, 0.5]]
SPLITS = ["train", "train", "dev", "dev", "test", "test"]


@pytest.fixture()
def saved(tmp_path):
    make_bundle(Y, C, splits=SPLITS, bounds=(0.1, 0.5)).save(tmp_path / "b")
    return tmp_path / "b"


def test_round_trip_keeps_everything(saved):
    b = evaluator.load_bundle(saved)
    assert b.has_hidden
    np.testing.assert_array_equal(b.quality, np.asarray(Y, dtype=float))
    np.testing.assert_array_equal(b.cost, np.asarray(C, dtype=float))
    assert b.cost_bounds == CostBounds(0.1, 0.5)
    assert list(b.samples["split"]) == SPLITS


def test_public_part_holds_no_test_labels(saved):
    assert np.load(saved / "public" / "quality.npy").shape == (4, 2)
    b = evaluator.load_bundle(saved, hidden=False)
    assert not b.has_hidden
    test = b.samples["split"].to_numpy() == "test"
    assert np.isnan(b.quality[test]).all() and not np.isnan(b.quality[~test]).any()


def test_hidden_part_kept_elsewhere(saved, tmp_path):
    elsewhere = tmp_path / "vault"
    shutil.move(saved / "hidden", elsewhere)
    assert not evaluator.load_bundle(saved).has_hidden
    b = evaluator.load_bundle(saved, hidden=elsewhere)
    assert evaluator.score(b, predictions(b, 1, split="test"), split="test", replicates=0).points[0].accuracy == 0.5


def test_hidden_part_of_another_track_is_refused(saved, tmp_path):
    other = make_bundle(Y, C, splits=["train", "train", "dev", "test", "dev", "test"], bounds=(0.1, 0.5))
    other.save(tmp_path / "other")
    with pytest.raises(evaluator.BundleError, match="another track"):
        evaluator.load_bundle(saved, hidden=tmp_path / "other" / "hidden")


def test_missing_file_and_not_a_bundle(saved, tmp_path):
    (saved / "public" / "cost.npy").unlink()
    with pytest.raises(evaluator.BundleError, match="cost.npy"):
        evaluator.load_bundle(saved)
    with pytest.raises(evaluator.BundleError, match="no public/ directory"):
        evaluator.load_bundle(tmp_path)
    with pytest.raises(evaluator.BundleError, match="built-in tracks"):
        evaluator.load_bundle(tmp_path / "nothing-here")


def test_invalid_bundles_are_refused_in_memory():
    with pytest.raises(evaluator.BundleError, match="shape"):
        make_bundle(Y, [[0.1, 0.2]], splits=SPLITS)
    with pytest.raises(evaluator.BundleError, match="unknown split"):
        make_bundle(Y, C, splits=["train", "val", "dev", "dev", "test", "test"])
    with pytest.raises(evaluator.BundleError, match="cmin < cmax"):
        CostBounds(0.5, 0.1)


def test_builtin_track_is_built_once_then_loaded(sim_bundle):
    again = evaluator.load_bundle("vlrb-sim", hidden=False)
    assert again.track_id == sim_bundle.track_id and not again.has_hidden
    assert again.summary()["samples"] == 30_540
