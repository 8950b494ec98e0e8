"""Throughput: self-reported with the hardware on a submission, measured for the starter routers,
shown on the table (a dash without it), sortable and filterable."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from conftest import make_settings
from leaderboard.columns import columns_for, default_labels
from leaderboard.tables import NO_VALUE, apply_filters, csv_export, display_frame, raw_frame, sort_frame
from submissions.service import SubmissionMeta, SubmissionService
from submissions.status import Throughput
from submissions.worker import Worker, seed_starters

FAMILIES = ["Charts & OCR/Document", "General", "STEM"]


def _file(bundle, model):
    ids = bundle.samples.loc[bundle.samples.split == "test", "sample_id"]
    return pd.DataFrame({"sample_id": ids, "model_id": model}).to_csv(index=False).encode()


@pytest.mark.parametrize("meta, code", [
    (SubmissionMeta("r", throughput=12.0), "missing_hardware"),
    (SubmissionMeta("r", throughput=-3.0, hardware="A100"), "bad_throughput"),
    (SubmissionMeta("r", throughput=float("inf"), hardware="A100"), "bad_throughput"),
    (SubmissionMeta("r", throughput=1e9, hardware="A100"), "bad_throughput"),
    (SubmissionMeta("r", throughput=5.0, hardware="A100\x00"), "control_characters"),
])
def test_bad_throughput_is_refused_with_a_reason(meta, code):
    assert code in [p.code for p in meta.problems()]


@pytest.fixture()
def starter_folder(sim_bundle):
    """The track's starter folder, emptied afterwards: every later worker would queue what is left there."""
    import shutil

    from submissions.routers.starters import starter_dir

    folder = starter_dir(sim_bundle.track_id)
    before = set(folder.glob("*")) if folder.exists() else set()
    yield folder
    for path in set(folder.glob("*")) - before:
        path.unlink() if path.is_file() else shutil.rmtree(path)


def test_throughput_on_the_board(db_url, tmp_path, sim_bundle, sim_sources, starter_folder):
    from submissions.routers.starters import write_starter

    service = SubmissionService(make_settings(db_url, tmp_path))
    track = service.default_track
    stated = service.submit("ann", track, "a.csv", _file(sim_bundle, "MiMo-VL-7B-RL"),
                            SubmissionMeta("Fast router", throughput=12.5, hardware="1x A100 80GB"))
    silent = service.submit("bo", track, "b.csv", _file(sim_bundle, "Gemma3-27B"), SubmissionMeta("Quiet router"))
    assert stated.accepted and silent.accepted
    ids = sim_bundle.samples.loc[sim_bundle.samples.split == "test", "sample_id"]
    write_starter(track, "linear", pd.DataFrame({"sample_id": ids, "model_id": "Pixtral-12B", "point": "lambda=1"}),
                  {"throughput": {"ktok_s": 310.0, "hardware": "2 CPU cores (x86_64), the leaderboard's own server"}})
    assert seed_starters(service.factory, str(service.settings.store_dir), service.track_ids[track], track) == 1
    Worker(service.settings, sim_sources).run(stop_when_idle=True)
    view = service.status(stated.submission_id, "ann")
    assert (view.throughput, view.throughput_source, view.throughput_hardware) == (
        12.5, Throughput.SELF_REPORTED.value, "1x A100 80GB")
    rows = {r["router"]: r for r in service.leaderboard_rows(track)}
    assert rows["Starter linear (λ sweep)"]["throughput_source"] == Throughput.MEASURED.value
    frame = raw_frame(list(rows.values()), FAMILIES)
    cols = columns_for(FAMILIES)
    shown, _ = display_frame(frame, cols, default_labels(cols))
    text = dict(zip(frame["router"], shown["Throughput (K tok/s)"]))
    assert text["Fast router"] == "12.5 · self-reported"
    assert text["Starter linear (λ sweep)"] == "310 · measured"
    assert text["Quiet router"] == NO_VALUE and text["GPT-4o"] == NO_VALUE
    # sorted on the number behind the text, blanks last; a floor keeps only entries that state one
    ordered = sort_frame(frame, cols, "Throughput (K tok/s)", descending=True)["router"].tolist()
    assert ordered[:2] == ["Starter linear (λ sweep)", "Fast router"]
    assert apply_filters(frame, min_throughput=20)["router"].tolist() == ["Starter linear (λ sweep)"]
    csv = pd.read_csv(csv_export(frame, cols, default_labels(cols), price_table="track (vlrb-sim@1.0)"))
    fast = csv[csv["Router"] == "Fast router"].iloc[0]
    assert fast["Throughput (K tok/s)"] == 12.5 and fast["Throughput measured by"] == "self-reported"
    assert fast["Throughput hardware"] == "1x A100 80GB" and set(csv["Price table"]) == {"track (vlrb-sim@1.0)"}


def test_starter_sweep_measures_its_own_throughput(sim_bundle):
    from submissions.routers.sweep import train_sweep

    small = sim_bundle.subset(np.concatenate([sim_bundle.split_rows(s)[:400] for s in ("train", "dev", "test")]))
    feats = np.random.default_rng(0).normal(size=(len(small.samples), 8)).astype(np.float32)
    result = train_sweep(small, "linear", features=feats, progress=False, lambdas=(0.0, 1.0))
    tp = result.throughput
    assert tp["queries"] == 400 and tp["tokens"] == small.samples["input_tokens"].to_numpy()[
        small.split_rows("test")].sum()
    assert tp["ktok_s"] == pytest.approx(tp["tokens"] / tp["seconds"] / 1000) and tp["ktok_s"] > 0
    assert "CPU cores" in tp["hardware"] and tp["encoded_questions"] is False
