"""A fresh board gets learned routers by itself: the app trains the missing starter routers in the
background, says so in its header, and the worker queues each file as soon as it exists — no manual
training, no restart."""

from __future__ import annotations

import json

import pytest
from gradio_client import Client

from app_server import running_app, wait_until
from helpers import routable_bundle
from submissions.routers import background
from submissions.routers.starters import list_starters


def tiny_track(path):
    b = routable_bundle(90, test=24)
    return b, b.save(path)


@pytest.fixture(autouse=True)
def own_data_dir(tmp_path, monkeypatch):
    """Starter files live in the data dir, keyed by track name@version: these tests get their own."""
    monkeypatch.setenv("ROUTERBOARD_DATA_DIR", str(tmp_path / "data"))


def test_trainer_writes_each_starter_records_progress_and_runs_once(tmp_path):
    bundle, path = tiny_track(tmp_path / "tiny")
    assert background.missing(bundle.track_id) == ["knn", "linear", "mlp"] and background.progress(bundle.track_id) is None
    assert background.train_missing(str(path), routers=("knn", "linear")) == ["knn", "linear"]
    assert [p.stem for _, p, _ in list_starters(bundle.track_id)] == ["knn", "linear"]
    done = background.progress(bundle.track_id)
    assert done["state"] == "done" and done["done"] == ["knn", "linear"] and background.status_text(bundle.track_id) == ""
    assert background.train_missing(str(path), routers=("knn", "linear")) == []  # kept with the track version
    background._write_progress(bundle.track_id, state="training", router="mlp", done=["knn", "linear"],
                               todo=["knn", "linear", "mlp"], started=0)
    assert background.status_text(bundle.track_id) == ""  # no live trainer: a stopped one says nothing
    lock = background._take_lock(bundle.track_id)  # held by this (live) process
    text = background.status_text(bundle.track_id)  # what the app's header says meanwhile
    lock.unlink()
    assert text.startswith("Training the starter routers in the background") and "Starter kNN, Starter linear ready" \
        in text and "Starter MLP training (2 of 3 ready" in text
    # a live trainer holds the track: a second one does nothing; a stale lock is taken over
    lock = background._take_lock(bundle.track_id)
    assert lock is not None and background._take_lock(bundle.track_id) is None
    lock.write_text("999999")  # a pid that is gone
    assert background.train_missing(str(path), routers=("mlp",)) == ["mlp"]


def test_a_fresh_app_puts_learned_routers_on_the_board_by_itself(tmp_path):
    bundle, path = tiny_track(tmp_path / "tiny")
    with running_app(tmp_path, {"ROUTERBOARD_TRACKS": str(path), "ROUTERBOARD_TRAIN_STARTERS": "1"}) as url:
        client = Client(url, verbose=False)
        track = client.predict(api_name="/tracks")[0]
        rows = wait_until(lambda: (lambda r: r if {x["router"] for x in r if x["kind"] == "starter"} >= {
            "Starter kNN (λ sweep)", "Starter linear (λ sweep)", "Starter MLP (λ sweep)"} else None)(
            client.predict(track, api_name="/leaderboard_rows")), timeout=300, interval=2,
            what="all three starter routers on the board")
    starters = [r for r in rows if r["kind"] == "starter"]
    assert all(r["n_points"] == 12 for r in starters)
    progress = json.loads((list_starters(bundle.track_id)[0][1].parent / background.PROGRESS).read_text())
    assert progress["state"] == "done"
