"""The running app through gradio_client: leaderboard rows, a valid upload reaching DONE and a new
row, a bad upload's problems, and one user unable to see or withdraw another's private entry."""

import pandas as pd
import pytest
from gradio_client import Client, handle_file

from app_server import running_app, wait_until
from leaderboard.auth import hash_password

TRACK = "vlrb-sim@1.0"


def write_preds(bundle, path, model="Qwen2.5-VL-32B-Instruct", bad=False):
    ids = bundle.samples.loc[bundle.samples.split == "test", "sample_id"]
    frame = pd.DataFrame({"sample_id": ids, "model_id": model})
    if bad:
        frame = frame.iloc[5:].assign(model_id="gpt-4")
    frame.to_csv(path, index=False)
    return str(path)


@pytest.fixture(scope="module")
def local_app(tmp_path_factory, sim_bundle):
    with running_app(tmp_path_factory.mktemp("app-local")) as url:
        client = Client(url, verbose=False)
        wait_until(lambda: client.predict(TRACK, api_name="/leaderboard_rows"), what="reference entries")
        yield url, client


def test_leaderboard_rows_of_the_default_track(local_app, sim_bundle):
    _, client = local_app
    rows = client.predict(TRACK, api_name="/leaderboard_rows")
    names = {r["router"] for r in rows}
    assert set(sim_bundle.model_ids) <= names
    assert {"Oracle", "StrongestGlobal", "CheapestGlobal", "StrongestPerDataset", "Random"} <= names
    assert rows == sorted(rows, key=lambda r: -r["rank_score"])


def test_leaderboard_rows_pages_and_searches(local_app):
    _, client = local_app
    everything = client.predict(TRACK, 0, 0, "", api_name="/leaderboard_rows")
    assert len(everything) > 20
    page = client.predict(TRACK, 5, 5, "", api_name="/leaderboard_rows")
    assert [r["submission_id"] for r in page] == [r["submission_id"] for r in everything[5:10]]
    found = client.predict(TRACK, 100, 0, "gpt; oracle", api_name="/leaderboard_rows")
    assert {r["router"] for r in found} == {r["router"] for r in everything
                                           if "gpt" in r["router"].lower() or "oracle" in r["router"].lower()}
    assert len(client.predict(TRACK, api_name="/leaderboard_rows")) == min(len(everything), 100)  # a default page


def test_the_plots_script_is_served_and_nothing_else(local_app):
    """``/rb-static/<file>``: the vendored Plotly bundle, byte for byte and cached a year; the licence
    beside it, paths that climb out and unknown names are not served."""
    import httpx

    from leaderboard.plotly_html import PLOTLY_JS, PLOTLY_URL

    url, _ = local_app
    r = httpx.get(url + PLOTLY_URL)
    assert r.status_code == 200 and r.content == PLOTLY_JS.read_bytes()
    assert r.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert r.headers["content-type"].startswith("text/javascript")
    for name in ("plotly-LICENSE.txt", "..%2Fplotly_html.py", "..%2F..%2Fpyproject.toml", "nothing.js"):
        assert httpx.get(url + "rb-static/" + name).status_code == 404, name
    assert httpx.post(url + PLOTLY_URL).status_code == 405


def test_plain_json_route_answers_the_same_pages(local_app):
    """``GET /api/leaderboard_rows``: the Gradio endpoint's pages as plain JSON, cacheable a few seconds."""
    import httpx

    url, client = local_app
    everything = client.predict(TRACK, 0, 0, "", api_name="/leaderboard_rows")
    r = httpx.get(url + "api/leaderboard_rows", params={"track": TRACK, "limit": 0})
    assert r.status_code == 200 and r.json() == everything
    assert r.headers["cache-control"] == "public, max-age=5"
    page = httpx.get(url + "api/leaderboard_rows", params={"track": TRACK, "limit": 5, "offset": 5}).json()
    assert [x["submission_id"] for x in page] == [x["submission_id"] for x in everything[5:10]]
    found = httpx.get(url + "api/leaderboard_rows", params={"query": "gpt; oracle"}).json()  # default track
    assert found == client.predict(TRACK, 100, 0, "gpt; oracle", api_name="/leaderboard_rows")
    assert len(httpx.get(url + "api/leaderboard_rows").json()) == min(len(everything), 100)
    repriced = httpx.get(url + "api/leaderboard_rows", params={"limit": 0, "prices": '{"gpt-4o": {"input": 1.25, '
                                                                                     '"output": 5}}'}).json()
    assert repriced == client.predict(TRACK, 0, 0, "", '{"gpt-4o": {"input": 1.25, "output": 5}}',
                                      api_name="/leaderboard_rows")
    bad = httpx.get(url + "api/leaderboard_rows", params={"prices": '{"GPT-4o": {"input": -1, "output": 5}}'})
    assert bad.status_code == 400 and "GPT-4o" in bad.json()["error"]
    unknown = httpx.get(url + "api/leaderboard_rows", params={"track": "no-such-track"})
    assert unknown.status_code == 400 and TRACK in unknown.json()["error"]
    assert httpx.get(url + "api/leaderboard_rows", params={"limit": "many"}).status_code == 422  # FastAPI's check


def test_valid_upload_reaches_done_and_a_new_row(local_app, sim_bundle, tmp_path):
    _, client = local_app
    path = write_preds(sim_bundle, tmp_path / "qwen.csv")
    assert "is valid" in client.predict(TRACK, handle_file(path), api_name="/validate")
    text, raw = client.predict(TRACK, handle_file(path), "Qwen everywhere", "API team", "rule", "https://example.org/p",
                               "", "all to Qwen 32B", False, False, api_name="/submit")
    import json

    res = json.loads(raw)
    assert res["accepted"] and res["queue_position"] >= 1, text
    done = wait_until(lambda: (lambda v: v if v.get("status") == "DONE" else None)(
        client.predict(res["submission_id"], api_name="/submission")), what="DONE")
    rows = client.predict(TRACK, api_name="/leaderboard_rows")
    mine = next(r for r in rows if r["router"] == "Qwen everywhere")
    ref = next(r for r in rows if r["router"] == "Qwen2.5-VL-32B-Instruct")
    # A user's point is shown as the Ladder released it: the reference entry's exact public-part
    # accuracy, rounded to the Ladder's 0.1 points; the same value on the board and in /submission.
    assert mine["accuracy"] == pytest.approx(round(ref["accuracy"], 3), abs=1e-12) == done["points"][0]["accuracy"]
    assert mine["accuracy"] != ref["accuracy"]


def test_bad_upload_returns_the_problems(local_app, sim_bundle, tmp_path):
    _, client = local_app
    path = write_preds(sim_bundle, tmp_path / "bad.csv", bad=True)
    feedback = client.predict(TRACK, handle_file(path), api_name="/validate").replace("\\", "")  # markdown escapes
    assert "missing_sample_id" in feedback and "unknown_model_id" in feedback and "gpt" in feedback
    text, raw = client.predict(TRACK, handle_file(path), "bad", "", "rule", "", "", "", False, False,
                               api_name="/submit")
    assert "missing_sample_id" in text.replace("\\", "") and '"accepted": false' in raw


def test_one_user_cannot_see_or_withdraw_anothers_private_submission(tmp_path, sim_bundle):
    users = f"alice:{hash_password('alice-pw')},bob:{hash_password('bob-pw')}"
    with running_app(tmp_path, {"ROUTERBOARD_USERS": users}) as url:
        alice = Client(url, auth=("alice", "alice-pw"), verbose=False)
        bob = Client(url, auth=("bob", "bob-pw"), verbose=False)
        with pytest.raises(Exception):
            Client(url, auth=("bob", "wrong"), verbose=False).predict(TRACK, api_name="/leaderboard_rows")
        import httpx

        # the plain JSON route would skip the login: a board behind passwords does not have it
        assert httpx.get(url + "api/leaderboard_rows").status_code in (401, 403, 404)
        path = write_preds(sim_bundle, tmp_path / "a.csv", model="GPT-4o")
        import json

        _, raw = alice.predict(TRACK, handle_file(path), "alice secret", "", "rule", "", "", "", False, True,
                               api_name="/submit")
        sid = json.loads(raw)["submission_id"]
        assert alice.predict(sid, api_name="/submission")["router_name"] == "alice secret"
        assert "error" in bob.predict(sid, api_name="/submission")
        assert "error" in bob.predict(sid, api_name="/withdraw")
        assert bob.predict(TRACK, api_name="/my_submissions") == []
        wait_until(lambda: alice.predict(sid, api_name="/submission")["status"] == "DONE", what="DONE")
        assert "alice secret" not in {r["router"] for r in bob.predict(TRACK, api_name="/leaderboard_rows")}
        assert alice.predict(sid, api_name="/withdraw")["status"] == "WITHDRAWN"


def test_leaderboard_rows_repriced(local_app, sim_bundle):
    """``prices`` re-prices the answer: GPT-4o at half price costs half, exactly (a reference entry)."""
    _, client = local_app
    wait_until(lambda: "error" not in (client.predict(TRACK, 0, 0, "gpt-4o", '{"GPT-4o": {"input": 1.25, "output": 5}}',
                                                      api_name="/leaderboard_rows") or {"error": 1}),
               what="the pricing basis")  # the worker computes it right after the reference entries
    base = next(r for r in client.predict(TRACK, 0, 0, "", api_name="/leaderboard_rows") if r["router"] == "GPT-4o")
    rows = client.predict(TRACK, 0, 0, "", '{"gpt-4o": {"input": 1.25, "output": 5}}', api_name="/leaderboard_rows")
    gpt = next(r for r in rows if r["router"] == "GPT-4o")
    assert gpt["cost"] == pytest.approx(base["cost"] / 2, rel=1e-12) and gpt["price_table"] == "custom"
    assert all("tokens" not in r for r in rows) and "Oracle curve" not in {r["router"] for r in rows}
    assert rows == sorted(rows, key=lambda r: -r["rank_score"])
    bad = client.predict(TRACK, 0, 0, "", '{"GPT-4o": {"input": -1, "output": 5}}', api_name="/leaderboard_rows")
    assert "input price -1 is negative" in bad["error"]
    unknown = client.predict(TRACK, 0, 0, "", "2027-prices", api_name="/leaderboard_rows")
    assert "no price table named '2027-prices'" in unknown["error"]
