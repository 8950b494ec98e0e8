"""Price tables and re-pricing: stored token sums × a new table equal a full re-score with the cost
matrix rebuilt from tokens × that table (to 1e-9), on vlrb-sim and on a VL-RouterBench import."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import yaml

import evaluator
from evaluator.board import point_tokens, score_references_for_board
from evaluator.frontier import grouped_curve_metrics, nauc, pareto_frontier, qnc
from evaluator.importers import import_mmr, import_vlrb
from evaluator.parts import PUBLIC_SPLIT
from evaluator.predictions import Decisions
from evaluator.pricing import (PriceTableError, cost_matrix, parse_price_table, point_costs, price_tables_in,
                               pricing_basis, read_price_table, reprice, token_sums, track_table)
from evaluator.report import score_decisions

from test_importers import MODELS, write_vlrb


def _halved(bundle, model_id, name="cheaper"):
    own = track_table(bundle)
    j = own.model_ids.index(model_id)
    return own.with_prices({model_id: (own.input[j] / 2, own.output[j] / 2)}, name=name)


def _random_table(bundle, seed):
    rng = np.random.default_rng(seed)
    own = track_table(bundle)
    scale_in, scale_out = rng.uniform(0.2, 3, len(own.input)), rng.uniform(0.2, 3, len(own.output))
    return own.with_prices({m: (i * a, o * b) for m, i, o, a, b in
                            zip(own.model_ids, own.input, own.output, scale_in, scale_out)})


def _some_decisions(bundle, split, points=6, seed=0):
    rng = np.random.default_rng(seed)
    n = bundle.split_rows(split).size
    return Decisions(split, [f"p{k}" for k in range(points)], rng.integers(0, len(bundle.models), size=(points, n)))


@pytest.mark.parametrize("seed", [0, 1])
def test_reprice_equals_full_rescore_on_vlrb_sim(sim_bundle, seed):
    table = _random_table(sim_bundle, seed)
    full = reprice(sim_bundle, table)
    # the rebuilt matrix is tokens × prices, and under the track's own table it is the track's matrix
    assert np.allclose(reprice(sim_bundle, track_table(sim_bundle)).cost, sim_bundle.cost, rtol=1e-12)
    assert not np.allclose(full.cost, sim_bundle.cost)
    decisions = _some_decisions(sim_bundle, PUBLIC_SPLIT, seed=seed)
    rescored = score_decisions(full, decisions, replicates=0)
    inp, out = token_sums(sim_bundle, decisions)
    basis = pricing_basis(sim_bundle)
    costs = point_costs(inp, out, basis.n_public, table)
    assert np.allclose(costs, [p.cost for p in rescored.points], rtol=0, atol=1e-9)
    assert np.allclose(costs, [p.cost for p in rescored.points], rtol=1e-12)
    bounds = basis.bounds(table)
    assert (bounds.cmin, bounds.cmax) == (full.cost_bounds.cmin, full.cost_bounds.cmax)
    assert bounds == evaluator.CostBounds.from_costs(cost_matrix(
        sim_bundle.samples["input_tokens"].to_numpy(), sim_bundle.output_tokens, table))
    rs = evaluator.metrics.rank_score(np.array([p.accuracy for p in rescored.points]), costs, bounds.cmin, bounds.cmax)
    assert np.allclose(rs, [p.rank_score for p in rescored.points], rtol=0, atol=1e-9)


def test_bounds_follow_zero_and_one_sided_prices(sim_bundle):
    """Free models drop out of the bounds; input-only or output-only prices use the matching token extremes."""
    basis = pricing_basis(sim_bundle)
    x = sim_bundle.samples["input_tokens"].to_numpy()
    own = track_table(sim_bundle)
    cases = [own.with_prices({own.model_ids[0]: (0.0, 0.0)}),
             own.with_prices({own.model_ids[1]: (0.0, own.output[1]), own.model_ids[2]: (own.input[2], 0.0)}),
             own.with_prices({m: (0.0, o) for m, o in zip(own.model_ids, own.output)})]
    for table in cases:
        expect = evaluator.CostBounds.from_costs(cost_matrix(x, sim_bundle.output_tokens, table))
        assert basis.bounds(table) == expect
    free = own.with_prices({m: (0.0, 0.0) for m in own.model_ids})
    with pytest.raises(PriceTableError, match="every cost would be 0"):
        basis.bounds(free)


def test_token_sums_are_per_point_per_model(sim_bundle):
    d = _some_decisions(sim_bundle, "dev", points=3, seed=4)
    inp, out = token_sums(sim_bundle, d)
    rows = sim_bundle.split_rows("dev")
    x = sim_bundle.samples["input_tokens"].to_numpy()[rows]
    for p in range(3):
        for j in (0, 5, 16):
            mask = d.choices[p] == j
            assert inp[p, j] == pytest.approx(x[mask].sum())
            assert out[p, j] == pytest.approx(sim_bundle.output_tokens[rows[mask], j].sum())


def test_references_carry_public_token_sums(sim_bundle):
    refs = score_references_for_board(sim_bundle)
    tokens = refs["tokens"]
    m = len(sim_bundle.models)
    public = refs["public"]
    for name in ("StrongestPerDataset", sim_bundle.model_ids[3], "Random"):
        sums = np.asarray(tokens[name]["default"])
        assert sums.shape == (2 * m,)
        cost = point_costs(sums[None, :m], sums[None, m:], pricing_basis(sim_bundle).n_public,
                           track_table(sim_bundle))[0]
        assert cost == pytest.approx(public[name]["points"][0]["cost"], rel=1e-12)
    # routings the track's prices choose are not re-priced: another table would route them differently
    assert not {"Oracle curve", "Oracle", "CheapestGlobal"} & set(tokens)


def test_vlrb_fixture_with_token_counts(tmp_path):
    """A VL-RouterBench checkout whose C.npy is tokens × pricing.yaml, with output_tokens.npy beside it."""
    root = tmp_path / "vlrb"
    write_vlrb(root, n=90, bounds=False)
    rng = np.random.default_rng(5)
    meta = pd.read_parquet(root / "data/registry/meta.parquet")
    meta["input_tokens"] = rng.integers(50, 900, size=len(meta))
    meta.to_parquet(root / "data/registry/meta.parquet")
    out_tokens = rng.integers(1, 400, size=(len(meta), 3)).astype(np.float64)
    np.save(root / "data/matrices/output_tokens.npy", out_tokens)
    prices = yaml.safe_load((root / "config/pricing.yaml").read_text())["models"]
    pin = np.array([prices[m]["input"] for m in MODELS])
    pout = np.array([prices[m]["output"] for m in MODELS])
    C = (meta["input_tokens"].to_numpy()[:, None] * pin + out_tokens * pout) / 1e6
    np.save(root / "data/matrices/C.npy", C)
    bundle = evaluator.load_bundle(import_vlrb(root).save(tmp_path / "bundle"))
    basis = pricing_basis(bundle)
    assert basis.available and basis.fixed is None
    table = _halved(bundle, "gpt-4o")
    full = reprice(bundle, table)
    d = _some_decisions(bundle, PUBLIC_SPLIT, points=4, seed=2)
    rescored = score_decisions(full, d, replicates=0)
    inp, out = token_sums(bundle, d)
    got = point_costs(inp, out, basis.n_public, table)
    assert np.allclose(got, [p.cost for p in rescored.points], rtol=0, atol=1e-9)
    assert basis.bounds(table) == full.cost_bounds
    # fixed bounds (cost_bounds.json) stay fixed under any table
    (root / "data/matrices/cost_bounds.json").write_text(json.dumps({"cmin": 1e-5, "cmax": 0.5}))
    fixed = import_vlrb(root)
    assert pricing_basis(fixed).fixed == (1e-5, 0.5)
    assert reprice(fixed, table).cost_bounds == fixed.cost_bounds


def test_tracks_without_tokens_say_so(tmp_path):
    root = tmp_path / "vlrb"
    write_vlrb(root, n=60)
    basis = pricing_basis(import_vlrb(root))
    assert not basis.available and "no token counts" in basis.reason
    with pytest.raises(PriceTableError, match="no token counts"):
        basis.bounds(track_table(import_vlrb(root)))
    # costs that are not tokens × prices are refused too, with the size of the mismatch
    write_vlrb(tmp_path / "v2", n=60)
    meta = pd.read_parquet(tmp_path / "v2/data/registry/meta.parquet")
    meta["input_tokens"] = 100
    meta.to_parquet(tmp_path / "v2/data/registry/meta.parquet")
    np.save(tmp_path / "v2/data/matrices/output_tokens.npy", np.ones((60, 3)))
    off = pricing_basis(import_vlrb(tmp_path / "v2"))
    assert not off.available and "are not input tokens" in off.reason


def test_mmr_import_has_no_repricing(tmp_path):
    from test_importers import write_mmr

    write_mmr(tmp_path / "mmr.csv")
    b = import_mmr(tmp_path / "mmr.csv")
    assert "no token counts" in pricing_basis(b).reason


@pytest.mark.parametrize("doc, needle", [
    ({"models": {"qwen2.5-vl-7b": {"input": 0.2, "output": 0.2}, "gpt-4o": {"input": 2.5, "output": 10}}},
     "no prices for 1 model(s) of the pool: internvl2.5-78b"),
    ({"models": {"qwen2.5-vl-7b": {"input": -1, "output": 0.2}, "internvl2.5-78b": {"input": 1, "output": 1},
                 "gpt-4o": {"input": 2.5, "output": 10}}}, "'qwen2.5-vl-7b': input price -1 is negative"),
    ({"models": {"qwen2.5-vl-7b": {"input": "cheap", "output": 0.2}, "internvl2.5-78b": {"input": 1, "output": 1},
                 "gpt-4o": {"input": 2.5, "output": 10}}}, "input price 'cheap' is not a number"),
    ({"models": {"qwen2.5-vl-7b": {"input": 0.1}, "internvl2.5-78b": {"input": 1, "output": 1},
                 "gpt-4o": {"input": 2.5, "output": 10}}}, "'qwen2.5-vl-7b' has no output price"),
    ({"models": {"qwen2.5-vl-7b": {"input": float("nan"), "output": 1}, "internvl2.5-78b": {"input": 1, "output": 1},
                 "gpt-4o": {"input": 2.5, "output": 10}}}, "is not a number"),
    ({"name": "x"}, "no 'models:' mapping"),
    (["gpt-4o", 1], "expected a mapping"),
])
def test_bad_price_tables_get_specific_messages(tmp_path, doc, needle):
    root = tmp_path / "vlrb"
    write_vlrb(root, n=30)
    models = import_vlrb(root).models
    with pytest.raises(PriceTableError) as exc:
        parse_price_table(doc, models, where="q3.yaml")
    assert needle in str(exc.value)
    assert str(exc.value).startswith("q3.yaml:")


def test_price_table_files(tmp_path):
    root = tmp_path / "vlrb"
    write_vlrb(root, n=30)
    models = import_vlrb(root).models
    d = tmp_path / "prices"
    d.mkdir()
    (d / "2026-q3.yaml").write_text(yaml.safe_dump({
        "name": "Together 2026-Q3", "date": "2026-09-30", "source": "together.ai/pricing",
        "models": {"Qwen/Qwen2.5-VL-7B-Instruct": {"input": 0.1, "output": 0.1},  # an alias names a model
                   "internvl2.5-78b": {"prompt": 0.8, "completion": 0.8}, "gpt-4o": {"input": 1.25, "output": 5},
                   "some-other-model": {"input": 9, "output": 9}}}))
    (d / "broken.yaml").write_text("models: {gpt-4o: {input: 1, output: [}\n")
    (d / "partial.yml").write_text(yaml.safe_dump({"models": {"gpt-4o": {"input": 1, "output": 2}}}))
    (d / "notes.txt").write_text("not a table")
    tables, problems = price_tables_in(d, models)
    assert [t.name for t in tables] == ["Together 2026-Q3"]
    t = tables[0]
    assert t.input == (0.1, 0.8, 1.25) and t.output == (0.1, 0.8, 5.0)
    assert t.label() == "Together 2026-Q3 (2026-09-30, together.ai/pricing)"
    assert any("broken.yaml: not valid YAML at line 1" in p for p in problems)
    assert any("partial.yml: no prices for 2 model(s)" in p for p in problems)
    assert read_price_table(d / "2026-q3.yaml", models).same_prices(t)


def test_grouped_curve_metrics_match_the_per_curve_definitions():
    rng = np.random.default_rng(0)
    groups, costs, accs = [], [], []
    for g in range(300):
        k = int(rng.integers(1, 9))
        groups += [g] * k
        costs += list(rng.choice([0.001, 0.002, 0.004, 0.008], size=k) * rng.uniform(0.5, 2, size=k))
        accs += list(np.round(rng.uniform(0.3, 0.9, size=k), 3))
    groups, costs, accs = np.array(groups), np.array(costs), np.array(accs)
    best_acc, best_cost = 0.7, 0.004
    area, ps, q = grouped_curve_metrics(groups, costs, accs, 300, best_acc, best_cost)
    for g in range(300):
        m = groups == g
        f = pareto_frontier(costs[m], accs[m])
        expect_area = nauc(costs[m][f], accs[m][f])
        assert (np.isnan(area[g]) and np.isnan(expect_area)) or area[g] == pytest.approx(expect_area, rel=1e-12)
        assert ps[g] == accs[m].max()
        assert q[g] == qnc(costs[m][f], accs[m][f], best_acc, best_cost)


# ------------------------------------------------------------------------------- the live board
def _sweep(bundle, cheap="Janus-Pro-7B", strong="GPT-4o", seed=0):
    """A three-point test file: all strong, a random half each, all cheap (the Ladder releases all three)."""
    ids = bundle.samples.loc[bundle.samples.split == "test", "sample_id"].to_numpy()
    rng = np.random.default_rng(seed)
    half = np.where(rng.random(ids.size) < 0.5, cheap, strong)
    frames = [pd.DataFrame({"sample_id": ids, "model_id": m, "point": label})
              for label, m in (("strong", strong), ("half", half), ("cheap", cheap))]
    return pd.concat(frames).to_csv(index=False).encode(), {"strong": np.full(ids.size, strong, dtype=object),
                                                            "half": half, "cheap": np.full(ids.size, cheap, dtype=object)}


def _publish(monkeypatch, tmp_path, table, name):
    """Put ``table`` in ROUTERBOARD_PRICES_DIR under ``name`` (a published table: routers exact)."""
    from leaderboard.prices import PRICES_DIR_ENV

    folder = tmp_path / "prices"
    folder.mkdir(exist_ok=True)
    (folder / f"{name}.yaml").write_text(yaml.safe_dump({"name": name, "models": {
        m: {"input": i, "output": o} for m, i, o in zip(table.model_ids, table.input, table.output)}}))
    monkeypatch.setenv(PRICES_DIR_ENV, str(folder))
    return read_price_table(folder / f"{name}.yaml", [m for m in evaluator.load_bundle("vlrb-sim", hidden=False).models])


def test_repriced_board_equals_a_full_rescore(db_url, tmp_path, sim_bundle, sim_sources, monkeypatch):
    from conftest import make_settings
    from evaluator.ladder import DEFAULT_SETTINGS, shown_point
    from evaluator.predictions import restrict
    from leaderboard.board import LIVE, Boards
    from submissions.service import SubmissionMeta, SubmissionService
    from submissions.worker import Worker

    service = SubmissionService(make_settings(db_url, tmp_path))
    track = service.default_track
    files = {}
    for user, seed in (("ann", 1), ("bo", 2)):
        data, routes = _sweep(sim_bundle, seed=seed)
        res = service.submit(user, track, f"{user}.csv", data, SubmissionMeta(f"{user}-router"))
        assert res.accepted, res.message
        files[res.submission_id] = routes
    Worker(service.settings, sim_sources).run(stop_when_idle=True)
    boards = Boards(service, lambda t: sorted(sim_bundle.samples["family"].unique()))
    base = boards.view(track, LIVE)
    table = _publish(monkeypatch, tmp_path, _halved(sim_bundle, "GPT-4o"), "q3")
    view = boards.view(track, LIVE, table)
    assert not view.repriced.coarse
    assert view is boards.view(track, LIVE, table)  # derived once per version and table
    assert boards.view(track, LIVE, track_table(sim_bundle)) is base
    full = reprice(sim_bundle, table)
    bounds = (full.cost_bounds.cmin, full.cost_bounds.cmax)
    assert view.repriced.bounds == full.cost_bounds
    col = {m: j for j, m in enumerate(sim_bundle.model_ids)}
    by_id = {r["submission_id"]: r for r in view.rows}
    checked = 0
    for sid, routes in files.items():
        row = by_id[sid]
        assert len(row["points"]) == 3
        labels = [p["point"] for p in row["points"]]
        d = Decisions("test", labels, np.array([[col[m] for m in routes[l]] for l in labels]))
        exact = score_decisions(full, restrict(full, d, PUBLIC_SPLIT), replicates=0)
        for p, e in zip(row["points"], exact.points):
            want = shown_point(e.accuracy, e.cost, exact.n_samples, bounds, DEFAULT_SETTINGS)
            assert p["accuracy"] == want["accuracy"]
            assert abs(p["cost"] - want["cost"]) <= 1e-9 and abs(p["rank_score"] - want["rank_score"]) <= 1e-9
            checked += 1
        best = max(row["points"], key=lambda p: p["rank_score"])
        assert (row["point"], row["rank_score"]) == (best["point"], best["rank_score"])
    assert checked == 6
    refs = {e.name: e for e in evaluator.baselines.reference_entries(sim_bundle, PUBLIC_SPLIT)}
    for name in ("StrongestGlobal", "Random", sim_bundle.model_ids[0]):
        row = next(r for r in view.rows if r["router"] == name)
        e = score_decisions(full, Decisions(PUBLIC_SPLIT, ["default"], refs[name].choice[None, :]), replicates=0)
        assert abs(row["cost"] - e.points[0].cost) <= 1e-9 and abs(row["rank_score"] - e.points[0].rank_score) <= 1e-9
    # the ranks follow the new prices, and the oracle curve (thresholds of the track's prices) is left out
    assert [r["rank_score"] for r in view.rows] == sorted((r["rank_score"] for r in view.rows), reverse=True)
    assert view.repriced.left_out == 3
    assert not {"Oracle curve", "Oracle", "CheapestGlobal"} & {r["router"] for r in view.rows}
    # token sums never reach a row (rows are what the JSON API answers)
    assert all("tokens" not in r and all("tokens" not in p for p in r["points"]) for r in view.rows)


def test_the_page_says_when_prices_cannot_be_applied(tmp_path, sim_bundle):
    """Before a worker has computed the track's pricing basis (and on tracks without token data) the
    board stays at the track's prices and says why; a bad edited table is named, not applied."""
    from conftest import make_settings
    from leaderboard.prices import CUSTOM
    from leaderboard.tabs import Ctx, price_status
    from submissions.service import SubmissionService

    service = SubmissionService(make_settings(f"sqlite:///{tmp_path / 'db.sqlite'}", tmp_path))
    ctx = Ctx(service)
    track = service.default_track
    custom = {"track": track, "models": {m.model_id: {"input": m.input_price / 2, "output": m.output_price}
                                         for m in sim_bundle.models}}
    view, note = ctx.priced(track, "live", CUSTOM, custom)
    assert view.repriced is None
    assert note.startswith("**Prices not applied:**") and "not been computed yet" in note
    assert "Re-pricing is not available for this track" in price_status(ctx, track)
    custom["models"]["GPT-4o"]["input"] = "free"
    _, note = ctx.priced(track, "live", CUSTOM, custom)
    assert "input price 'free' is not a number" in note
    _, note = ctx.priced(track, "live", CUSTOM, {"track": "another", "models": {}})
    assert "no edited prices for this track yet" in note
    _, note = ctx.priced(track, "live", None, None)
    assert note.startswith("Costs and rank scores at the track's own prices")


def test_a_visitors_own_prices_cannot_single_out_a_hidden_sample(tmp_path, sim_bundle, sim_sources, monkeypatch):
    """The probe: a released point routes one public sample to GPT-4o and the rest elsewhere; a table
    pricing only GPT-4o's output would print that sample's hidden output tokens. Published tables are
    exact (and fixed by the admins); a visitor's own table re-prices routers from coarse sums."""
    from conftest import make_settings
    from leaderboard.board import LIVE, Boards
    from submissions.service import SubmissionMeta, SubmissionService
    from submissions.worker import Worker

    service = SubmissionService(make_settings(f"sqlite:///{tmp_path / 'db.sqlite'}", tmp_path))
    test = sim_bundle.split_rows("test")
    k = int(np.flatnonzero(sim_bundle.parts[test] == "public")[0])
    models = np.full(test.size, "Janus-Pro-7B", dtype=object)
    models[k] = "GPT-4o"
    data = pd.DataFrame({"sample_id": sim_bundle.samples["sample_id"].to_numpy()[test], "model_id": models})
    assert service.submit("eve", service.default_track, "probe.csv", data.to_csv(index=False).encode(),
                          SubmissionMeta("probe")).accepted
    Worker(service.settings, sim_sources).run(stop_when_idle=True)
    own = track_table(sim_bundle)
    probe = own.with_prices({m: (0.0, 1.0 if m == "GPT-4o" else 0.0) for m in own.model_ids}, name="probe")
    hidden = sim_bundle.output_tokens[test[k], sim_bundle.model_ids.index("GPT-4o")]
    n = sim_bundle.split_rows(PUBLIC_SPLIT).size
    boards = Boards(service, lambda t: sorted(sim_bundle.samples["family"].unique()))
    custom = boards.view(service.default_track, LIVE, probe)
    row = next(r for r in custom.rows if r["router"] == "probe")
    assert custom.repriced.coarse and row["cost"] == 0.0  # the hidden count is below half a step: nothing shows
    published = boards.view(service.default_track, LIVE, _publish(monkeypatch, tmp_path, probe, "probe-table"))
    row = next(r for r in published.rows if r["router"] == "probe")
    assert not published.repriced.coarse
    assert row["cost"] * n * 1e6 == pytest.approx(hidden, rel=5e-3)  # what an admin's published table would show
