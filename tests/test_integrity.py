"""Integrity of the hidden test set: parts are secret, user scores are shown only as the Ladder
releases them (per point), private scores appear nowhere before a release, releases publish exactly
the chosen finals, and an existing database upgrades in place."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import select, text

import evaluator
from conftest import make_settings
from evaluator.parts import PRIVATE_SPLIT, PUBLIC_SPLIT
from submissions import queue as jobs
from submissions.models import PrivatePoint, ResultPoint, Submission
from submissions.service import ServiceError, SubmissionMeta, SubmissionService
from submissions.worker import Worker

ADMIN = "admin"


def routing(bundle, *points: tuple[str, dict[int, str] | str]) -> bytes:
    """A test-split file; each point routes every sample to a model, with per-position overrides."""
    ids = bundle.samples.loc[bundle.samples.split == "test", "sample_id"].to_numpy()
    frames = []
    for label, spec in points:
        base, overrides = (spec, {}) if isinstance(spec, str) else (spec["*"], spec)
        models = np.full(ids.size, base, dtype=object)
        for pos, model in overrides.items():
            if pos != "*":
                models[pos] = model
        frames.append(pd.DataFrame({"sample_id": ids, "model_id": models, "point": label}))
    return pd.concat(frames).to_csv(index=False).encode()


def random_routing(bundle, seed: int, models=("Gemini-Flash-2.5", "Qwen2.5-VL-72B-Instruct")) -> bytes:
    ids = bundle.samples.loc[bundle.samples.split == "test", "sample_id"].to_numpy()
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"sample_id": ids, "model_id": np.asarray(models)[rng.integers(0, 2, ids.size)]}
                        ).to_csv(index=False).encode()


@pytest.fixture()
def service(db_url, tmp_path, sim_bundle):
    return SubmissionService(make_settings(db_url, tmp_path, admins=frozenset({ADMIN})))


def drain(service, sim_sources) -> None:
    Worker(service.settings, sim_sources).run(stop_when_idle=True)


def submit(service, user, name, data, router=None) -> int:
    res = service.submit(user, service.default_track, name, data, SubmissionMeta(router or name))
    assert res.accepted, res.message
    return res.submission_id


# ------------------------------------------------------------------------------------ secrecy
def test_parts_are_in_no_public_artifact(sim_bundle, tmp_path):
    from evaluator.tracks import builtin_track_dir
    from leaderboard.hub import publish_folder

    root = builtin_track_dir("vlrb-sim")
    public = evaluator.load_bundle("vlrb-sim", hidden=False)
    assert public.parts is None and "part" not in public.samples.columns
    published = publish_folder(public, tmp_path / "hub")
    for folder in (root / "public", published):
        for f in folder.rglob("*.parquet"):
            frame = pd.read_parquet(f)
            assert "part" not in frame.columns, f
            for col in frame.select_dtypes(include=["object", "string"]):
                values = set(frame[col].dropna().astype(str).unique()[:1000])
                assert not {"public", "private"} <= values, (f, col)
    from leaderboard.tabs import Ctx, example_file

    service = SubmissionService(make_settings(f"sqlite:///{tmp_path / 'db.sqlite'}", tmp_path))
    example = pd.read_csv(example_file(Ctx(service), service.default_track))
    assert list(example.columns) == ["sample_id", "model_id"]  # the docs' example file: ids only
    card = (published / "README.md").read_text(encoding="utf-8")
    assert "part" not in json.loads(card.rsplit("<!-- routerboard: ", 1)[1].split(" -->", 1)[0])
    assert (root / "hidden" / "parts.parquet").exists()


def test_old_bundles_say_how_to_upgrade(tmp_path, capsys):
    """A format-1 bundle (part labels in the public samples) is refused with the fix, and
    `routerboard upgrade-bundle` moves the labels into hidden/ keeping them as they were."""
    from evaluator.bundle import _write_parquet
    from helpers import make_bundle
    from leaderboard.cli import main

    b = make_bundle(np.ones((8, 2)), np.ones((8, 2)), splits=["train"] * 4 + ["test"] * 4,
                    parts=[""] * 4 + ["public", "private", "private", "public"])
    path = b.save(tmp_path / "old")
    meta = json.loads((path / "public" / "bundle.json").read_text())
    meta["format_version"] = 1
    (path / "public" / "bundle.json").write_text(json.dumps(meta))
    samples = pd.read_parquet(path / "public" / "samples.parquet")
    samples["part"] = b.parts.astype(str)
    _write_parquet(samples, path / "public" / "samples.parquet")
    (path / "hidden" / "parts.parquet").unlink()
    with pytest.raises(evaluator.BundleError, match="upgrade-bundle"):
        evaluator.load_bundle(path)
    assert main(["upgrade-bundle", str(path)]) == 0
    again = evaluator.load_bundle(path)
    assert list(again.parts) == list(b.parts)
    assert "part" not in pd.read_parquet(path / "public" / "samples.parquet").columns


def test_importers_partition_test_rows_secretly_and_stratified(sim_bundle):
    from evaluator.parts import assign_parts

    samples = sim_bundle.samples
    parts = assign_parts(samples)
    # the default seed is secret (drawn anew): two default partitions differ; a given seed reproduces one,
    # whatever the row order
    assert not np.array_equal(parts, assign_parts(samples))
    seeded = assign_parts(samples, seed=7)
    assert np.array_equal(seeded, assign_parts(samples.iloc[::-1], seed=7)[::-1])
    test = samples.split.to_numpy() == "test"
    by_dataset = pd.Series(parts[test] == "public").groupby(samples.dataset.to_numpy()[test]).mean()
    assert ((by_dataset - 0.5).abs() <= 0.01).all()
    assert set(parts[~test]) == {""}


# ------------------------------------------------------------------------------------ the Ladder
def test_a_multi_point_file_is_laddered_per_point(service, sim_sources, sim_bundle):
    sid = submit(service, "alice", "curve.csv", routing(
        sim_bundle, ("gemini", "Gemini-Flash-2.5"), ("gemini+1", {"*": "Gemini-Flash-2.5", 0: "GPT-4o"}),
        ("janus", "Janus-Pro-1B")))
    drain(service, sim_sources)
    view = service.status(sid, "alice")
    assert view.status == "DONE"
    # most expensive first: Gemini with one sample on GPT-4o is released, plain Gemini differs from it
    # in one sample and is held, Janus is far cheaper and released
    assert sorted(p["point"] for p in view.points) == ["gemini+1", "janus"]
    assert view.held == [{"point": "gemini"}]
    # a second file that differs from a released point in one sample per dataset is held entirely
    ids = sim_bundle.samples.loc[sim_bundle.samples.split == "test"]
    first_per_dataset = ids.reset_index(drop=True).groupby("dataset").head(1).index
    probe = {"*": "Gemini-Flash-2.5", **{int(i): "GPT-4o" for i in first_per_dataset}}
    sid2 = submit(service, "alice", "probe.csv", routing(sim_bundle, ("probe", probe)))
    drain(service, sim_sources)
    probe_view = service.status(sid2, "alice")
    assert probe_view.points == [] and probe_view.held == [{"point": "probe"}]
    rows = service.leaderboard_rows()
    assert sid2 not in {r["submission_id"] for r in rows}
    # the held probe's values are nowhere: neither stored for the board nor in any view
    with service.factory() as s:
        (rp,) = s.execute(select(ResultPoint).where(ResultPoint.submission_id == sid2)).scalars()
    assert not rp.released and rp.accuracy is None and rp.cost is None


def test_withdrawing_does_not_reset_the_ladder(service, sim_sources, sim_bundle):
    first = submit(service, "alice", "a.csv", routing(sim_bundle, ("x", "Gemini-Flash-2.5")))
    drain(service, sim_sources)
    service.withdraw("alice", first)
    second = submit(service, "alice", "b.csv", routing(sim_bundle, ("y", {"*": "Gemini-Flash-2.5", 3: "GPT-4o"})))
    drain(service, sim_sources)
    assert service.status(second, "alice").held == [{"point": "y"}]
    # another user's Ladder is their own
    other = submit(service, "bob", "b.csv", routing(sim_bundle, ("y", {"*": "Gemini-Flash-2.5", 3: "GPT-4o"})))
    drain(service, sim_sources)
    assert [p["point"] for p in service.status(other, "bob").points] == ["y"]


def test_an_admin_rerun_keeps_the_files_points_on_its_ladder(service, sim_sources, sim_bundle):
    """While a file is re-run its released points stay on its owner's Ladder (a re-run is no way to
    reset it), and the re-run is not judged against its own old points."""
    first = submit(service, "alice", "a.csv", routing(sim_bundle, ("x", "Gemini-Flash-2.5")))
    drain(service, sim_sources)
    service.rerun(ADMIN, first)
    assert first not in {r["submission_id"] for r in service.leaderboard_rows()}  # off the board while pending
    twin = submit(service, "alice", "b.csv", routing(sim_bundle, ("x", {"*": "Gemini-Flash-2.5", 9: "GPT-4o"})))
    # the twin is judged first (it was queued later, but run it alone) against the pending file's points
    assert jobs.claim(service.factory, "w", lease_seconds=60, max_attempts=3).submission_id == first
    jobs.release(service.factory, first, "w")
    Worker(service.settings, sim_sources).run(stop_when_idle=True)
    assert service.status(twin, "alice").held == [{"point": "x"}]
    again = service.status(first, "alice")
    assert again.status == "DONE" and [p["point"] for p in again.points] == ["x"]  # not held by itself


def test_a_file_judged_against_an_outdated_ladder_is_judged_again(service, sim_bundle):
    """Two files of one participant scored at once: the second to finish finds the Ladder moved
    and writes nothing (the worker then judges it again)."""
    a = submit(service, "alice", "a.csv", random_routing(sim_bundle, 1))
    b = submit(service, "alice", "b.csv", random_routing(sim_bundle, 2))
    track_id = service.track_ids[service.default_track]
    state = jobs.ladder_state(service.factory, track_id, "user:alice")
    assert state.version == 0 and state.refs == []
    report = {"points": [{"point": "default", "accuracy": 0.7, "cost": 0.001, "total_cost": 2.0, "rank_score": 0.6}],
              "point_order": ["default"]}
    for sid in (a, b):
        assert jobs.claim(service.factory, f"w{sid}", lease_seconds=60, max_attempts=3).submission_id == sid
    assert jobs.complete(service.factory, a, f"w{a}", report, ladder=state)
    with pytest.raises(jobs.StaleLadder):
        jobs.complete(service.factory, b, f"w{b}", report, ladder=state)
    assert service.status(b, "alice").status == "RUNNING"
    fresh = jobs.ladder_state(service.factory, track_id, "user:alice")
    assert fresh.version == 1 and [r["point"] for r in fresh.refs] == ["default"]
    assert jobs.complete(service.factory, b, f"w{b}", report, ladder=fresh)


# ------------------------------------------------------------------------------------ private part
def _private_values(service, sid) -> list[float]:
    with service.factory() as s:
        pts = s.execute(select(PrivatePoint).where(PrivatePoint.submission_id == sid)).scalars().all()
    values = []
    for p in pts:
        values += [p.accuracy, p.cost, p.rank_score, p.total_cost, *(g["accuracy"] for g in (p.per_family or {}).values())]
    return values


def _everything_shown(service, user) -> str:
    from leaderboard.columns import columns_for, default_labels
    from leaderboard.hub import results_frame
    from leaderboard.tables import csv_export, raw_frame

    track = service.default_track
    rows = service.leaderboard_rows(track)
    families = sorted(service.bundle(track).samples.family.unique())
    cols = columns_for(families)
    csv = open(csv_export(raw_frame(rows, families), cols, [c.label for c in cols])).read()
    views = [service.status(r["submission_id"], user).to_dict() for r in rows]
    mine = [v.to_dict() for v in service.list_mine(user)]
    slices = [service.slice_points(track, "family", f) for f in families]
    export = results_frame(rows, track).to_json()
    return json.dumps([rows, views, mine, slices, default_labels(cols)], default=str) + csv + export


def test_private_scores_appear_nowhere_before_a_release(service, sim_sources, sim_bundle):
    sid = submit(service, "alice", "r.csv", random_routing(sim_bundle, 5))
    drain(service, sim_sources)
    private = _private_values(service, sid)
    assert private and service.status(sid, "alice").points
    shown = _everything_shown(service, "alice")
    # no answer lists test samples at all, so none can pair a sample with its part
    test_ids = sim_bundle.samples.loc[sim_bundle.samples.split == "test", "sample_id"]
    assert not any(i in shown for i in test_ids.iloc[::50])
    for v in private:
        for form in (repr(v), f"{v:.6g}", f"{100 * v:.6g}"):
            assert form not in shown, (v, form)
    release = service.cut_release(ADMIN, note="first")
    rows = service.release_rows(release["id"])
    mine = next(r for r in rows if r["submission_id"] == sid)
    assert mine["accuracy"] == pytest.approx(round(private[0], 3), abs=1e-12)  # revealed, at the Ladder's precision


# ------------------------------------------------------------------------------------ releases
def test_a_release_publishes_exactly_the_chosen_finals(service, sim_sources, sim_bundle):
    a1 = submit(service, "alice", "a1.csv", routing(sim_bundle, ("x", "Qwen2.5-VL-32B-Instruct")), "A one")
    a2 = submit(service, "alice", "a2.csv", routing(sim_bundle, ("x", "Gemini-Flash-2.5")), "A two")
    a3 = submit(service, "alice", "a3.csv", routing(sim_bundle, ("lo", "Janus-Pro-1B"), ("hi", "GPT-4o")), "A three")
    b1 = submit(service, "bob", "b1.csv", routing(sim_bundle, ("x", "Gemini-Flash-2.5"), ("y", "MiMo-VL-7B-RL")),
                "B one")
    drain(service, sim_sources)
    with pytest.raises(ServiceError, match="admin"):
        service.cut_release("alice")
    service.select_final("alice", a1)
    service.select_final("alice", a3)
    with pytest.raises(ServiceError, match="2 final"):
        service.select_final("alice", a2)
    with pytest.raises(ServiceError, match="of yours"):
        service.select_final("bob", a2)
    release = service.cut_release(ADMIN, note="round 1")
    rows = service.release_rows(release["id"])
    users = {r["submission_id"] for r in rows if r["kind"] == "user"}
    assert users == {a1, a3, b1}  # bob chose none: his best shown one
    assert {r["router"] for r in rows if r["kind"] == "reference"} >= set(sim_bundle.model_ids)
    with service.factory() as s:
        subs = {sid: s.get(Submission, sid) for sid in (a1, a3, b1)}
        for r in rows:
            if r["submission_id"] not in subs:
                continue
            sub = subs[r["submission_id"]]
            head = s.execute(select(PrivatePoint).where(PrivatePoint.submission_id == sub.id,
                                                        PrivatePoint.point == sub.best_point)).scalar_one()
            # the private score of the entry's best *shown* point, at the Ladder's precision
            assert r["point"] == head.point and r["accuracy"] == pytest.approx(round(head.accuracy, 3), abs=1e-12)
            assert r["cost"] == pytest.approx(float(f"{head.cost:.3g}"), rel=1e-12) and r["points"] == [
                {"point": head.point, "accuracy": r["accuracy"], "cost": r["cost"], "total_cost": r["cost"] * head.n,
                 "rank_score": r["rank_score"]}]  # that one point only, not the file's other points
            assert r["accuracy"] != head.accuracy
    # the three-point file: GPT-4o ("hi") was held (dearer and less accurate than alice's Gemini file),
    # so the release scores its only shown point, Janus ("lo")
    three = next(r for r in rows if r["submission_id"] == a3)
    assert three["point"] == "lo" and [p["point"] for p in service.status(a3, "alice").points] == ["lo"]
    assert [r["private_rank"] for r in rows] == list(range(1, len(rows) + 1))
    assert rows == sorted(rows, key=lambda r: -r["rank_score"])
    live = {r["submission_id"]: k + 1 for k, r in enumerate(service.leaderboard_rows())}
    for r in rows:
        assert r["public_rank"] == live.get(r["submission_id"])
        assert r["shift"] == (None if r["public_rank"] is None else r["public_rank"] - r["private_rank"])
    # releases are kept: a later one does not change an earlier one
    service.select_final("alice", a3, selected=False)
    second = service.cut_release(ADMIN)
    assert [r["id"] for r in service.releases()] == [second["id"], release["id"]]
    assert service.release_rows(release["id"]) == rows
    assert a3 not in {r["submission_id"] for r in service.release_rows(second["id"])}


# ------------------------------------------------------------------------------------ migration
def test_an_existing_database_upgrades_in_place(db_url, tmp_path, sim_bundle, sim_sources):
    """A database at revision 0001 with scored submissions: the upgrade keeps every submission and
    re-queues the scored ones, whose old whole-test results must not be shown any more."""
    from alembic import command
    from sqlalchemy import create_engine

    from submissions.db import alembic_config, connect

    settings = make_settings(db_url, tmp_path)
    engine = create_engine(settings.database_url)
    with engine.begin() as conn:
        cfg = alembic_config(settings.database_url)
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0001")
    store_dir = tmp_path / "store"
    from submissions.store import FileStore

    digest = FileStore(store_dir).put(routing(sim_bundle, ("x", "Gemini-Flash-2.5")))
    now = "2026-11-01 10:00:00"
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO users (id, username, display_name, is_admin, created_at) VALUES "
                          "(1, 'alice', 'alice', false, :t), (2, 'routerboard', 'routerboard', false, :t)"), {"t": now})
        conn.execute(text("INSERT INTO tracks (id, name, version, public_path, simulated, created_at) VALUES "
                          "(1, :n, :v, 'x', true, :t)"), {"n": sim_bundle.name, "v": sim_bundle.version, "t": now})
        common = ("owner_id, track_id, kind, split, router_name, team, router_type, paper_url, code_url, description, "
                  "uses_images, file_sha256, file_format, file_gzip, file_size, dedup_key, status, attempts, "
                  "visibility, created_at, n_points")
        conn.execute(text(f"INSERT INTO submissions (id, {common}) VALUES "
                          f"(7, 1, 1, 'user', 'test', 'old router', 'T', 'rule', '', '', 'd', false, :h, 'csv', false, "
                          f"10, :h, 'DONE', 1, 'public', :t, 1), "
                          f"(8, 1, 1, 'user', 'test', 'broken', '', 'rule', '', '', '', false, NULL, 'csv', false, "
                          f"10, 'k8', 'FAILED', 0, 'public', :t, 0), "
                          f"(9, 2, 1, 'reference', 'test', 'GPT-4o', 'single model', 'other', '', '', '', false, NULL, "
                          f"'', false, 0, 'reference:GPT-4o', 'DONE', 1, 'public', :t, 1)"), {"h": digest, "t": now})
        conn.execute(text("INSERT INTO result_points (id, submission_id, point, point_order, accuracy, cost, total_cost, "
                          "rank_score) VALUES (1, 7, 'x', 0, 0.7654321, 0.001, 4.5, 0.7), "
                          "(2, 9, 'default', 0, 0.71, 0.003, 13.0, 0.5)"))
        conn.execute(text("INSERT INTO breakdowns (result_point_id, level, name, accuracy, cost, rank_score, n) "
                          "VALUES (1, 'family', 'STEM', 0.8, 0.001, 0.7, 100)"))
        if conn.dialect.name == "postgresql":  # rows were inserted with explicit ids: move the sequences on
            for table in ("users", "tracks", "submissions", "result_points"):
                conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), 100)"))
    engine.dispose()
    _, factory = connect(settings.database_url)  # upgrades to head
    with factory() as s:
        subs = {x.id: x for x in s.execute(select(Submission)).scalars()}
        assert set(subs) == {7, 8}  # the reference entry goes; it is scored again by the worker
        assert (subs[7].router_name, subs[7].description, subs[7].file_sha256, subs[7].status) == (
            "old router", "d", digest, "PENDING")
        assert subs[7].ladder_key == "user:alice" and subs[8].status == "FAILED"
        assert s.execute(select(ResultPoint)).first() is None
    service = SubmissionService(settings)
    assert service.status(7, "alice").queue_position == 1
    drain(service, sim_sources)
    view = service.status(7, "alice")
    assert view.status == "DONE" and view.points[0]["accuracy"] != 0.7654321
    public = sim_bundle.split_rows(PUBLIC_SPLIT)
    j = sim_bundle.model_ids.index("Gemini-Flash-2.5")
    assert view.points[0]["accuracy"] == pytest.approx(round(sim_bundle.quality[public, j].mean(), 3), abs=1e-12)
    assert "GPT-4o" in {r["router"] for r in service.leaderboard_rows()}


# ------------------------------------------------------------------------------------ a real curve
@pytest.fixture(scope="module")
def large_slice(sim_bundle):
    """A slice of the default track with a large test split: 2,400 train, 500 dev, 2,400 test."""
    from helpers import track_slice

    return track_slice(sim_bundle, 1, train=2400, dev=500, test=2400)


def test_an_honest_starter_curve_keeps_its_shape(large_slice):
    """A real 12-point λ sweep of a starter router, laddered as one first file: most points are
    released, and the shown curve's frontier metrics stay close to the exact public ones."""
    from evaluator.board import score_for_board
    from evaluator.predictions import restrict
    from submissions.routers.sweep import train_sweep

    res = train_sweep(large_slice, "linear", progress=False)
    decisions = evaluator.decisions_from_frame(large_slice, res.predictions, "test")
    board = score_for_board(large_slice, decisions)
    exact = evaluator.score_decisions(large_slice, restrict(large_slice, decisions, PUBLIC_SPLIT), replicates=0)
    released = board.public["points"]
    assert len(decisions.points) == 12 and len(released) >= 9, [v for v in board.verdicts]
    # the most accurate point shows, the cheap end is covered, and the frontier metrics match
    assert max(p["accuracy"] for p in released) == pytest.approx(max(p.accuracy for p in exact.points), abs=6e-4)
    assert min(p["cost"] for p in released) <= 1.2 * min(p.cost for p in exact.points)
    assert board.public["curve"]["ps"] == pytest.approx(exact.curve.ps, abs=6e-4)
    assert board.public["curve"]["nauc"] == pytest.approx(exact.curve.nauc, abs=0.005)
    # the private report covers every point, exactly
    private = evaluator.score_decisions(large_slice, restrict(large_slice, decisions, PRIVATE_SPLIT), replicates=0)
    assert [p["accuracy"] for p in board.private["points"]] == pytest.approx([p.accuracy for p in private.points])
    assert math.isfinite(board.public["curve"]["nauc"])


def test_released_points_are_reread_from_compact_decisions(service, sim_sources, sim_bundle):
    """A participant's released points are judged against from a compact copy of each file's
    decisions (int16, no parse), so many earlier files cost a new job milliseconds each."""
    first = submit(service, "alice", "a.csv", routing(sim_bundle, ("x", "Gemini-Flash-2.5"), ("y", "Janus-Pro-1B")))
    drain(service, sim_sources)
    with service.factory() as s:
        digest = s.get(Submission, first).file_sha256
    compact = service.store.root / "decisions" / digest[:2] / f"{digest}.npz"
    with np.load(compact, allow_pickle=False) as z:
        assert z["choices"].dtype == np.int16 and list(z["points"]) == ["x", "y"]
    service.store.path_for(digest).unlink()  # the upload itself is not needed any more to judge against it
    second = submit(service, "alice", "b.csv", routing(sim_bundle, ("z", {"*": "Gemini-Flash-2.5", 5: "GPT-4o"})))
    drain(service, sim_sources)
    view = service.status(second, "alice")
    assert view.status == "DONE" and view.held == [{"point": "z"}]
