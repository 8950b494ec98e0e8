"""A busy board (issue #13) in process: the warmer derives the board, the first page and the Pareto
figure when a change lands, so that no visitor pays for them; the figure is served as serialised once."""

import sys
import threading
import time
from pathlib import Path

from conftest import make_settings

sys.path.insert(0, str(Path(__file__).resolve().parent / "benchmarks"))
from bench_app import fill  # noqa: E402 — how others reproduce the busy board: must stay importable


def names(figure: dict) -> list[str]:
    """The names of a figure's traces, as the page's Plotly gets them."""
    return [t.get("name") for t in figure["data"]]


def test_the_warmer_derives_each_change_before_a_visitor_asks(db_url, tmp_path):
    from leaderboard.board import LIVE
    from leaderboard.plotly_html import figure_value
    from leaderboard.tabs import ALL, Ctx, NO_COLOUR, cost_bounds, default_budget, first_pareto, keep_warm, pareto_view
    from submissions.service import SubmissionService

    service = SubmissionService(make_settings(db_url, tmp_path), tracks=["vlrb-sim"])
    track = service.default_track
    fill(service, 300)
    ctx = Ctx(service)
    stop = threading.Event()
    warmer = threading.Thread(target=keep_warm, args=(ctx, stop, 0.1), daemon=True)
    warmer.start()
    try:
        def warmed_version():
            view = ctx.boards._views.get((track, LIVE))
            return view.version if view is not None and any(k[0] == "figure" for k in view.memo) else None

        def wait_for(version):
            end = time.monotonic() + 60
            while warmed_version() != version:
                assert time.monotonic() < end, f"board version {version} was not warmed"
                time.sleep(0.05)

        wait_for(service.board_version(track))
        data, text = first_pareto(ctx, track)
        assert first_pareto(ctx, track)[0] is data  # served as serialised, not rebuilt per visitor
        fig, same_text = pareto_view(ctx, track, LIVE, ALL, default_budget(*cost_bounds(ctx, track)), "", None, None,
                                     NO_COLOUR)
        assert data == figure_value(fig) and text == same_text
        assert "Other routers (280)" in names(data)  # 300 entries: the top 20 drawn one by one, the rest as points

        fill(service, 50, seed=1)  # a change lands (as a finished submission would)
        wait_for(service.board_version(track))  # derived by the warmer, not by a visitor's request
        assert "Other routers (330)" in names(first_pareto(ctx, track)[0])
        assert len(ctx.view(track).rows) == 350
    finally:
        stop.set()
        warmer.join(5)
    assert not warmer.is_alive()


#: where the density cell naming the most entries is on screen, and its hover text
CELL_JS = """() => {
  const el = document.querySelector('#pareto-plot .js-plotly-plot');
  const t = el._fullData.find(d => d.name.includes('density'));  // typed arrays decoded
  const xa = el._fullLayout.xaxis, ya = el._fullLayout.yaxis, box = el.getBoundingClientRect();
  let best = 0;
  t.text.forEach((text, k) => { if (text.length > t.text[best].length) best = k; });
  return {name: t.name, type: t.type, symbol: t.marker.symbol, text: t.text[best],
          x: box.left + xa._offset + xa.l2p(Math.log10(t.x[best])), y: box.top + ya._offset + ya.l2p(t.y[best])};
}"""


def test_a_busy_board_in_the_browser(tmp_path):
    """1,000 entries (1,700-odd points): the table pages and counts them, the Pareto plot draws 20 of them
    one by one and the rest as a grey density whose hover names the entries in a cell."""
    from playwright.sync_api import sync_playwright

    from app_server import CHROMIUM, launch_chromium, running_app, wait_until
    from leaderboard.figures import CELL_PX
    from test_browser import grid_rows, open_tab, shot
    from submissions.service import SubmissionService

    import pytest

    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install -y chromium; .ci/run does)")
    db = f"sqlite:///{tmp_path / 'busy.db'}"
    fill(SubmissionService(make_settings(db, tmp_path), tracks=["vlrb-sim"]), 1_000)
    with running_app(tmp_path, {"DATABASE_URL": db}, argv=["-m", "leaderboard.cli", "serve", "--no-worker"]) as url, \
            sync_playwright() as p:
        browser = launch_chromium(p)
        page = browser.new_page(viewport={"width": 1440, "height": 1000})
        page.set_default_timeout(60_000)
        page.goto(url)
        count = wait_until(lambda: "matching" in (t := page.locator("#lb-count").inner_text()) and t, what="the count")
        assert "of 1,000 matching" in count and "page 1 of 10" in count, count
        rows = grid_rows(page, "#leaderboard-table")
        assert len(rows) > 10
        # a click on a row (its team cell: the router cell is a link) highlights that router in the Pareto plot
        picked = rows[5][1]
        page.locator('#leaderboard-table [role="gridcell"][data-row="5"][data-col="2"]').click()
        open_tab(page, "Pareto plot")
        wait_until(lambda: page.locator("#pareto-search").locator("input, textarea").first.input_value() == picked,
                   timeout=30, what="the clicked router in the highlight box")
        wait_until(lambda: page.evaluate("() => (document.querySelector('#pareto-plot .js-plotly-plot') || {}).data"
                                         "?.map(d => d.name) || []").count(f"{picked} (highlighted)") == 1,
                   timeout=30, what="the clicked router drawn highlighted")
        cell = wait_until(lambda: page.evaluate("() => { const el = document.querySelector('#pareto-plot .js-plotly-plot');"
                                                " return !!(el && el.data && el.data.some(d => d.name.includes('density'))); }")
                          and page.evaluate(CELL_JS), what="the density layer")
        page.locator("#pareto-plot").scroll_into_view_if_needed()

        def settled():  # the plot is redrawn when its box changes width (a scrollbar coming or going)
            before = page.evaluate(CELL_JS)
            time.sleep(0.5)
            return before if page.evaluate(CELL_JS) == before else None

        cell = wait_until(settled, timeout=20, what="the plot to settle")  # where the cell is on screen
        assert cell["name"] == "Other routers (980, density)" and cell["type"] == "scatter" and cell["symbol"] == "square"
        names = page.evaluate("() => document.querySelector('#pareto-plot .js-plotly-plot').data.map(d => d.name)")
        assert sum(n.startswith("router-") for n in names) == 20 and "Global Pareto frontier" in names
        page.mouse.move(cell["x"] - 30, cell["y"] - 30)
        page.mouse.move(cell["x"], cell["y"], steps=4)
        hover = wait_until(lambda: page.evaluate("() => [...document.querySelectorAll('#pareto-plot .hovertext')]"
                                                 ".map(e => e.textContent).join(' ')"), timeout=20, what="the cell's hover")
        first = cell["text"].split("<br>")[1]
        assert "entr" in hover and first in hover, (hover, cell["text"], page.evaluate(CELL_JS))
        shot(page, "pareto-busy", full_page=True)
        # on a narrow screen the squares shrink with the plot (15-px squares would merge into one block)
        size = "() => document.querySelector('#pareto-plot .js-plotly-plot')._fullData.find(d => d.name.includes('density')).marker.size"
        wide = page.evaluate(size)
        page.set_viewport_size({"width": 420, "height": 900})
        narrow = wait_until(lambda: (v := page.evaluate(size)) < wide and v, timeout=20, what="smaller squares")
        assert wide == CELL_PX and 3 <= narrow < CELL_PX / 2, (wide, narrow)
        page.close()

        # the plot's script does not load: the box says so; the next draw tries again
        page = browser.new_page(viewport={"width": 1200, "height": 1000})
        page.set_default_timeout(60_000)
        page.route("**/rb-static/**", lambda route: route.abort())
        page.goto(url)
        wait_until(lambda: "matching" in page.locator("#lb-count").inner_text(), what="the count")
        open_tab(page, "Pareto plot")
        error = wait_until(lambda: page.locator("#pareto-plot .rb-plot-error").all_inner_texts(), timeout=30,
                           what="the plot's error")
        assert "could not be drawn" in error[0] and "Reload the page" in error[0]
        # the next draw (here: the tab shown again) loads the script once more and draws
        page.unroute("**/rb-static/**")
        open_tab(page, "Leaderboard")
        open_tab(page, "Pareto plot")
        svg = "() => { const s = document.querySelector('#pareto-plot .main-svg'); return s && +s.getAttribute('width'); }"
        box = "() => Math.round(document.querySelector('#pareto-plot .rb-plotly').getBoundingClientRect().width)"
        drawn = wait_until(lambda: page.evaluate(svg), timeout=30, what="the plot after the script loaded")
        assert drawn == page.evaluate(box) > 900 and not page.locator("#pareto-plot .rb-plot-error").count()
        page.close()

        # the script arrives while the plot's tab is hidden: drawn when shown, at its box's width (not
        # Plotly's 700-px default for a hidden box)
        page = browser.new_page(viewport={"width": 1200, "height": 1000})
        page.set_default_timeout(60_000)
        page.route("**/rb-static/**", lambda route: (page.wait_for_timeout(4000), route.continue_()))
        page.goto(url)
        wait_until(lambda: "matching" in page.locator("#lb-count").inner_text(), what="the count")
        open_tab(page, "Pareto plot")
        open_tab(page, "Leaderboard")
        wait_until(lambda: page.evaluate("() => !!window.Plotly"), timeout=30, what="the script")
        assert not page.evaluate(svg)  # not drawn while hidden
        open_tab(page, "Pareto plot")
        drawn = wait_until(lambda: page.evaluate(svg), timeout=30, what="the plot once shown")
        assert drawn == page.evaluate(box) > 900
        page.close()
        browser.close()


def test_warming_puts_nothing_on_a_page_being_built(tmp_path):
    """The warmer runs in a thread of the web process; Gradio's "blocks being built" is one for the whole
    process, so a component made while warming would appear on the page (it did: a bare "Number 1" box
    above the board selector). Warming makes none."""
    import gradio as gr

    from leaderboard.tabs import Ctx, warm
    from submissions.service import SubmissionService

    service = SubmissionService(make_settings(f"sqlite:///{tmp_path / 'w.db'}", tmp_path), tracks=["vlrb-sim"])
    fill(service, 30)
    ctx = Ctx(service)
    with gr.Blocks() as page:
        gr.Markdown("the page")
        warm(ctx, service.default_track)
    assert [type(b).__name__ for b in page.blocks.values()] == ["Markdown"]
    assert ctx.view(service.default_track).memo  # and it did warm
