"""The generalisation tracks: reproducible to the byte, nothing unseen leaks into train/dev, the bundle
format says what is unseen (and old bundles still load), validation and dev scoring know the new
models, held-out groups are exact and laddered, the starters route to new models, and the public split
publishes like vlrb-sim's."""

import hashlib
import json
import shutil

import numpy as np
import pandas as pd
import pytest

import evaluator
from evaluator import vlrb_sim_tracks as gen
from evaluator.board import score_for_board, score_references_for_board
from evaluator.bundle import BASE_FORMAT_VERSION, FORMAT_VERSION, VLRB_FAMILIES, upgrade_bundle
from evaluator.generalisation import HELD_OUT, IN_DISTRIBUTION, REPORT_KEY, with_heldout_groups
from evaluator.ladder import group_step
from evaluator.tracks import builtin_track_dir


@pytest.fixture(scope="module")
def heldout():
    return evaluator.load_bundle(gen.HELDOUT)


@pytest.fixture(scope="module")
def newmodels():
    return evaluator.load_bundle(gen.NEWMODELS)


def _digest(root):
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("generate", [gen.generate_heldout, gen.generate_newmodels])
def test_generated_twice_gives_identical_files(generate, tmp_path):
    a, b = generate().save(tmp_path / "a"), generate().save(tmp_path / "b")
    assert _digest(a) == _digest(b)
    assert {"public/samples.parquet", "public/quality.npy", "hidden/quality.npy", "public/models.parquet"} <= set(_digest(a))


#: sha256 of the quality matrices (0/1 outcomes: no floating-point rounding in their bytes) as generated
#: when the tracks were introduced — vlrb-sim's as it was before its generator was split into reusable
#: pieces. A change here means the tracks' outcomes changed: bump the track's version instead.
PINNED = {
    "vlrb-sim": ("83df46fe18b7276c79791b5d6128de3d65598c19edac1e5134436118b05a682e",
                 "e28e5fbfd074f0fe1c6370938ae425a6b556118bcda1ad7707e8ae20ef17d59e"),
    gen.HELDOUT: ("9341770ab38b96b7461f931746ef9d574e4337899a342c77c8b78108cecc9916",
                  "73662d229f7606b2fed2b67486db86a72378101914d9895a541bcd108f724ee4"),
    gen.NEWMODELS: ("7e057e3c353b7b97d590add2905d38a4fe8ef3c94e4e7522885862aecbea1076",
                    "b5c2e5be252ffaea20a1e2a17e943d337a822737dfddca989894be4d8e3f7f7b"),
}


def test_outcomes_match_their_pinned_hashes(sim_bundle, heldout, newmodels):
    for track, (public, hidden) in PINNED.items():
        got = _digest(builtin_track_dir(track))
        assert (got["public/quality.npy"], got["hidden/quality.npy"]) == (public, hidden), track


def test_held_out_datasets_appear_only_in_test(heldout):
    s = heldout.samples
    held = s["dataset"].isin(gen.HELDOUT_DATASETS).to_numpy()
    assert set(heldout.unseen_datasets) == set(gen.HELDOUT_DATASETS)
    assert (s.loc[held, "split"] == "test").all(), "a held-out dataset's sample is in train or dev"
    assert not s.loc[s.split != "test", "dataset"].isin(gen.HELDOUT_DATASETS).any()
    # one per family, and a text-only dataset whose samples carry no image
    families = {VLRB_FAMILIES.get(d, gen.TEXT_ONLY_FAMILY) for d in gen.HELDOUT_DATASETS}
    assert families == set(VLRB_FAMILIES.values()) | {gen.TEXT_ONLY_FAMILY}
    text = (s["family"] == gen.TEXT_ONLY_FAMILY).to_numpy()
    assert text.any() and (s.loc[text, "image_ref"] == "").all() and (s.loc[~text, "image_ref"] != "").all()
    assert not np.asarray(heldout.images[text]).any()  # blank pixels
    assert s.loc[text, "input_tokens"].max() < 100 < s.loc[~text, "input_tokens"].min()  # no image tokens
    # train and dev hold every other dataset, at the vlrb-sim split shares
    assert set(s.loc[s.split == "train", "dataset"]) == set(s["dataset"]) - set(gen.HELDOUT_DATASETS)
    test = (s.split == "test").to_numpy()
    assert set(heldout.parts[test]) == {"public", "private"}
    assert heldout.provenance.simulated and heldout.models == evaluator.load_bundle("vlrb-sim", hidden=False).models


def test_new_models_are_labelled_in_train_and_dev_only_on_the_calibration_set(newmodels):
    public = evaluator.load_bundle(gen.NEWMODELS, hidden=False)  # what anyone can download
    unseen = [j for j, m in enumerate(public.models) if m.unseen]
    assert [public.model_ids[j] for j in unseen] == [m[0] for m in gen.NEW_MODELS] and len(unseen) >= 3
    s = public.samples
    calib = s["sample_id"].isin(public.calibration_ids).to_numpy()
    assert calib.sum() == gen.CALIBRATION_SIZE and (s.loc[calib, "split"] == "dev").all()
    assert s.loc[calib, "dataset"].nunique() == s["dataset"].nunique()  # stratified
    labelled = (s.split != "test").to_numpy()
    for matrix in (public.quality, public.cost, public.output_tokens):
        cells = matrix[:, unseen]
        assert np.isnan(cells[labelled & ~calib]).all(), "a new model's label leaked into train/dev"
        assert np.isfinite(cells[calib]).all()
        assert np.isfinite(np.delete(matrix, unseen, axis=1)[labelled]).all()  # the known pool: fully labelled
    # on disk too: the public arrays hold nothing else
    q = np.load(builtin_track_dir(gen.NEWMODELS) / "public" / "quality.npy")
    assert np.isfinite(q[:, unseen]).sum() == gen.CALIBRATION_SIZE * len(unseen)
    # the hidden test split labels every model
    test = (newmodels.samples.split == "test").to_numpy()
    assert np.isfinite(newmodels.quality[test]).all() and np.isfinite(newmodels.cost[test]).all()
    # cheap to expensive, each with a card naming its size and prices
    seen_prices = [m.output_price for m in public.models if not m.unseen]
    new = [m for m in public.models if m.unseen]
    assert min(m.output_price for m in new) < min(seen_prices) and max(m.output_price for m in new) > np.median(seen_prices) * 10
    for m in new:
        assert m.card and f"${m.input_price:.2f}" in m.card and "released after" in m.card


def test_bundle_format_says_what_is_unseen_and_old_bundles_still_load(sim_bundle, heldout, newmodels, tmp_path):
    sim_dir = builtin_track_dir("vlrb-sim")
    meta = json.loads((sim_dir / "public" / "bundle.json").read_text())
    assert meta["format_version"] == BASE_FORMAT_VERSION == 2 and "unseen_datasets" not in meta
    assert list(pd.read_parquet(sim_dir / "public" / "models.parquet").columns) == [
        "model_id", "display_name", "params", "input_price", "output_price", "aliases"]
    for track, key in ((gen.HELDOUT, "unseen_datasets"), (gen.NEWMODELS, "calibration_ids")):
        meta = json.loads((builtin_track_dir(track) / "public" / "bundle.json").read_text())
        assert meta["format_version"] == FORMAT_VERSION == 3 and meta[key]
    models = pd.read_parquet(builtin_track_dir(gen.NEWMODELS) / "public" / "models.parquet")
    assert models["unseen"].sum() == len(gen.NEW_MODELS) and models["card"].str.len().gt(0).all()
    # a format-3 bundle round-trips; upgrading it (or a format-2 one) changes nothing
    copy = shutil.copytree(builtin_track_dir(gen.NEWMODELS), tmp_path / "nm")
    before = _digest(copy)
    assert upgrade_bundle(copy) == copy and _digest(copy) == before
    back = evaluator.load_bundle(copy)
    assert back.unseen_models == newmodels.unseen_models and back.calibration_ids == newmodels.calibration_ids
    # a newer format is refused with a clear message
    meta = json.loads((copy / "public" / "bundle.json").read_text())
    (copy / "public" / "bundle.json").write_text(json.dumps({**meta, "format_version": 4}))
    with pytest.raises(evaluator.BundleError, match=r"format_version 4, this evaluator reads \[2, 3\]"):
        evaluator.load_bundle(copy)


def test_bad_generalisation_fields_are_refused(heldout, newmodels):
    from dataclasses import replace

    kwargs = lambda b: dict(name=b.name, version=b.version, models=b.models, samples=b.samples,  # noqa: E731
                            cost_bounds=b.cost_bounds, provenance=b.provenance, output_tokens=b.output_tokens,
                            parts=b.parts)
    with pytest.raises(evaluator.BundleError, match="have train/dev samples"):
        evaluator.Bundle(**kwargs(heldout), quality=heldout.quality, cost=heldout.cost, unseen_datasets=("MMBench",))
    with pytest.raises(evaluator.BundleError, match="no samples"):
        evaluator.Bundle(**kwargs(heldout), quality=heldout.quality, cost=heldout.cost, unseen_datasets=("Nope",))
    leaky = newmodels.quality.copy()
    leaky[np.flatnonzero(newmodels.samples.split == "train")[0], -1] = 1.0
    with pytest.raises(evaluator.BundleError, match="outside the calibration set"):
        evaluator.Bundle(**kwargs(newmodels), quality=leaky, cost=newmodels.cost,
                         calibration_ids=newmodels.calibration_ids)
    with pytest.raises(evaluator.BundleError, match="no model is unseen"):
        evaluator.Bundle(**{**kwargs(newmodels), "models": [replace(m, unseen=False) for m in newmodels.models]},
                         quality=np.nan_to_num(newmodels.quality), cost=np.nan_to_num(newmodels.cost, nan=1e-4),
                         calibration_ids=newmodels.calibration_ids)


def test_validation_accepts_the_new_models_where_they_exist(newmodels, sim_bundle, tmp_path):
    from submissions.config import Settings
    from submissions.service import SubmissionService

    service = SubmissionService(Settings(database_url=f"sqlite:///{tmp_path / 'db.sqlite'}", store_dir=tmp_path / "s"),
                                tracks=["vlrb-sim", gen.NEWMODELS])
    for track, bundle in ((gen.NEWMODELS, newmodels), ("vlrb-sim", sim_bundle)):
        ids = bundle.samples.loc[bundle.samples.split == "test", "sample_id"]
        data = pd.DataFrame({"sample_id": ids, "model_id": "frontier-vl-pro"}).to_csv(index=False).encode()
        result = service.validate(bundle.track_id, "p.csv", data)
        if track == gen.NEWMODELS:
            assert result.ok, result.summary()
        else:
            assert [p.code for p in result.problems] == ["unknown_model_id"], result.summary()


def test_dev_scoring_refuses_decisions_on_unlabelled_cells(newmodels):
    dev = newmodels.samples[newmodels.samples.split == "dev"]
    frame = pd.DataFrame({"sample_id": dev["sample_id"], "model_id": "Atlas-VL-2B"})
    with pytest.raises(evaluator.PredictionError, match="unseen models only on its 64 calibration samples") as err:
        evaluator.score(newmodels, frame, "dev", replicates=0)
    assert [p.code for p in err.value.problems] == ["unlabelled_model"]
    calib = frame["sample_id"].isin(newmodels.calibration_ids)
    ok = frame.assign(model_id=np.where(calib, "Atlas-VL-2B", "GPT-4o"))  # new model on its calibration set only
    assert 0 < evaluator.score(newmodels, ok, "dev", replicates=0).points[0].accuracy < 1
    # the oracle on dev never picks an unknown cell
    refs = evaluator.score_references(newmodels, "dev", replicates=0)
    assert np.isfinite(refs["Oracle"].points[0].accuracy) and refs["Oracle"].points[0].accuracy > 0.9


def test_held_out_groups_are_exact_for_references_and_laddered_for_routers(heldout):
    test = heldout.split_rows("test:public")
    names = heldout.samples["dataset"].to_numpy()[test]
    held = np.isin(names, heldout.unseen_datasets)
    refs = score_references_for_board(heldout)["public"]
    j = heldout.model_ids.index("GPT-4o")
    groups = refs["GPT-4o"]["points"][0][REPORT_KEY]
    q = heldout.quality[test, j]
    assert groups[HELD_OUT]["accuracy"] == pytest.approx(q[held].mean(), abs=1e-12)
    assert groups[IN_DISTRIBUTION]["accuracy"] == pytest.approx(q[~held].mean(), abs=1e-12)
    assert groups[HELD_OUT]["n"] == held.sum() and groups[IN_DISTRIBUTION]["n"] == (~held).sum()
    # a router's file through the Ladder: group accuracy coarsened, no group cost
    n_test = heldout.split_rows("test").size
    choices = np.where(np.isin(heldout.samples["dataset"].to_numpy()[heldout.split_rows("test")],
                               heldout.unseen_datasets), j, heldout.model_ids.index("Qwen2.5-VL-32B-Instruct"))
    shown = score_for_board(heldout, evaluator.Decisions("test", ["p"], choices[None, :])).public
    p = shown["points"][0][REPORT_KEY]
    for group, mask in ((HELD_OUT, held), (IN_DISTRIBUTION, ~held)):
        step = group_step(int(mask.sum()), 8)
        assert p[group]["cost"] is None and p[group]["rank_score"] is None and p[group]["step"] == step
        exact = heldout.quality[test[mask], choices[np.searchsorted(heldout.split_rows("test"), test[mask])]].mean()
        assert abs(p[group]["accuracy"] - exact) <= step / 2 + 1e-12
        assert round(p[group]["accuracy"] / step, 6) == round(p[group]["accuracy"] / step)  # a multiple of its step
    assert n_test == len(choices)


def test_tracks_without_held_out_datasets_get_no_such_group(sim_bundle):
    report = {"points": [{"per_dataset": {"MMBench": {"accuracy": 0.5, "cost": 1e-4, "n": 10}}}]}
    assert REPORT_KEY not in with_heldout_groups(sim_bundle, report)["points"][0]


def test_starters_train_and_route_to_new_models_without_nan(newmodels):
    from submissions.routers.features import dataset_onehot, image_statistics
    from submissions.routers.sweep import train_sweep

    public = evaluator.load_bundle(gen.NEWMODELS, hidden=False)
    features = np.concatenate([image_statistics(np.asarray(public.images)), dataset_onehot(public)], axis=1)
    lookup = evaluator.score_references(newmodels, "test", replicates=0)["StrongestPerDataset"].points[0]
    for router in ("knn", "linear", "mlp"):
        result = train_sweep(public, router, target="test", features=features, progress=False)
        assert all(np.isfinite(v) for v in result.dev_rank_scores.values()), result.dev_rank_scores
        picks = result.predictions["model_id"]
        assert picks.isin(public.unseen_models).mean() > 0.05, router  # the new models are used
        assert picks[result.predictions.point == "lambda=inf"].eq("Atlas-VL-2B").mean() > 0.9  # the cheapest: new
        report = evaluator.score(newmodels, result.predictions, "test", replicates=0)
        assert max(p.rank_score for p in report.points) > lookup.rank_score, router


def test_held_out_samples_get_no_dataset_column(heldout):
    from submissions.routers.features import dataset_onehot

    onehot = dataset_onehot(evaluator.load_bundle(gen.HELDOUT, hidden=False))
    held = heldout.samples["dataset"].isin(heldout.unseen_datasets).to_numpy()
    assert onehot.shape[1] == heldout.samples["dataset"].nunique() - len(heldout.unseen_datasets)
    assert not onehot[held].any() and (onehot[~held].sum(axis=1) == 1).all()


def test_public_split_of_each_track_publishes_and_reads_back(tmp_path):
    datasets = pytest.importorskip("datasets")
    from leaderboard.cli import main
    from leaderboard.hub import bundle_from_folder

    for track in (gen.HELDOUT, gen.NEWMODELS):
        full = evaluator.load_bundle(track, hidden=False)
        rng = np.random.default_rng(0)
        s = full.samples
        rows = np.concatenate([rng.choice(np.flatnonzero(s.split == sp), k, replace=False)
                               for sp, k in (("train", 300), ("dev", 100), ("test", 200))])
        if full.calibration_ids:  # keep the calibration samples (a slice must stay a valid bundle)
            rows = np.union1d(rows, full.row_index().get_indexer(list(full.calibration_ids)))
        sub = full.subset(rows)
        path = sub.save(tmp_path / f"{track}-bundle")
        out = tmp_path / f"{track}-repo"
        assert main(["publish", "--track", str(path), "--out", str(out)]) == 0
        ds = datasets.load_dataset(str(out), "samples")
        test = ds["test"].to_pandas()
        assert test["quality"].isna().all() and test["cost"].isna().all()
        card = (out / "README.md").read_text()
        assert "Simulated data" in card and "Generalisation: unseen in train and dev" in card
        back = bundle_from_folder(out)
        assert back.unseen_datasets == sub.unseen_datasets and back.unseen_models == sub.unseen_models
        assert back.calibration_ids == sub.calibration_ids
        assert [m.card for m in back.models] == [m.card for m in sub.models]
        order = back.row_index().get_indexer(sub.samples["sample_id"])
        labelled = (sub.samples.split != "test").to_numpy()
        np.testing.assert_array_equal(back.quality[order][labelled], sub.quality[labelled])  # NaN where unknown too
        if track == gen.HELDOUT:
            text = (ds["test"].to_pandas()["image_ref"] == "").to_numpy()
            assert text.any() and all(cell is None for cell in np.asarray(ds["test"]["image"], dtype=object)[text])
            assert not back.images[order][(sub.samples.image_ref == "").to_numpy()].any()
        else:
            models = datasets.load_dataset(str(out), "models")["train"].to_pandas()
            assert models["unseen"].sum() == len(gen.NEW_MODELS)
