"""The three tracks served together, in a real browser: starter routers trained on each track join
its board as on a fresh start, the held-out track's board shows held-out and in-distribution accuracy
apart, and the Generalisation view puts each router's in-distribution rank and rank score next to
its held-out and new-model results with the drop — the numbers asserted against the boards' own rows.

The starters here are the real starter code (``train_sweep`` + ``write_starter``) on cheap features
(image statistics and the dataset one-hot, no text encoder) so the app starts in seconds.
"""

import math
import os
from pathlib import Path

import numpy as np
import pytest
from gradio_client import Client

import evaluator
from app_server import CHROMIUM, launch_chromium, running_app, wait_until
from evaluator.generalisation import HELD_OUT, IN_DISTRIBUTION
from evaluator.tracks import DEFAULT_TRACKS
from test_browser import grid_rows, open_tab, shot

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"{CHROMIUM} is not installed")

STARTER = "Starter linear (λ sweep)"


def _train_starters(data: Path) -> dict[str, str]:
    """Train the linear starter on each track (cheap features) into ``data``; {track name: track id}."""
    from submissions.routers.features import dataset_onehot, image_statistics
    from submissions.routers.starters import write_starter
    from submissions.routers.sweep import train_sweep
    from submissions.routers.unseen import how_text

    ids = {}
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ROUTERBOARD_DATA_DIR", str(data))
        for name in DEFAULT_TRACKS:
            public = evaluator.load_bundle(name, hidden=False)  # generated into `data` on first use
            features = np.concatenate([image_statistics(np.asarray(public.images)), dataset_onehot(public)], axis=1)
            result = train_sweep(public, "linear", target="test", features=features, progress=False)
            write_starter(public.track_id, "linear", result.predictions,
                          {"track": public.track_id, "seconds": result.seconds, "unseen": how_text(public)})
            ids[name] = public.track_id
    return ids


@pytest.fixture(scope="module")
def three_tracks(tmp_path_factory):
    from playwright.sync_api import sync_playwright

    tmp = tmp_path_factory.mktemp("three-tracks")
    data = tmp / "data"
    ids = _train_starters(data)
    env = {"ROUTERBOARD_TRACKS": ",".join(DEFAULT_TRACKS), "ROUTERBOARD_DATA_DIR": str(data)}
    with running_app(tmp, env, timeout=300) as url, sync_playwright() as p:
        client = Client(url, verbose=False)
        rows = {}
        for name, track in ids.items():
            wait_until(lambda: any(r["router"] == STARTER for r in client.predict(track, 0, 0, "",
                                                                                    api_name="/leaderboard_rows")),
                       timeout=240, what=f"the starter scored on {track}")
            rows[name] = client.predict(track, 0, 0, "", api_name="/leaderboard_rows")
        browser = launch_chromium(p)
        page = browser.new_page(viewport={"width": 1440, "height": 1000})
        page.set_default_timeout(60_000)
        page.goto(url)
        wait_until(lambda: "Oracle" in page.locator("#leaderboard-table").inner_text(), what="reference rows")
        yield page, client, ids, rows
        browser.close()


def headers(page, table):
    """The header labels of a table, whitespace normalised (a header may wrap to two lines)."""
    return page.evaluate("(t) => [...document.querySelectorAll(t + ' th[data-testid^=\"header-\"]')]"
                         ".map(th => th.innerText.trim().replace(/\\s+/g, ' '))", table)


def _starter(rows):
    """(rank, row) of the starter on a board (rows best first: the rank is the position)."""
    return next((k + 1, r) for k, r in enumerate(rows) if r["router"] == STARTER)


def test_the_app_serves_three_tracks_and_starters_say_how_they_handle_unseen_models(three_tracks):
    page, client, ids, rows = three_tracks
    assert client.predict(api_name="/tracks") == [ids[n] for n in DEFAULT_TRACKS]  # vlrb-sim first
    assert page.locator("#track-select input").first.input_value() == ids["vlrb-sim"]
    _, starter = _starter(rows["vlrb-sim-newmodels"])
    assert "calibration" in starter["description"] and "model card" in starter["description"]
    assert not _starter(rows["vlrb-sim"])[1]["heldout"]  # no held-out datasets there


def test_held_out_track_board_shows_held_out_and_in_distribution_accuracy(three_tracks):
    page, _, ids, rows = three_tracks
    page.locator("#track-select input").first.click()
    page.get_by_role("option", name=ids["vlrb-sim-heldout"], exact=True).click()
    wait_until(lambda: "vlrb-sim-heldout" in page.locator("#track-badge").inner_text(), what="the held-out track")
    _, starter = _starter(rows["vlrb-sim-heldout"])
    expected = [round(100 * starter["heldout"][g], 1) for g in (HELD_OUT, IN_DISTRIBUTION)]

    def starter_cells():
        grid = grid_rows(page, "#leaderboard-table")
        return grid[0] and next((r for r in grid if STARTER in " ".join(r)), None)

    wait_until(lambda: starter_cells() and "Held-out (%)" in headers(page, "#leaderboard-table"),
               what="the starter row and the held-out columns")
    assert "Text-only (%)" in headers(page, "#leaderboard-table")  # the track's own families
    # switching tracks raised no error (a cost slider once kept the previous track's value beyond the new bounds)
    page.wait_for_timeout(1000)
    assert page.get_by_text("greater than maximum").count() == 0 and page.get_by_text("less than minimum").count() == 0
    head = headers(page, "#leaderboard-table")
    cells = starter_cells()
    got = [float(cells[head.index("Held-out (%)")]), float(cells[head.index("In-distribution (%)")])]
    assert got == expected, (got, expected, head)
    # shown under the Ladder's group rule: a multiple of a step of at least 8 of the group's samples
    assert 0 < starter["heldout"][HELD_OUT] < starter["heldout"][IN_DISTRIBUTION] < 1
    shot(page, "leaderboard-heldout", full_page=True)


def test_generalisation_view_puts_in_distribution_next_to_held_out_and_new_models(three_tracks):
    page, _, ids, rows = three_tracks
    open_tab(page, "Generalisation")
    wait_until(lambda: STARTER in page.locator("#generalisation-table").inner_text(), what="the generalisation rows")
    head = headers(page, "#generalisation-table")
    row = next(r for r in grid_rows(page, "#generalisation-table") if r and r[0] == STARTER)
    cell = dict(zip(head, row))
    rank_in, s_in = _starter(rows["vlrb-sim"])
    rank_ho, s_ho = _starter(rows["vlrb-sim-heldout"])
    rank_nm, s_nm = _starter(rows["vlrb-sim-newmodels"])
    assert cell["Team"] == "routerboard starter"
    assert int(cell["In-dist. rank"]) == rank_in and int(cell["Held-out rank"]) == rank_ho
    assert int(cell["New models rank"]) == rank_nm
    for label, r in (("In-dist. score", s_in), ("Held-out score", s_ho), ("New models score", s_nm)):
        assert float(cell[label]) == pytest.approx(round(100 * r["rank_score"], 1)), label
    drop_ho = 100 * (s_in["rank_score"] - s_ho["rank_score"])
    drop_nm = 100 * (s_in["rank_score"] - s_nm["rank_score"])
    assert float(cell["Held-out drop"]) == pytest.approx(round(drop_ho, 1))
    assert float(cell["New models drop"]) == pytest.approx(round(drop_nm, 1))
    assert float(cell["Mean drop"]) == pytest.approx(round((drop_ho + drop_nm) / 2, 1))
    for g, label in ((HELD_OUT, "Acc. held-out datasets (%)"), (IN_DISTRIBUTION, "Acc. in-dist. datasets (%)")):
        assert float(cell[label]) == pytest.approx(round(100 * s_ho["heldout"][g], 1))
    # the JSON API gives the same rows
    api = [r for r in three_tracks[1].predict(False, api_name="/generalisation_rows") if r["router"] == STARTER]
    assert len(api) == 1 and api[0]["rank:in"] == rank_in and api[0]["rs:in"] == pytest.approx(100 * s_in["rank_score"])
    assert api[0]["drop:vlrb-sim-heldout"] == pytest.approx(drop_ho)
    # reference entries join on request, and the view sorts on the chosen column
    page.locator("#gen-reference input").first.check()
    wait_until(lambda: "StrongestPerDataset" in page.locator("#generalisation-table").inner_text(),
               what="reference entries in the view")
    drops = [float(r[head.index("Mean drop")]) for r in grid_rows(page, "#generalisation-table")
             if r and r[head.index("Mean drop")] not in ("", "NaN")]
    assert len(drops) > 5 and drops == sorted(drops) and all(math.isfinite(d) for d in drops)
    page.locator("#gen-reference input").first.uncheck()
    wait_until(lambda: "StrongestPerDataset" not in page.locator("#generalisation-table").inner_text(),
               what="routers only")
    shot(page, "generalisation", full_page=True)
    assert os.path.exists(Path(__file__).resolve().parents[1] / "test-output" / "screenshots" / "generalisation.png")
