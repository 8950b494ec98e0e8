"""The app in a real browser: Debian's chromium driven by Playwright (headless, --no-sandbox).

Screenshots of every tab go to ``test-output/screenshots/`` (and, with
``ROUTERBOARD_UPDATE_SCREENSHOTS=1``, to ``tests/screenshots/`` for the README).
"""

import os
import shutil
from pathlib import Path

import pandas as pd
import pytest

from app_server import running_app, wait_until
from leaderboard import units

CHROMIUM = "/usr/bin/chromium"
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
    with running_app(tmp) as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run", "--disable-quic"])
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(60_000)
        page.goto(url)
        wait_until(lambda: "Oracle" in page.locator("#leaderboard-table").inner_text(), what="reference rows")
        yield page, tmp
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


def test_01_table_and_search(browser_page):
    page, _ = browser_page
    text = table_text(page)
    assert "Oracle" in text and "Janus-Pro-1B" in text and "SIMULATED" in page.locator("#track-badge").inner_text()
    shot(page, "leaderboard")
    box = page.locator("#lb-search").locator("input, textarea").first
    box.fill("gemini; cheapest")
    wait_until(lambda: "Janus-Pro-1B" not in table_text(page), what="search to filter the table")
    text = table_text(page)
    assert "Gemini-Flash-2.5" in text and "CheapestGlobal" in text and "Oracle" not in text
    box.fill("")
    wait_until(lambda: "Janus-Pro-1B" in table_text(page), what="the full table back")


def plot_trace_names(page):
    return page.evaluate("() => { const el = document.querySelector('#pareto-plot .js-plotly-plot');"
                         " return el && el.data ? el.data.map(t => t.name) : null; }")


def best_named(page):
    return page.locator("#best-under-budget").inner_text()


def test_02_pareto_traces_and_budget(browser_page):
    page, _ = browser_page
    open_tab(page, "Pareto plot")
    names = wait_until(lambda: plot_trace_names(page), what="the Plotly figure")
    for expected in ("Single models", "Oracle", "Oracle curve", "StrongestGlobal", "StrongestPerDataset",
                     "Global Pareto frontier", "Budget"):
        assert expected in names, names
    shot(page, "pareto")
    number = page.locator("#budget-slider input[type='number']")
    wait_until(lambda: page.locator("#best-under-budget").count(), what="the page's first best entry")

    def set_budget(v):
        number.fill(str(v))
        number.press("Enter")

    set_budget(-1.0)  # $0.10 per 1k queries: only the smallest models fit
    wait_until(lambda: page.locator("#best-under-budget").count() and best_named(page) == "DeepSeek-VL2-Tiny",
               what="the best entry under $0.10 per 1k queries")
    set_budget(0.6)  # $4 per 1k queries: everything is affordable
    wait_until(lambda: best_named(page) == "StrongestPerDataset", what="the named best entry to change")


def test_03_upload_reaches_done_in_my_submissions(browser_page, sim_bundle):
    page, tmp = browser_page
    ids = sim_bundle.samples.loc[sim_bundle.samples.split == "test", "sample_id"]
    path = tmp / "browser-upload.csv"
    pd.DataFrame({"sample_id": ids, "model_id": "MiMo-VL-7B-RL"}).to_csv(path, index=False)
    open_tab(page, "Submit")
    page.locator("#upload-file input[type='file']").set_input_files(str(path))
    wait_until(lambda: "is valid" in page.locator("#submit-feedback").inner_text(), what="instant validation")
    page.locator("#meta-name").locator("input, textarea").first.fill("Browser MiMo")
    page.locator("#submit-btn").click()
    wait_until(lambda: "queued as submission" in page.locator("#submit-feedback").inner_text(), what="queued")
    shot(page, "submit")
    open_tab(page, "My submissions")
    wait_until(lambda: "Browser MiMo" in page.locator("#my-submissions").inner_text(), what="my row")
    wait_until(lambda: "DONE" in page.locator("#my-submissions").inner_text(), timeout=120, what="DONE")
    assert "worker(s) alive" in page.locator("#worker-status").inner_text()
    shot(page, "my-submissions")


def test_04_user_text_is_inert(browser_page, sim_bundle):
    page, tmp = browser_page
    ids = sim_bundle.samples.loc[sim_bundle.samples.split == "test", "sample_id"]
    path = tmp / "xss.csv"
    pd.DataFrame({"sample_id": ids, "model_id": "Pixtral-12B"}).to_csv(path, index=False)
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
    open_tab(page, "Router detail")
    shot(page, "router-detail")


TEXT_OUTSIDE_MATH_JS = """(sel) => { const c = document.querySelector(sel).cloneNode(true);
  c.querySelectorAll('.katex').forEach(k => k.remove()); return c.textContent; }"""


def test_05_data_and_docs(browser_page, sim_bundle):
    page, _ = browser_page
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
