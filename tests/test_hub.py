"""Hub I/O and the command line: the public split as a dataset repo folder loaded with
``datasets.load_dataset``, read back exactly as it is on disk, the results export, the full
researcher round trip through a running app, and Hugging Face caches kept out of the user's home."""

import json
import math
import subprocess
import sys
import uuid
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

import evaluator
from app_server import running_app
from leaderboard.cli import main
from leaderboard.hub import bundle_from_folder, publish_folder

datasets = pytest.importorskip("datasets")


@pytest.fixture(scope="module")
def small_track(sim_bundle, tmp_path_factory):
    """A realistic slice of the default track saved as a bundle with its hidden part."""
    rng = np.random.default_rng(1)
    s = sim_bundle.samples
    rows = np.concatenate([rng.choice(np.flatnonzero(s.split == sp), k, replace=False)
                           for sp, k in (("train", 900), ("dev", 200), ("test", 300))])
    sub = sim_bundle.subset(rows)
    path = sub.save(tmp_path_factory.mktemp("small-track") / "bundle")
    return sub, path


@pytest.fixture(scope="module")
def published(small_track, tmp_path_factory):
    sub, path = small_track
    out = tmp_path_factory.mktemp("published") / "repo"
    assert main(["publish", "--track", str(path), "--out", str(out)]) == 0
    return out


def test_published_layout_loads_with_load_dataset(published, small_track):
    sub, _ = small_track
    ds = datasets.load_dataset(str(published), "samples")
    assert {k: len(v) for k, v in ds.items()} == {"train": 900, "dev": 200, "test": 300}
    assert {"sample_id", "dataset", "family", "question", "image", "quality", "cost", "input_tokens"} <= set(
        ds["train"].column_names)
    assert isinstance(ds["train"].features["image"], datasets.Image)
    # test labels never appear: no test row carries a quality or cost value
    test = ds["test"].to_pandas()
    assert test["quality"].isna().all() and test["cost"].isna().all() and test["output_tokens"].isna().all()
    first = ds["train"][0]
    row = sub.samples.index[sub.samples.sample_id == first["sample_id"]][0]
    np.testing.assert_allclose(first["quality"], sub.quality[row])
    assert first["image"].size == (16, 16)
    models = datasets.load_dataset(str(published), "models")["train"]
    assert len(models) == 17 and models[16]["model_id"] == "GPT-4o" and models[16]["output_price"] == 10.0


def test_dataset_card(published):
    card = (published / "README.md").read_text()
    meta = yaml.safe_load(card.split("---")[1])
    assert [c["config_name"] for c in meta["configs"]] == ["samples", "models"]
    assert meta["license"] == "cc-by-4.0" and "visual-question-answering" in meta["task_categories"]
    assert "| GPT-4o | - | 2.50 | 10.00 |" in card and "| train | 900 |" in card and "| test | 300 |" in card
    assert "Simulated data" in card and "huang2025vlrouterbench" in card


@pytest.mark.slow
def test_full_default_track_configs(sim_bundle, tmp_path):
    out = publish_folder(evaluator.load_bundle("vlrb-sim", hidden=False), tmp_path / "full")
    ds = datasets.load_dataset(str(out), "samples")
    assert sum(len(v) for v in ds.values()) == 30_540
    assert len(ds["test"]) == int((sim_bundle.samples.split == "test").sum())
    assert ds["test"].to_pandas()["quality"].isna().all()


def _published_slice(bundle, per_split: int, seed: int, out: Path):
    rng = np.random.default_rng(seed)
    s = bundle.samples
    sub = bundle.subset(np.concatenate([rng.choice(np.flatnonzero(s.split == sp), per_split, replace=False)
                                        for sp in ("train", "dev", "test")]))
    return sub, publish_folder(sub, out)


def _assert_same_public_split(got, want):
    for split in ("train", "dev", "test"):
        mine, theirs = got.split_rows(split), want.split_rows(split)
        assert got.samples.sample_id.to_numpy()[mine].tolist() == want.samples.sample_id.to_numpy()[theirs].tolist()
        np.testing.assert_array_equal(got.images[mine], want.images[theirs])
        if split != "test":
            np.testing.assert_array_equal(got.quality[mine], want.quality[theirs])
            np.testing.assert_array_equal(got.cost[mine], want.cost[theirs])
    assert np.isnan(got.quality[got.split_rows("test")]).all()


def test_folders_of_the_same_name_read_back_as_they_are_on_disk(sim_bundle, tmp_path, capsys):
    """huggingface/datasets#2956: ``load_dataset(folder)`` caches by the folder's name, so a second
    folder called ``repo`` read back as the first. Each must read back as what is on disk."""
    small, a = _published_slice(sim_bundle, 10, 2, tmp_path / "a" / "repo")
    large, b = _published_slice(sim_bundle, 20, 3, tmp_path / "b" / "repo")
    for want, folder in ((small, a), (large, b), (small, a)):
        got = bundle_from_folder(folder)
        assert len(got.samples) == len(want.samples)
        _assert_same_public_split(got, want)
    # a folder rewritten in place reads back rewritten
    publish_folder(large, a)
    _assert_same_public_split(bundle_from_folder(a), large)
    capsys.readouterr()
    assert main(["pull", str(b), "--dest", str(tmp_path / "c" / "repo")]) == 0
    assert "train: 20 samples" in capsys.readouterr().out


def test_a_hub_repo_id_still_goes_through_load_dataset(published, monkeypatch):
    import huggingface_hub

    calls, real = [], datasets.load_dataset

    def from_the_hub(path, name=None, **kwargs):  # the Hub, played by the published folder
        calls.append((path, name))
        return real(str(published), name)

    monkeypatch.setattr(datasets, "load_dataset", from_the_hub)
    monkeypatch.setattr(huggingface_hub, "hf_hub_download", lambda repo, filename, **kw: str(published / filename))
    got = bundle_from_folder("org/small-track")
    assert calls == [("org/small-track", "samples"), ("org/small-track", "models")]
    _assert_same_public_split(got, bundle_from_folder(published))
    assert got.model_ids == bundle_from_folder(published).model_ids


def test_hugging_face_caches_stay_in_the_suites_temporary_directory(tmp_path):
    """conftest points every Hugging Face cache into the session's temporary directory: here, in a
    subprocess the tests start, and for what ``load_dataset`` writes."""
    import huggingface_hub.constants
    from conftest import HF_HOME, REAL_HF_DATASETS_CACHE, REAL_HF_HOME

    here = [datasets.config.HF_DATASETS_CACHE, huggingface_hub.constants.HF_HUB_CACHE,
            huggingface_hub.constants.HF_TOKEN_PATH, datasets.config.HF_MODULES_CACHE]
    child = subprocess.run([sys.executable, "-c", "import datasets, huggingface_hub.constants as c; "
                            "print(datasets.config.HF_DATASETS_CACHE); print(c.HF_HUB_CACHE)"],
                           capture_output=True, text=True, check=True).stdout.split()
    for path in here + child:
        assert Path(path).resolve().is_relative_to(Path(HF_HOME).resolve()), path
        assert not Path(path).resolve().is_relative_to(REAL_HF_HOME.resolve()), path
    name = f"cache-probe-{uuid.uuid4().hex[:12]}"
    (tmp_path / name).mkdir()
    pd.DataFrame({"x": [1, 2, 3]}).to_parquet(tmp_path / name / "train.parquet")
    assert len(datasets.load_dataset(str(tmp_path / name))["train"]) == 3
    assert any(name in p.name for p in Path(datasets.config.HF_DATASETS_CACHE).iterdir())
    if REAL_HF_DATASETS_CACHE.is_dir():
        assert not any(name in p.name for p in REAL_HF_DATASETS_CACHE.iterdir())


def test_pull_copies_a_local_folder_and_refuses_others(published, tmp_path, capsys):
    assert main(["pull", str(published), "--dest", str(tmp_path / "pulled")]) == 0
    out = capsys.readouterr().out
    assert "train: 900 samples" in out and (tmp_path / "pulled" / "samples").is_dir()
    (tmp_path / "junk").mkdir()
    assert main(["pull", str(tmp_path / "junk"), "--dest", str(tmp_path / "p2")]) == 2
    assert "not a published" in capsys.readouterr().err


def test_publish_bad_track(tmp_path, capsys):
    assert main(["publish", "--track", str(tmp_path / "nothing"), "--out", str(tmp_path / "o")]) == 2
    assert "built-in tracks" in capsys.readouterr().err


def test_submit_to_nowhere(tmp_path, capsys):
    f = tmp_path / "p.csv"
    f.write_text("sample_id,model_id\n")
    assert main(["submit", str(f), "--url", "http://127.0.0.1:9/", "--name", "x"]) == 2
    assert "could not submit" in capsys.readouterr().err
    assert main(["submit", str(tmp_path / "missing.csv"), "--name", "x"]) == 2


def test_round_trip_publish_pull_train_validate_submit(small_track, published, tmp_path, capsys):
    """bundle → published folder → load_dataset → starter router trained on train → predictions on
    test → validate → submit to a running app → DONE with the evaluator's own scores."""
    from submissions.routers.sweep import train_sweep

    hidden_bundle, path = small_track
    public = bundle_from_folder(published)
    assert not public.has_hidden and np.isnan(public.quality[public.samples.split.to_numpy() == "test"]).all()
    result = train_sweep(public, "knn", lambdas=(0.0, 8.0, math.inf), progress=False)
    preds = tmp_path / "knn.csv"
    result.predictions.to_csv(preds, index=False)
    assert main(["validate", str(preds), "--bundle", str(path)]) == 0
    capsys.readouterr()
    with running_app(tmp_path, {"ROUTERBOARD_TRACKS": str(path)}) as url:
        code = main(["submit", str(preds), "--url", url, "--name", "kNN from the Hub split", "--type",
                     "feature-level", "--wait", "120"])
        out = capsys.readouterr().out
        assert code == 0, out
        finished = json.loads(out[out.rindex('{\n  "id"'):])
    # What `submit --wait` prints is what the board shows: the file's points as its Ladder (a
    # first submission: nothing released before) released them on the public part.
    from evaluator.board import score_for_board

    decisions = evaluator.decisions_from_frame(hidden_bundle, result.predictions, "test")
    shown = score_for_board(hidden_bundle, decisions).public
    assert finished["status"] == "DONE" and finished["points"]
    assert [p["point"] for p in finished["points"]] == [p["point"] for p in shown["points"]]
    assert finished["held"] == shown["held"]
    for got, want in zip(finished["points"], shown["points"]):
        for key in ("accuracy", "cost", "rank_score"):
            assert got[key] == pytest.approx(want[key], abs=1e-12)
        assert got["ci"]["rank_score"] == pytest.approx(want["ci"]["rank_score"], abs=1e-12)


def test_results_export_rebuilds_a_leaderboard(tmp_path, sim_bundle, sim_sources, capsys, monkeypatch):
    from conftest import make_settings
    from submissions.service import SubmissionService
    from submissions.worker import Worker

    settings = make_settings(f"sqlite:///{tmp_path / 'a.db'}", tmp_path)
    Worker(settings, sim_sources).run(stop_when_idle=True)  # reference entries
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.setenv("ROUTERBOARD_STORE_DIR", str(settings.store_dir))
    assert main(["publish-results", "--out", str(tmp_path / "results")]) == 0
    export = pd.read_parquet(tmp_path / "results" / "results" / "train-00000-of-00001.parquet")
    assert len(export) > 60 and set(export["kind"]) == {"reference"}
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'b.db'}")
    assert main(["import-results", str(tmp_path / "results")]) == 0
    assert main(["import-results", str(tmp_path / "results")]) == 0  # again: nothing doubled
    rebuilt = SubmissionService(make_settings(f"sqlite:///{tmp_path / 'b.db'}", tmp_path)).leaderboard_rows()
    original = SubmissionService(settings).leaderboard_rows()
    key = lambda rows: sorted((r["router"], p["point"], round(p["accuracy"], 12), round(p["cost"], 15),  # noqa: E731
                               round(p["total_cost"], 9)) for r in rows for p in r["points"])
    assert key(rebuilt) == key(original)
    assert main(["import-results", str(tmp_path / "nothing")]) == 2
