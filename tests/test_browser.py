"""The app in a real browser: Debian's chromium driven by Playwright (headless, --no-sandbox).

Screenshots of every tab go to ``test-output/screenshots/`` (and, with
``ROUTERBOARD_UPDATE_SCREENSHOTS=1``, to ``tests/screenshots/`` for the README).
"""

import os
import shutil
from pathlib import Path

import pandas as pd
import pytest

import evaluator

from app_server import CHROMIUM, launch_chromium, running_app, wait_until
from leaderboard import units
from leaderboard.columns import BASE_COLUMNS, PINNED

OUT = Path(__file__).resolve().parents[1] / "test-output" / "screenshots"
README_SHOTS = Path(__file__).resolve().parent / "screenshots"
XSS_NAME = "<script>window.__pwned=1</script>Evil router"
XSS_TEAM = '<img src=x onerror="window.__pwned=2">'
XSS_DESC = "[click me](javascript:window.__pwned=3) <b>bold?</b>"

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(),
                                reason=f"{CHROMIUM} is not installed (apt-get install -y chromium; .ci/run does)")


@pytest.fixture(scope="module")
def browser_page(tmp_path_factory, sim_bundle):
    from playwright.sync_api import sync_playwright

    tmp = tmp_path_factory.mktemp("browser-app")
    with running_app(tmp, {"ROUTERBOARD_ADMINS": "local"}) as url, sync_playwright() as p:
        browser = launch_chromium(p)
        page = browser.new_page(viewport={"width": 1440, "height": 1000})
        page.set_default_timeout(60_000)
        page.goto(url)
        wait_until(lambda: "Oracle" in page.locator("#leaderboard-table").inner_text(), what="reference rows")
        yield page, tmp, url
        browser.close()


def shot(page, name, full_page=False):
    OUT.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(OUT / f"{name}.png"), full_page=full_page)
    if os.environ.get("ROUTERBOARD_UPDATE_SCREENSHOTS") == "1":
        README_SHOTS.mkdir(exist_ok=True)
        shutil.copy(OUT / f"{name}.png", README_SHOTS / f"{name}.png")


def open_tab(page, name):
    page.get_by_role("tab", name=name).click()


def table_text(page):
    return page.locator("#leaderboard-table").inner_text()


#: every header cell: its text, title, box, number of text lines, and the words the browser broke
#: across lines (a header wrapped letter by letter breaks every word)
HEADERS_JS = """() => [...document.querySelectorAll('#leaderboard-table th[data-testid^="header-"]')].map(th => {
  const tops = new Set(), broken = [];
  const walker = document.createTreeWalker(th, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    for (const m of node.textContent.matchAll(/\\S+/g)) {
      const r = document.createRange();
      r.setStart(node, m.index); r.setEnd(node, m.index + m[0].length);
      const rects = [...r.getClientRects()].filter(x => x.width > 0);
      rects.forEach(x => tops.add(Math.round(x.top)));
      if (rects.length > 1) broken.push(m[0]);
    }
  }
  const b = th.getBoundingClientRect();
  return {label: th.innerText.trim().replace(/\\s+/g, ' '), title: th.getAttribute('title'), lines: tops.size,
          broken, x: b.x, width: b.width, height: b.height};
})"""

#: x of each header and of the first row's cell in the same column, after scrolling the table sideways
SCROLL_JS = """async (dx) => {
  const t = document.querySelector('#leaderboard-table');
  const viewport = t.querySelector('.virtual-table-viewport');
  const xs = () => [...t.querySelectorAll('th[data-testid^="header-"]')].map((th, i) => [
    th.getBoundingClientRect().x,
    t.querySelector(`[role="gridcell"][data-row="0"][data-col="${i}"]`).getBoundingClientRect().x]);
  const before = xs();
  viewport.scrollLeft = dx;
  await new Promise(r => setTimeout(r, 300));
  return {before, after: xs(), scrolled: viewport.scrollLeft, visible: viewport.clientWidth,
          page: document.documentElement.scrollWidth};
}"""


def headers(page):
    return page.evaluate(HEADERS_JS)


def check_header_layout(page):
    """Headers wrap between words, in at most two lines, and each carries its declared tooltip."""
    heads = headers(page)
    for h in heads:
        assert not h["broken"] and h["lines"] <= 2, h
    assert max(h["height"] for h in heads) < 90, heads  # two lines of text and the cell's padding
    labels = [h["label"] for h in heads]
    assert labels[:PINNED] == [c.label for c in BASE_COLUMNS[:PINNED]]
    assert units.COST_LABEL in labels and not any("/query" in label for label in labels), labels
    wait_until(lambda: any(h["title"] == units.COST_TOOLTIP for h in headers(page)), what="the cost header's tooltip")
    return heads


def check_pinned(page, dx=300, scroll_back=True):
    """After a sideways scroll Rank and Router stay where they were, the rest moved, and every header
    still sits over its own column."""
    moved = page.evaluate(SCROLL_JS, dx)
    assert moved["scrolled"] >= dx - 1, moved  # the table is wider than its box: it scrolls
    for i, ((head0, cell0), (head1, cell1)) in enumerate(zip(moved["before"], moved["after"])):
        assert abs(head1 - cell1) <= 1, (i, moved)
        if i < PINNED:
            assert abs(head1 - head0) <= 1, (i, moved)
        else:
            assert head1 == pytest.approx(head0 - dx, abs=1), (i, moved)
    if scroll_back:
        page.evaluate(SCROLL_JS, 0)
    return moved


def choose_columns(page, labels):
    """Tick (or untick) these boxes of the column chooser."""
    chooser = page.locator("#lb-columns")
    for label in labels:
        chooser.get_by_label(label, exact=True).click()


#: the visible rows of a Gradio Dataframe, as lists of cell texts
GRID_ROWS_JS = """(sel) => { const rows = {};
  document.querySelectorAll(sel + ' [role="gridcell"]').forEach(c => {
    (rows[c.dataset.row] = rows[c.dataset.row] || [])[+c.dataset.col] = c.innerText.trim(); });
  return Object.keys(rows).sort((a, b) => a - b).map(k => rows[k]); }"""


def grid_rows(page, sel):
    return page.evaluate(GRID_ROWS_JS, sel)


def test_01_table_and_search(browser_page, sim_bundle):
    page, _, _ = browser_page
    text = table_text(page)
    assert "Oracle" in text and "Janus-Pro-1B" in text and "SIMULATED" in page.locator("#track-badge").inner_text()
    check_header_layout(page)
    check_pinned(page)
    shot(page, "leaderboard", full_page=True)
    hidden = [c.label for c in BASE_COLUMNS if c.can_hide and not c.shown]
    choose_columns(page, hidden)  # every column at once: each header still fits its width
    wait_until(lambda: len(headers(page)) == len(BASE_COLUMNS) + 3, what="all columns")  # + 3 families
    check_header_layout(page)
    check_pinned(page)
    choose_columns(page, hidden)
    wait_until(lambda: len(headers(page)) == len(BASE_COLUMNS) + 3 - len(hidden), what="the default columns")
    box = page.locator("#lb-search").locator("input, textarea").first
    box.fill("gemini; cheapest")
    wait_until(lambda: "Janus-Pro-1B" not in table_text(page), what="search to filter the table")
    text = table_text(page)
    assert "Gemini-Flash-2.5" in text and "CheapestGlobal" in text and "Oracle" not in text
    count = lambda: page.locator("#lb-count").inner_text()  # noqa: E731
    wait_until(lambda: "Showing 1–2 of 2 matching entries" in count(), what="the count of matching entries")
    box.fill("")
    wait_until(lambda: "Janus-Pro-1B" in table_text(page), what="the full table back")
    total = len(sim_bundle.models) + 6  # single models, five baselines and the oracle curve
    wait_until(lambda: f"of {total} matching entries" in count(), what="every entry counted")
    # sorting applies to all rows, server side: cheapest first puts Janus or DeepSeek-Tiny on top
    page.locator("#lb-sort input").first.click()
    page.get_by_role("option", name=units.COST_LABEL, exact=True).click()
    wait_until(lambda: grid_rows(page, "#leaderboard-table")[0][1] in ("Janus-Pro-1B", "DeepSeek-VL2-Tiny", "Oracle curve"),
               what="the cheapest entry first")
    page.locator("#lb-sort input").first.click()
    page.get_by_role("option", name="Rank", exact=True).click()
    wait_until(lambda: grid_rows(page, "#leaderboard-table")[0][0] == "1", what="rank order back")


def plot_trace_names(page):
    return page.evaluate("() => { const el = document.querySelector('#pareto-plot .js-plotly-plot');"
                         " return el && el.data ? el.data.map(t => t.name) : null; }")


def best_named(page):
    return page.locator("#best-under-budget").inner_text()


PLOT_JS = """() => { const el = document.querySelector('#pareto-plot .js-plotly-plot');
  return el && el.data ? {axis: el.layout.xaxis.title.text, hovers: el.data.map(t => t.hovertemplate || ''),
                          budget: (el.data.find(t => t.name === 'Budget') || {}).x} : null; }"""


def test_02_pareto_traces_and_budget(browser_page, sim_bundle):
    page, _, _ = browser_page
    open_tab(page, "Pareto plot")
    names = wait_until(lambda: plot_trace_names(page), what="the Plotly figure")
    for expected in ("Single models", "Oracle", "Oracle curve", "StrongestGlobal", "StrongestPerDataset",
                     "Global Pareto frontier", "Budget"):
        assert expected in names, names
    wait_until(lambda: page.locator("#best-under-budget").count(), what="the page's first best entry")
    slider = page.locator("#budget-slider")
    assert f"Budget ({units.UNIT})" in slider.inner_text() and "log" not in slider.inner_text()
    shot(page, "pareto", full_page=True)
    number = slider.locator("input[type='number']")

    def set_budget(v):
        number.fill(str(v))
        number.press("Enter")

    def budget_text():
        return page.locator("#budget-best").inner_text()

    set_budget(0.1)  # $0.10 per 1k queries: only the smallest models fit
    wait_until(lambda: page.locator("#best-under-budget").count() and best_named(page) == "DeepSeek-VL2-Tiny",
               what="the best entry under $0.10 per 1k queries")
    # the reference entry is shown exactly, on the public part of the test split
    public = sim_bundle.split_rows("test:public")
    tiny = sim_bundle.cost[public, sim_bundle.model_ids.index("DeepSeek-VL2-Tiny")].mean()
    assert budget_text().startswith("Budget $0.10 per 1k queries")
    assert f"at {units.cost_text(tiny)}" in budget_text(), (budget_text(), units.cost_text(tiny))
    plot = wait_until(lambda: (lambda d: d if d and d["budget"] == [0.1, 0.1] else None)(page.evaluate(PLOT_JS)),
                      what="the budget line at $0.10 on the axis")
    assert plot["axis"] == units.AXIS_TITLE and "$ per 1k queries" in plot["axis"]
    assert all("per 1k queries" in h for h in plot["hovers"] if h), plot["hovers"]
    set_budget(3.5)  # $3.50 per 1k queries: everything but GPT-4o is affordable
    wait_until(lambda: best_named(page) == "StrongestPerDataset", what="the named best entry to change")
    assert budget_text().startswith("Budget $3.50 per 1k queries")


def test_03_upload_reaches_done_in_my_submissions(browser_page, sim_bundle):
    page, tmp, _ = browser_page
    ids = sim_bundle.samples.loc[sim_bundle.samples.split == "test", "sample_id"]
    path = tmp / "browser-upload.csv"
    pd.DataFrame({"sample_id": ids, "model_id": "MiMo-VL-7B-RL"}).to_csv(path, index=False)
    open_tab(page, "Submit")
    page.locator("#upload-file input[type='file']").set_input_files(str(path))
    wait_until(lambda: "is valid" in page.locator("#submit-feedback").inner_text(), what="instant validation")
    page.locator("#meta-name").locator("input, textarea").first.fill("Browser MiMo")
    page.locator("#meta-throughput input").fill("12.5")
    page.locator("#meta-hardware").locator("input, textarea").first.fill("1x A100 80GB")
    page.locator("#submit-btn").click()
    wait_until(lambda: "queued as submission" in page.locator("#submit-feedback").inner_text(), what="queued")
    shot(page, "submit")
    open_tab(page, "My submissions")
    wait_until(lambda: "Browser MiMo" in page.locator("#my-submissions").inner_text(), what="my row")
    wait_until(lambda: "DONE" in page.locator("#my-submissions").inner_text(), timeout=120, what="DONE")
    assert "worker(s) alive" in page.locator("#worker-status").inner_text()
    shot(page, "my-submissions")


def test_04_user_text_is_inert(browser_page, sim_bundle):
    page, tmp, _ = browser_page
    ids = sim_bundle.samples.loc[sim_bundle.samples.split == "test", "sample_id"]
    path = tmp / "xss.csv"
    # far cheaper than the earlier MiMo upload of the same (local) user: its own Ladder releases it
    pd.DataFrame({"sample_id": ids, "model_id": "DeepSeek-VL2-Tiny"}).to_csv(path, index=False)
    page.reload()  # a fresh form (the file input is replaced by the previous upload's preview)
    wait_until(lambda: "Oracle" in table_text(page), what="the page")
    open_tab(page, "Submit")
    page.locator("#upload-file input[type='file']").set_input_files(str(path))
    page.locator("#meta-name").locator("input, textarea").first.fill(XSS_NAME)
    page.locator("#meta-team").locator("input, textarea").first.fill(XSS_TEAM)
    page.locator("#meta-description").locator("input, textarea").first.fill(XSS_DESC)
    page.locator("#submit-btn").click()
    wait_until(lambda: "queued as submission" in page.locator("#submit-feedback").inner_text(), what="queued")
    open_tab(page, "My submissions")  # refreshed by the submission itself, then every 2 s while pending
    wait_until(lambda: page.locator("#my-submissions").inner_text().count("DONE") >= 2, timeout=120, what="DONE")
    open_tab(page, "Leaderboard")
    page.reload()
    wait_until(lambda: "Evil router" in table_text(page), what="the entry on the leaderboard")
    text = table_text(page)
    assert "<script>window.__pwned=1</script>Evil router" in text and XSS_TEAM in text
    legend = lambda: page.evaluate(  # noqa: E731
        "() => { const l = document.querySelector('#pareto-plot .legend'); return l ? l.textContent : ''; }")

    def pareto_shows_it():  # each visit of the tab redraws the figure from fresh rows
        open_tab(page, "Router detail")
        open_tab(page, "Pareto plot")
        return XSS_NAME in legend()

    wait_until(pareto_shows_it, interval=1.0, what="the entry, shown literally, in the figure's legend")
    pwned = page.evaluate("() => window.__pwned")
    assert pwned is None
    assert page.evaluate("() => document.querySelectorAll('img[src=\"x\"]').length") == 0
    assert page.evaluate("() => document.querySelectorAll('a[href^=\"javascript\"]').length") == 0
    assert page.evaluate("() => [...document.scripts].filter(s => s.textContent.includes('__pwned')).length") == 0


TEXT_OUTSIDE_MATH_JS = """(sel) => { const c = document.querySelector(sel).cloneNode(true);
  c.querySelectorAll('.katex').forEach(k => k.remove()); return c.textContent; }"""


def test_05_data_and_docs(browser_page, sim_bundle):
    page, _, _ = browser_page
    open_tab(page, "Data & docs")
    rows = page.locator("#docs-pool table tbody tr")
    wait_until(lambda: rows.count() == len(sim_bundle.models), what="one model-pool row per model")
    cells = page.evaluate("() => [...document.querySelectorAll('#docs-pool table tbody tr')]"
                          ".map(r => [...r.cells].map(c => c.innerText.trim()))")
    assert cells == [[m.display_name, str(m.params or "-"), units.money(m.input_price), units.money(m.output_price)]
                     for m in sim_bundle.models]
    assert ["GPT-4o", "-", "$2.50", "$10.00"] in cells
    metrics = page.locator("#docs-metrics")
    wait_until(lambda: metrics.locator(".katex").count() >= 8, what="the formulas typeset by KaTeX")
    assert metrics.locator(".katex-display").count() == 2
    assert page.locator(".katex-error").count() == 0
    assert page.locator("#docs-format .katex, #docs-pool .katex, #docs-provenance .katex").count() == 0
    words = page.evaluate(TEXT_OUTSIDE_MATH_JS, "#docs-metrics")
    for seen in ("Rank score", "Accuracy", "nAUC", "Pareto frontier", "per 1k queries"):
        assert seen in words, words
    for source in ("\\frac", "\\(", "$$", "\\log"):  # no formula left as TeX source
        assert source not in words, words
    provenance = page.locator("#docs-provenance").inner_text()
    assert "$/1M-token prices" in provenance and "(17 models" in provenance  # dollars and brackets stay text
    assert "sample_id,model_id,point" in page.locator("#docs-format").inner_text()
    shot(page, "data-and-docs", full_page=True)


def test_06_router_detail(browser_page, sim_bundle):
    page, _, _ = browser_page
    open_tab(page, "Router detail")
    page.locator("#detail-first").locator("input").first.click()
    page.get_by_role("option", name="StrongestPerDataset", exact=False).first.click()
    text = wait_until(lambda: (lambda t: t if "StrongestPerDataset" in t else None)(
        page.locator("#detail-text").inner_text()), what="the entry's numbers")
    exact = evaluator.score_references(sim_bundle, "test:public", replicates=0)["StrongestPerDataset"].points[0]
    assert f"accuracy {100 * exact.accuracy:.1f}%" in text and "per 1k queries" in text and "rank score" in text
    bars = wait_until(lambda: page.evaluate("() => { const el = document.querySelector('#detail-plot .js-plotly-plot');"
                                            " return el && el.data && el.data.length ? el.data[0].x : null; }"),
                      what="the per-dataset bars")
    assert sorted(bars) == sorted(sim_bundle.samples["dataset"].unique())
    shot(page, "router-detail")


def test_07_phone_width(browser_page):
    """At 390 px: nothing overflows the page, controls stack, the table scrolls sideways inside its box
    with Rank and Router kept in view and leaving room for the other columns."""
    page, _, url = browser_page
    phone = page.context.browser.new_page(viewport={"width": 390, "height": 844})
    phone.set_default_timeout(60_000)
    try:
        phone.goto(url)
        wait_until(lambda: "Oracle" in phone.locator("#leaderboard-table").inner_text(), what="rows on a phone")
        assert phone.evaluate("() => document.documentElement.scrollWidth") <= 390
        assert phone.locator("#track-badge").bounding_box()["width"] > 300  # below the track selector, not beside
        assert phone.locator("#lb-search").bounding_box()["width"] > 300
        heads = check_header_layout(phone)
        moved = check_pinned(phone, dx=200, scroll_back=False)
        pinned = sum(h["width"] for h in heads[:PINNED])
        assert pinned < 0.7 * moved["visible"], (pinned, moved["visible"])
        phone.locator("#leaderboard-table").scroll_into_view_if_needed()
        shot(phone, "leaderboard-phone")  # scrolled sideways: Rank and Router still in view
    finally:
        phone.close()


def test_08_ladder_finals_and_a_release(browser_page, sim_bundle):
    """What a researcher sees of the integrity machinery: how many points the Ladder showed, choosing a
    final submission, an admin's release, and the release's board with public rank and shift."""
    page, _, _ = browser_page
    open_tab(page, "My submissions")
    mine = page.locator("#my-submissions")
    wait_until(lambda: "Browser MiMo" in mine.inner_text(), what="my submissions")
    assert "Shown points" in mine.inner_text() and "1 of 1" in mine.inner_text()
    row = next(r for r in grid_rows(page, "#my-submissions") if "Browser MiMo" in r)
    sid = int(row[0])
    page.locator("#mine-sid input").fill(str(sid))
    page.locator("#mine-final").click()
    wait_until(lambda: "is one of your final submissions" in page.locator("#mine-message").inner_text(),
               what="the final choice confirmed")
    wait_until(lambda: "final" in next(r for r in grid_rows(page, "#my-submissions") if r[0] == str(sid)),
               what="the Final column")
    page.get_by_text("Admins: cut a release").click()
    page.locator("#cut-release").click()
    wait_until(lambda: "Release #1 is cut" in page.locator("#mine-message").inner_text(), what="the release")
    open_tab(page, "Leaderboard")
    page.locator("#board-select input").first.click()
    page.get_by_role("option", name="Release #1", exact=False).first.click()
    wait_until(lambda: "Public rank" in table_text(page) and "Shift" in table_text(page), what="the release's board")
    private = sim_bundle.split_rows("test:private")
    mimo = 100 * sim_bundle.quality[private, sim_bundle.model_ids.index("MiMo-VL-7B-RL")].mean()
    browser_row = next(r for r in grid_rows(page, "#leaderboard-table") if "Browser MiMo" in r[1])
    assert f"{mimo:.1f}" in browser_row, browser_row  # its private accuracy, revealed by the release
    assert "Evil router" not in table_text(page)  # not chosen as final: only the chosen one is released
    label = page.locator("#leaderboard-table").inner_text()
    assert "Release #1" in page.locator("#board-select").inner_text() or "private part" in label
    shot(page, "release")
    open_tab(page, "Data & docs")
    docs = page.locator("#docs-integrity").inner_text()
    for words in ("Public and private parts", "Ladder", "arXiv:1502.04585", "release", "private"):
        assert words in docs, docs
    page.locator("#board-select input").first.click()
    page.get_by_role("option", name="Live", exact=False).first.click()


def column_of(page, label):
    heads = [h["label"] for h in headers(page)]
    return next(i for i, h in enumerate(heads) if h.startswith(label))


def test_09_throughput_and_prices(browser_page, sim_bundle):
    """A submission's stated throughput is on the table (reference entries show a dash); halving
    GPT-4o's prices in the editor re-prices the table and the Pareto plot."""
    page, _, _ = browser_page
    open_tab(page, "Leaderboard")
    page.locator("#board-select input").first.click()
    page.get_by_role("option", name="Live", exact=False).first.click()
    wait_until(lambda: "Browser MiMo" in table_text(page), what="the live board")
    tp = column_of(page, "Throughput")
    rows = grid_rows(page, "#leaderboard-table")
    mimo = next(r for r in rows if "Browser MiMo" in r[1])
    assert mimo[tp] == "12.5 · self-reported", mimo
    gpt = next(r for r in rows if r[1] == "GPT-4o")
    assert gpt[tp] == "—", gpt
    cost = column_of(page, "Cost")
    before = float(gpt[cost])
    assert "the track's own prices" in page.locator("#lb-count").inner_text()
    page.locator("#prices-box").get_by_text("Prices", exact=False).first.click()
    editor = page.locator("#price-editor")
    wait_until(lambda: "GPT-4o" in editor.inner_text(), what="the price editor")
    row = next(i for i, r in enumerate(grid_rows(page, "#price-editor")) if r[0] == "GPT-4o")
    for col, value in ((1, "1.25"), (2, "5")):
        cell = editor.locator(f'[role="gridcell"][data-row="{row}"][data-col="{col}"]')
        cell.scroll_into_view_if_needed()
        cell.dblclick()
        box = editor.locator("input:focus, textarea:focus").first
        box.fill(value)
        box.press("Enter")
    edited = lambda: [c.replace("⋮", "").strip() for c in grid_rows(page, "#price-editor")[row][1:3]]  # noqa: E731
    wait_until(lambda: edited() == ["1.25", "5"], what="the edited prices")
    shot(page, "prices-editor")
    page.locator("#price-apply").click()
    wait_until(lambda: "your edited prices" in page.locator("#lb-count").inner_text(), what="the table re-priced")
    gpt_after = next(r for r in grid_rows(page, "#leaderboard-table") if r[1] == "GPT-4o")
    public = sim_bundle.split_rows("test:public")
    j = sim_bundle.model_ids.index("GPT-4o")
    expect = units.in_unit(sim_bundle.cost[public, j].mean() / 2)
    assert float(gpt_after[cost]) == pytest.approx(expect, abs=0.0006) and float(gpt_after[cost]) < 0.6 * before
    assert "Rank-score cost bounds under it" in page.locator("#lb-count").inner_text()
    shot(page, "prices-table", full_page=True)
    open_tab(page, "Pareto plot")
    xs = lambda: page.evaluate("""() => { const el = document.querySelector('#pareto-plot .js-plotly-plot');
      if (!el || !el._fullData) return null; const t = el._fullData.find(t => t.name === 'Single models');
      return t ? Array.from(t.x)[Array.from(t.text).indexOf('GPT-4o')] : null; }""")  # noqa: E731
    wait_until(lambda: xs() is not None and abs(xs() - expect) < 1e-3 * expect + 1e-9, what="GPT-4o moved on the plot")
    assert "your edited prices" in page.locator("#budget-best").inner_text()
    page.locator("#pareto-colour").get_by_text("throughput", exact=True).click()
    wait_until(lambda: "Throughput (K tok/s)" in (plot_trace_names(page) or []), what="points coloured by throughput")
    shot(page, "pareto-prices", full_page=True)
    page.locator("#price-select input").first.click()
    page.get_by_role("option", name="The track's own prices", exact=False).first.click()
    open_tab(page, "Leaderboard")
    wait_until(lambda: "the track's own prices" in page.locator("#lb-count").inner_text(), what="the track's prices back")
