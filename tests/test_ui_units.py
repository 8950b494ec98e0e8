"""What the app shows, without a browser: one cost unit ($ per 1k queries) in the table, its CSV, the
Pareto figure and the budget; columns with widths and tooltips; the Data & docs sections, where only
the formulas are math."""

from types import SimpleNamespace

import pandas as pd
import pytest

from leaderboard import units
from leaderboard.columns import PINNED, columns_for, default_labels, tooltips
from leaderboard.figures import BUDGET, best_under_budget, pareto_figure
from leaderboard.tables import csv_export, display_frame, raw_frame, table_props

FAMILIES = ["General", "STEM"]


def row(sid, router, cost, acc, kind="user"):
    return {"submission_id": sid, "router": router, "team": "t", "type": "rule", "kind": kind, "paper_url": None,
            "code_url": None, "accuracy": acc, "cost": cost, "rank_score": acc / 2, "rank_score_lo": acc / 2 - 0.01,
            "rank_score_hi": acc / 2 + 0.01, "p_rank_score": 0.5, "nauc": 0.4, "ps": acc, "qnc": 1.0,
            "gap_closed": 0.1, "n_points": 1, "uses_images": False, "submitted": "2025-01-01",
            "families": {f: acc for f in FAMILIES},
            "points": [{"point": "default", "cost": cost, "accuracy": acc, "rank_score": acc / 2}]}


ROWS = [row(1, "cheap", 5.9e-5, 0.47, "reference"), row(2, "mid", 2.8e-4, 0.67), row(3, "dear", 3.5e-3, 0.72)]


def test_money_reads_as_dollars():
    assert [units.money(v) for v in (0, 0.059, 0.0174, 0.1, 4, 26.2675, 1234.5)] == [
        "$0", "$0.059", "$0.0174", "$0.10", "$4.00", "$26.27", "$1,234.50"]
    assert units.cost_text(5.9e-5) == "$0.059 per 1k queries"
    assert units.per_query(units.in_unit(0.00042)) == pytest.approx(0.00042)


def test_table_and_csv_use_the_one_cost_unit(tmp_path):
    cols = columns_for(FAMILIES)
    df = raw_frame(ROWS, FAMILIES)
    frame, chosen = display_frame(df, cols, default_labels(cols))
    cost_headers = [c for c in frame.columns if "cost" in c.lower()]
    assert cost_headers == [units.COST_LABEL] == ["Cost ($ per 1k queries)"]
    assert list(frame[units.COST_LABEL]) == [3.5, 0.28, 0.059]  # sorted by rank score, in $ per 1k queries
    csv = pd.read_csv(csv_export(df, cols, default_labels(cols)))
    assert [c for c in csv.columns if "cost" in c.lower()] == [units.COST_LABEL]
    assert csv[units.COST_LABEL].tolist() == pytest.approx([3.5, 0.28, 0.059])


def test_columns_declare_widths_tooltips_and_the_pinned_pair():
    cols = columns_for(FAMILIES)
    assert [c.label for c in cols[:PINNED]] == ["Rank", "Router"] and all(not c.can_hide for c in cols[:PINNED])
    assert all(c.can_hide for c in cols[PINNED:])
    frame, chosen = display_frame(raw_frame(ROWS, FAMILIES), cols, default_labels(cols))
    props = table_props(chosen)
    assert props["column_widths"] == [f"{c.width}px" for c in chosen] and len(props["datatype"]) == frame.shape[1]
    assert sum(c.width for c in cols[:PINNED]) <= 240  # leaves room for scrolled columns on a 390 px phone
    tips = tooltips(cols)
    assert tips[units.COST_LABEL] == units.COST_TOOLTIP and "one query" in units.COST_TOOLTIP
    assert tips["General (%)"] == "Accuracy on the General datasets (%)"
    assert len({c.label for c in cols}) == len(cols)


def test_pareto_axis_hover_and_budget_line_in_dollars_per_1k_queries():
    fig = pareto_figure(ROWS, budget=1e-4)  # $0.10 per 1k queries
    assert fig.layout.xaxis.title.text == units.AXIS_TITLE
    assert all(t.startswith("$") for t in fig.layout.xaxis.ticktext) and "$0.1" in fig.layout.xaxis.ticktext
    singles = next(t for t in fig.data if t.name == "Single models")
    assert list(singles.x) == pytest.approx([0.059])
    budget = next(t for t in fig.data if t.name == BUDGET)
    assert list(budget.x) == pytest.approx([0.1, 0.1])
    hovers = [t.hovertemplate for t in fig.data if t.hovertemplate]
    assert hovers and all(units.HOVER_COST in h and "per query" not in h for h in hovers)
    assert best_under_budget(ROWS, units.per_query(0.3))[0] == "mid"


def test_budget_text_and_slider_bounds_in_dollars(sim_bundle):
    from leaderboard.tabs import budget_text, cost_bounds, default_budget

    ctx = SimpleNamespace(service=SimpleNamespace(bundle=lambda track: sim_bundle, bundles={"t": sim_bundle}))
    lo, hi, step = cost_bounds(ctx, "t")
    assert 0 < lo < 0.059 and 3.53 < hi < 5 and step == 0.001  # every model's cost is inside, in $ per 1k
    assert lo < default_budget(lo, hi, step) < hi
    text = budget_text(best_under_budget(ROWS, units.per_query(0.3)), 0.3)
    assert text.startswith("Budget **$0.30 per 1k queries**") and "at $0.28 per 1k queries" in text
    assert "no entry is that cheap" in budget_text(best_under_budget(ROWS, units.per_query(0.01)), 0.01)
    # the board view's vectorised answer is the same as the row-by-row one, for every budget
    from leaderboard.board import BoardView

    view = BoardView.build(0, ROWS, [])
    for budget in (0.01, 0.06, 0.3, 1.0, 10.0):
        assert view.best_under(units.per_query(budget)) == best_under_budget(ROWS, units.per_query(budget))


def test_docs_sections_keep_dollars_out_of_math(sim_bundle):
    from leaderboard.tabs import DOCS_SECTIONS, MATH_DELIMITERS

    ctx = SimpleNamespace(service=SimpleNamespace(bundle=lambda track: sim_bundle))
    texts = {elem_id: (text(ctx, "t"), delimiters) for elem_id, text, delimiters in DOCS_SECTIONS}
    assert [d for _, d in texts.values() if d] == [MATH_DELIMITERS]  # math in the metrics section only
    assert all(d["left"] not in ("$", "\\[") for d in MATH_DELIMITERS)  # a price never opens math
    pool, _ = texts["docs-pool"]
    table_rows = [ln for ln in pool.splitlines() if ln.startswith("| ") and "$" in ln]
    assert len(table_rows) == len(sim_bundle.models)
    assert any("GPT" in ln and "$2.50" in ln and "$10.00" in ln for ln in table_rows)
    metrics, _ = texts["docs-metrics"]
    assert metrics.count("$$") % 2 == 0 and metrics.count("\\(") == metrics.count("\\)") >= 4
    provenance, delimiters = texts["docs-provenance"]
    assert "\\(" in provenance and delimiters == []  # inert text escapes "(" as "\(": never math there


def _many(n: int, seed: int = 0) -> list[dict]:
    """``n`` researchers' entries, each one point, spread over two decades of cost."""
    import numpy as np

    rng = np.random.default_rng(seed)
    return [row(100 + i, f"r{i}", float(10 ** rng.uniform(-4.5, -2.5)), float(rng.uniform(0.3, 0.9)))
            for i in range(n)]


def test_pareto_draws_the_top_entries_and_the_rest_as_one_density_layer_that_names_them():
    import numpy as np

    from leaderboard import units
    from leaderboard.figures import DENSITY_CELLS, OTHERS, TOP_ENTRIES, Density, NAMED_PER_CELL, split_entries

    rows = ROWS + _many(2_000)
    fig = pareto_figure(rows, budget=1e-4)
    layers = [t for t in fig.data if t.name.startswith(OTHERS)]
    assert len(layers) == 1 and layers[0].name.startswith(f"{OTHERS} (1,982") and "density" in layers[0].name
    # scatter squares: the page's light Plotly bundle draws no heatmap, and no WebGL (0.6 s to start
    # in a GPU-less browser)
    assert layers[0].type == "scatter" and layers[0].marker.symbol == "square"
    assert not [t for t in fig.data if t.type in ("scattergl", "heatmap")]
    lines = [t for t in fig.data if t.type == "scatter" and t.name.startswith("r")]
    assert len(lines) == TOP_ENTRIES  # the best by rank score, one trace each
    top, rest = split_entries(rows)
    d = Density.of(rest)
    assert d.count.sum() == len(rest) == d.points and (d.count > 0).all()  # every point in exactly one cell
    assert len(d.x) == len(d.y) == len(d.text) == len(d.count) == len(layers[0].x) <= DENSITY_CELLS[0] * DENSITY_CELLS[1]
    # each point's cell holds it: its centre is within half a cell of the point (log cost, accuracy)
    lx, ly = np.log10(d.x), d.y
    width = (np.log10(max(r["cost"] for r in rest)) - np.log10(min(r["cost"] for r in rest))) / DENSITY_CELLS[0]
    checked = 0
    for r in rest[:50]:
        name = f"{r['router']} · default"
        k = [i for i, t in enumerate(d.text) if name in t.split("<br>")]
        if k:  # named (among its cell's best)
            assert abs(lx[k[0]] - np.log10(units.in_unit(r["cost"]))) <= width / 2 + 1e-9
            assert abs(ly[k[0]] - r["accuracy"]) <= 0.5 / DENSITY_CELLS[1] + 1e-9
            checked += 1
    assert checked >= 10, checked
    # a cell's hover names its best entries (by rank score) and how many more there are
    cell = int(np.argmax(d.count))
    text, n = d.text[cell], int(d.count[cell])
    assert text.startswith(f"{n:,} entr")
    named = text.split("<br>")[1:1 + min(NAMED_PER_CELL, n)]
    assert all(" · default" in x for x in named)
    if n > NAMED_PER_CELL:
        assert f"and {n - NAMED_PER_CELL:,} more" in text
    # every point is named in its cell when the cell holds few enough
    names = {f"{r['router']} · default" for r in rest}
    lone = [t for t, c in zip(d.text, d.count) if c == 1]
    assert lone and all(t.startswith("1 entry here:<br>") and t.split("<br>")[1] in names for t in lone)
    # a name is text, never markup
    evil = [row(9_000 + i, "<b>x</b>" if i == 0 else f"e{i}", 1e-3, 0.5) for i in range(1_200)]
    assert "&lt;b&gt;x&lt;/b&gt;" in " ".join(Density.of(evil).text)
    # a smaller board's other entries are points, each named in its own hover
    few = Density.of(evil[:300])
    assert few.count is None and few.points == 300 and few.text[0] == "&lt;b&gt;x&lt;/b&gt; · default"
    small_rows = ROWS + _many(300)
    rest = len(split_entries(small_rows)[1])
    layer = next(t for t in pareto_figure(small_rows).data if t.name.startswith(OTHERS))
    assert layer.type == "scatter" and len(layer.x) == rest == 282 and layer.name == f"{OTHERS} (282)"


def test_router_detail_bars_name_an_entry_as_plain_text():
    """Plotly reads a little HTML in trace names (links, styles): a router's name and point label are
    the submitter's text, so the legend must show them, not follow them."""
    from leaderboard.figures import detail_figure

    evil = '<a href="https://evil.example" target="_blank"><span style="font-size:60px">Click</span></a>'
    view = {"router_name": evil, "best_point": "<b>p</b>",
            "points": [{"point": "<b>p</b>", "per_dataset": {"ChartQA": {"accuracy": 0.5, "n": 100}}}]}
    fig = detail_figure([view])
    name = fig.data[0].name
    assert "<" not in name and ">" not in name
    assert name == "&lt;a href=\"https://evil.example\" target=\"_blank\"&gt;&lt;span style=\"font-size:60px\"&gt;Click" \
                   "&lt;/span&gt;&lt;/a&gt; · &lt;b&gt;p&lt;/b&gt;"
