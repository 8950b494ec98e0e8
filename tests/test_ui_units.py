"""What the app shows, without a browser: dollar amounts, and the Data & docs sections, where only the
formulas are math."""

from types import SimpleNamespace

import pytest

from leaderboard import units


def test_money_reads_as_dollars():
    assert [units.money(v) for v in (0, 0.059, 0.0174, 0.1, 4, 26.2675, 1234.5)] == [
        "$0", "$0.059", "$0.0174", "$0.10", "$4.00", "$26.27", "$1,234.50"]
    assert units.cost_text(5.9e-5) == "$0.059 per 1k queries"
    assert units.per_query(units.in_unit(0.00042)) == pytest.approx(0.00042)


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
