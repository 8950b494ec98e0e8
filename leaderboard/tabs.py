"""The app's tabs, one small builder each, plus the handlers they wire (plain functions of the
service, so tests can call them without a browser).

Every string a user typed reaches the page through :mod:`leaderboard.text` (inert) or a plain-text
Dataframe cell; nothing user-written is interpreted as HTML or Markdown.
"""

from __future__ import annotations

import json
import math
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gradio as gr
import numpy as np
import pandas as pd

from leaderboard import auth
from leaderboard.columns import Column, choosable, columns_for, default_labels
from leaderboard.figures import ORACLE_ENTRIES, best_under_budget, detail_figure, pareto_figure
from leaderboard.tables import apply_filters, csv_export, display_frame, raw_frame
from leaderboard.text import inert
from submissions.service import ServiceError, SubmissionMeta, SubmissionService
from submissions.status import ROUTER_TYPES, Status, Visibility

ALL = "All samples"


@dataclass
class Ctx:
    service: SubmissionService
    #: (fn, inputs, outputs) to run when a page opens, collected from the tab builders.
    on_load: list = field(default_factory=list)
    #: (fn, inputs, outputs) to run when the tab being built is selected (fresh data on every visit).
    on_show: list = field(default_factory=list)
    #: the Submit button's event, so other tabs can refresh after a submission
    submitted: Any = None
    #: seconds a leaderboard read is reused: one page load asks for it from five handlers at once
    rows_ttl: float = 2.0
    _rows: dict = field(default_factory=dict)

    def rows(self, track: str) -> list[dict[str, Any]]:
        """The track's leaderboard rows, read once per ``rows_ttl`` however many handlers ask."""
        now = time.monotonic()
        hit = self._rows.get(track)
        if hit is None or now - hit[0] > self.rows_ttl:
            hit = (now, self.service.leaderboard_rows(track))
            self._rows[track] = hit
        return hit[1]

    def families(self, track: str) -> list[str]:
        return sorted(self.service.bundle(track).samples["family"].unique())

    def datasets(self, track: str) -> list[str]:
        return sorted(self.service.bundle(track).samples["dataset"].unique())

    def columns(self, track: str) -> list[Column]:
        return columns_for(self.families(track))


def track_badge(ctx: Ctx, track: str) -> str:
    b = ctx.service.bundle(track)
    sim = " <span class='badge-sim'>SIMULATED</span> — outcomes are drawn from a documented model, not measured" \
        if b.provenance.simulated else ""
    s = b.summary()
    return (f"**Track {inert(track)}**{sim}<br>{s['models']} models · {s['samples']:,} samples · "
            f"{s['datasets']} datasets · scored on the hidden test split ({s['splits']['test']:,} samples)")


# ------------------------------------------------------------------------------ leaderboard
def leaderboard_view(ctx: Ctx, track: str, query: str, types: list[str], show_reference: bool,
                     max_cost: float | None, shown: list[str]):
    cols = ctx.columns(track)
    df = raw_frame(ctx.rows(track), ctx.families(track))
    filtered = apply_filters(df, query, types, show_reference, max_cost)
    frame, kinds = display_frame(filtered, cols, shown)
    return gr.Dataframe(value=frame, datatype=kinds), csv_export(filtered, cols, shown)


def cost_range(ctx: Ctx, track: str) -> tuple[float, float]:
    rows = ctx.rows(track)
    costs = [1000 * r["cost"] for r in rows if r["cost"]]
    if not costs:
        return 0.0, 1.0
    return 0.0, float(np.ceil(max(costs) * 100) / 100)


def build_leaderboard_tab(ctx: Ctx, track_dd: gr.Dropdown) -> None:
    track = track_dd.value
    cols = ctx.columns(track)
    lo, hi = cost_range(ctx, track)
    with gr.Row():
        search = gr.Textbox(label="Search", placeholder="router, team or type — several terms: a; b", scale=3,
                            elem_id="lb-search")
        types = gr.CheckboxGroup(list(ROUTER_TYPES), value=list(ROUTER_TYPES), label="Router type", scale=2)
        show_ref = gr.Checkbox(value=True, label="Show reference entries (single models, baselines, oracle)", scale=1)
    with gr.Row():
        max_cost = gr.Slider(lo, hi, value=hi, step=0.01, label="Max cost ($ per 1k queries)", scale=2)
        shown = gr.CheckboxGroup(choosable(cols), value=default_labels(cols), label="Columns", scale=3)
    frame, kinds = display_frame(apply_filters(raw_frame(ctx.rows(track), ctx.families(track))),
                                 cols, default_labels(cols))
    table = gr.Dataframe(value=frame, datatype=kinds, interactive=False, wrap=True, elem_id="leaderboard-table",
                         max_height=700, label="Leaderboard (hidden test split; rank score ×100)")
    download = gr.DownloadButton("Download CSV", elem_id="lb-download")
    inputs = [track_dd, search, types, show_ref, max_cost, shown]
    handler = lambda *a: leaderboard_view(ctx, *a)  # noqa: E731
    for comp in (search, types, show_ref, max_cost, shown, track_dd):
        comp.change(handler, inputs, [table, download], show_progress="hidden", api_name=False)
    gr.Timer(30).tick(handler, inputs, [table, download], show_progress="hidden", api_name=False)

    def slider_range(track):
        lo, hi = cost_range(ctx, track)
        return gr.Slider(minimum=lo, maximum=hi, value=hi)

    track_dd.change(slider_range, track_dd, max_cost, api_name=False)
    ctx.on_load.append((slider_range, [track_dd], [max_cost]))
    ctx.on_load.append((handler, inputs, [table, download]))
    ctx.on_show.append((handler, inputs, [table, download]))


# ------------------------------------------------------------------------------ pareto
def slice_choices(ctx: Ctx, track: str) -> list[str]:
    return [ALL] + [f"family: {f}" for f in ctx.families(track)] + [f"dataset: {d}" for d in ctx.datasets(track)]


def budget_bounds(rows: list[dict]) -> tuple[float, float]:
    """Slider range (log10 $ per 1k queries) spanning the achievable entries (oracles excluded)."""
    costs = [p["cost"] for r in rows if r["router"] not in ORACLE_ENTRIES for p in r["points"]
             if p["cost"] and p["cost"] > 0]
    if not costs:
        return -3.0, 1.0
    return math.floor(math.log10(1000 * min(costs)) * 10) / 10, math.ceil(math.log10(1000 * max(costs)) * 10) / 10


def pareto_view(ctx: Ctx, track: str, slice_name: str, budget_log10: float):
    rows = ctx.rows(track)
    slice_points = None
    if slice_name and slice_name != ALL:
        level, name = slice_name.split(": ", 1)
        slice_points = ctx.service.slice_points(track, level, name)
    budget = 10 ** budget_log10 / 1000 if budget_log10 is not None else None
    fig = pareto_figure(rows, budget=budget, slice_points=slice_points, title=slice_name or ALL)
    best = best_under_budget(rows, budget, slice_points) if budget else None
    if best is None:
        text = f"Budget **${1000 * budget:.3g} per 1k queries**: no entry is that cheap."
    else:
        name, p = best
        text = (f"Budget **${1000 * budget:.3g} per 1k queries** → most accurate within it: "
                f"<span id='best-under-budget'>{inert(name)}</span> (point {inert(p['point'])}: "
                f"{100 * p['accuracy']:.1f}% at ${1000 * p['cost']:.3g} per 1k queries)")
    return fig, text


def build_pareto_tab(ctx: Ctx, track_dd: gr.Dropdown) -> None:
    track = track_dd.value
    rows = ctx.rows(track)
    lo, hi = budget_bounds(rows)
    with gr.Row():
        slice_dd = gr.Dropdown(slice_choices(ctx, track), value=ALL, label="Plot this slice", scale=1)
        budget = gr.Slider(lo, hi, value=round((lo + hi) / 2, 2), step=0.01, scale=2, elem_id="budget-slider",
                           label="Budget: log10 of $ per 1k queries (the green line)")
    best = gr.Markdown(elem_id="budget-best")
    plot = gr.Plot(elem_id="pareto-plot", label="Cost vs accuracy")
    inputs = [track_dd, slice_dd, budget]
    handler = lambda *a: pareto_view(ctx, *a)  # noqa: E731
    for comp in (slice_dd, budget, track_dd):
        comp.change(handler, inputs, [plot, best], show_progress="hidden", api_name=False)

    def refresh_controls(track):
        lo, hi = budget_bounds(ctx.rows(track))
        return gr.Dropdown(choices=slice_choices(ctx, track), value=ALL), gr.Slider(
            minimum=lo, maximum=hi, value=round((lo + hi) / 2, 2))

    track_dd.change(refresh_controls, track_dd, [slice_dd, budget], api_name=False)
    ctx.on_load.append((refresh_controls, [track_dd], [slice_dd, budget]))
    ctx.on_load.append((handler, inputs, [plot, best]))
    ctx.on_show.append((handler, inputs, [plot, best]))


# ------------------------------------------------------------------------------ detail
def entry_choices(ctx: Ctx, track: str) -> list[tuple[str, int]]:
    return [(f"{r['router']} (#{r['submission_id']})", r["submission_id"]) for r in ctx.rows(track)]


def detail_view(ctx: Ctx, track: str, first: int | None, second: int | None, level: str, request: gr.Request = None,
                profile: Any = None):
    user = auth.current_user(request, profile)
    views = []
    for sid in (first, second):
        if sid is None:
            continue
        try:
            views.append(ctx.service.status(int(sid), user).to_dict())
        except ServiceError as exc:
            return detail_figure([]), f"**Not shown:** {inert(str(exc))}"
    key = "per_dataset" if level == "dataset" else "per_family"
    lines = []
    for v in views:
        if not v["points"]:
            continue
        p = next((q for q in v["points"] if q["point"] == v["best_point"]), v["points"][0])
        ci = p["ci"]
        pt = p["paired_test"]
        fmt_ci = lambda k, s=100: (f"{s * ci[k][0]:.1f}–{s * ci[k][1]:.1f}" if ci[k][0] is not None else "n/a")  # noqa
        paired = ""
        if pt["rank_score"]["p_value"] is not None:
            paired = (f" Paired test vs the best single model: Δ accuracy {100 * pt['accuracy']['delta']:+.1f} pts "
                      f"(p = {pt['accuracy']['p_value']:.3f}), Δ rank score {100 * pt['rank_score']['delta']:+.1f} "
                      f"(p = {pt['rank_score']['p_value']:.3f}).")
        lines.append(f"- **{inert(v['router_name'])}** ({inert(v['team']) or 'no team'}), point `{inert(p['point'])}`: "
                     f"accuracy {100 * p['accuracy']:.1f}% (95% CI {fmt_ci('accuracy')}), cost "
                     f"${1000 * p['cost']:.3g} per 1k queries, rank score {100 * p['rank_score']:.1f} "
                     f"(95% CI {fmt_ci('rank_score')}).{paired}")
    return detail_figure(views, key), "\n".join(lines) or "Pick an entry."


def build_detail_tab(ctx: Ctx, track_dd: gr.Dropdown) -> None:
    choices = entry_choices(ctx, track_dd.value)
    with gr.Row():
        first = gr.Dropdown(choices, value=choices[0][1] if choices else None, label="Entry", scale=2)
        second = gr.Dropdown(choices, value=None, label="Compare with (optional)", scale=2)
        level = gr.Radio(["dataset", "family"], value="dataset", label="Break down by", scale=1)
    text = gr.Markdown()
    plot = gr.Plot(label="Accuracy per group (bars: 95% binomial interval)")
    def run(track, a, b, lvl, request: gr.Request, profile: gr.OAuthProfile | None):
        return detail_view(ctx, track, a, b, lvl, request, profile)

    for comp in (first, second, level):
        comp.change(run, [track_dd, first, second, level], [plot, text], show_progress="hidden", api_name=False)

    def refresh_choices(track):
        ch = entry_choices(ctx, track)
        return gr.Dropdown(choices=ch, value=ch[0][1] if ch else None), gr.Dropdown(choices=ch, value=None)

    track_dd.change(refresh_choices, track_dd, [first, second], api_name=False)
    ctx.on_load.append((refresh_choices, [track_dd], [first, second]))


# ------------------------------------------------------------------------------ submit
def _file_bytes(upload: Any) -> tuple[str, bytes]:
    path = upload if isinstance(upload, str) else getattr(upload, "name", None) or getattr(upload, "path", None)
    p = Path(path)
    return p.name, p.read_bytes()


def problems_markdown(problems: list[dict[str, Any]]) -> str:
    lines = []
    for p in problems:
        ex = ", ".join(inert(repr(e)) for e in (p.get("examples") or [])[:5])
        lines.append(f"- **{inert(p['code'])}** — {inert(p['message'])}" + (f" (e.g. {ex})" if ex else ""))
    return "\n".join(lines)


def validate_upload(ctx: Ctx, track: str, upload: Any) -> str:
    if upload is None:
        return "Choose a prediction file first."
    name, data = _file_bytes(upload)
    result = ctx.service.validate(track, name, data)
    if result.ok:
        return (f"**OK — {inert(name)} is valid**: {result.n_rows:,} rows, {len(result.points)} point(s). "
                "Submitting it uses one of today's submissions.")
    return f"**Not valid — {inert(name)}** has {len(result.problems)} problem(s):\n\n" + problems_markdown(
        [p.to_dict() for p in result.problems])


def submit_upload(ctx: Ctx, track: str, upload: Any, router_name: str, team: str, router_type: str, paper: str,
                  code: str, description: str, uses_images: bool, private: bool, request: gr.Request = None,
                  profile: Any = None) -> tuple[str, str]:
    user = auth.current_user(request, profile)
    if user is None:
        return "Sign in first.", "{}"
    if upload is None:
        return "Choose a prediction file first.", "{}"
    name, data = _file_bytes(upload)
    meta = SubmissionMeta(router_name=router_name or "", team=team or "", router_type=router_type or "other",
                          paper_url=paper or "", code_url=code or "", description=description or "",
                          uses_images=bool(uses_images),
                          visibility=Visibility.PRIVATE.value if private else Visibility.PUBLIC.value)
    res = ctx.service.submit(user, track, name, data, meta)
    text = ("**Accepted:** " if res.accepted else "**Not accepted:** ") + inert(res.message)
    if res.problems:
        text += "\n\n" + problems_markdown(res.problems)
    if res.quota_left is not None:
        text += f"\n\nSubmissions left today on this track: **{res.quota_left}**."
    return text, json.dumps(res.to_dict())


def quota_text(ctx: Ctx, track: str, request: gr.Request = None, profile: Any = None) -> str:
    user = auth.current_user(request, profile)
    if user is None:
        return "Sign in to submit."
    return (f"Signed in as **{inert(user)}** · {ctx.service.quota_left(user, track)} of "
            f"{ctx.service.settings.daily_quota} submissions left today on this track.")


def build_submit_tab(ctx: Ctx, track_dd: gr.Dropdown) -> None:
    if auth.mode() == "space":
        gr.LoginButton()
    quota = gr.Markdown(elem_id="quota")
    upload = gr.File(label="Prediction file (.csv, .jsonl, .parquet; optionally .gz)", file_types=[
        ".csv", ".jsonl", ".parquet", ".gz"], type="filepath", elem_id="upload-file")
    with gr.Row():
        router_name = gr.Textbox(label="Router name", max_lines=1, elem_id="meta-name")
        team = gr.Textbox(label="Team", max_lines=1, elem_id="meta-team")
        router_type = gr.Dropdown(list(ROUTER_TYPES), value="feature-level", label="Router type")
    with gr.Row():
        paper = gr.Textbox(label="Paper link (http…)", max_lines=1)
        code = gr.Textbox(label="Code link (http…)", max_lines=1)
    description = gr.Textbox(label="Description", lines=3, elem_id="meta-description")
    with gr.Row():
        uses_images = gr.Checkbox(label="Uses images", value=False)
        private = gr.Checkbox(label="Private (only you see it)", value=False)
    with gr.Row():
        validate_btn = gr.Button("Validate", elem_id="validate-btn")
        submit_btn = gr.Button("Submit", variant="primary", elem_id="submit-btn")
    feedback = gr.Markdown(elem_id="submit-feedback")
    result = gr.Code(label="Submission (JSON)", language="json", visible=False)

    def do_validate(track, file):
        return validate_upload(ctx, track, file)

    def do_submit(track, file, a, b, c, d, e, f, g, h, request: gr.Request, profile: gr.OAuthProfile | None):
        return submit_upload(ctx, track, file, a, b, c, d, e, f, g, h, request=request, profile=profile)

    def do_quota(track, request: gr.Request, profile: gr.OAuthProfile | None):
        return quota_text(ctx, track, request, profile)

    # Uploads are checked in a pool of child processes: as many checks run at once as it has children.
    checks = {"concurrency_limit": ctx.service.settings.validation_processes, "concurrency_id": "upload-checks"}
    upload.upload(do_validate, [track_dd, upload], feedback, api_name=False, **checks)
    validate_btn.click(do_validate, [track_dd, upload], feedback, api_name="validate", **checks)
    ctx.submitted = submit_btn.click(do_submit, [track_dd, upload, router_name, team, router_type, paper, code,
                                                 description, uses_images, private], [feedback, result],
                                     api_name="submit", **checks).then(do_quota, track_dd, quota, api_name=False)
    ctx.on_load.append((do_quota, [track_dd], [quota]))


# ------------------------------------------------------------------------------ mine
MINE_COLUMNS = ["#", "Router", "Status", "Queue position", "Accuracy (%)", "Rank score", "Error", "Submitted",
                "Visibility"]


def my_view(ctx: Ctx, track: str, request: gr.Request = None, profile: Any = None):
    user = auth.current_user(request, profile)
    views = ctx.service.list_mine(user, track) if user else []
    rows = []
    for v in views:
        acc = round(100 * v.accuracy, 1) if v.accuracy is not None else None
        rs = round(100 * v.rank_score, 1) if v.rank_score is not None else None
        rows.append([v.id, v.router_name, v.status, v.queue_position if v.queue_position is not None else "",
                     acc, rs, v.error or "", v.created_at, v.visibility])
    frame = pd.DataFrame(rows, columns=MINE_COLUMNS)
    workers = ctx.service.workers()
    alive = [w for w in workers if w["alive"]]
    if alive:
        w = alive[0]
        wtext = (f"● {len(alive)} worker(s) alive — last heartbeat {w['seconds_since_heartbeat']:.0f} s ago, "
                 f"{w['state']}" + (f" #{w['current_submission_id']}" if w["current_submission_id"] else ""))
    elif workers:
        wtext = (f"○ no worker alive — the last heartbeat was {workers[0]['seconds_since_heartbeat']:.0f} s ago; "
                 "pending submissions wait until a worker runs")
    else:
        wtext = "○ no worker has started yet; pending submissions wait until one runs"
    pending = any(v.status in (Status.PENDING.value, Status.RUNNING.value) for v in views)
    note = f"Signed in as **{inert(user)}**." if user else "Sign in to see your submissions."
    return frame, f"{note} {wtext}", gr.Timer(active=pending)


def withdraw_entry(ctx: Ctx, track: str, sid: float | None, request: gr.Request = None, profile: Any = None) -> str:
    user = auth.current_user(request, profile)
    if not sid:
        return "Enter the number (#) of one of your submissions."
    try:
        v = ctx.service.withdraw(user, int(sid))
    except ServiceError as exc:
        return f"**Not withdrawn:** {inert(str(exc))}"
    return f"Submission #{v.id} ({inert(v.router_name)}) is withdrawn."


def build_mine_tab(ctx: Ctx, track_dd: gr.Dropdown) -> None:
    status = gr.Markdown(elem_id="worker-status")
    table = gr.Dataframe(headers=MINE_COLUMNS, interactive=False, wrap=True, elem_id="my-submissions")
    with gr.Row():
        sid = gr.Number(label="Submission #", precision=0)
        withdraw_btn = gr.Button("Withdraw", variant="stop")
        refresh = gr.Button("Refresh", elem_id="mine-refresh")
    message = gr.Markdown()
    timer = gr.Timer(2, active=False)

    def view(track, request: gr.Request, profile: gr.OAuthProfile | None):
        return my_view(ctx, track, request, profile)

    def do_withdraw(track, number, request: gr.Request, profile: gr.OAuthProfile | None):
        return withdraw_entry(ctx, track, number, request, profile)

    outs = [table, status, timer]
    refresh.click(view, track_dd, outs, api_name=False)
    if ctx.submitted is not None:  # a new submission shows up here at once, and the timer starts
        ctx.submitted.then(view, track_dd, outs, api_name=False)
    timer.tick(view, track_dd, outs, show_progress="hidden", api_name=False)
    withdraw_btn.click(do_withdraw, [track_dd, sid], message, api_name=False).then(view, track_dd, outs,
                                                                                    api_name=False)
    ctx.on_load.append((view, [track_dd], outs))
    ctx.on_show.append((view, [track_dd], outs))


# ------------------------------------------------------------------------------ docs
def example_file(ctx: Ctx, track: str) -> str:
    """A valid test-split prediction file made from the real track: every sample routed to the most
    accurate model on the public train split."""
    b = ctx.service.bundle(track)
    train = b.split_rows("train")
    best = int(np.nanargmax(np.nanmean(b.quality[train], axis=0))) if train.size else 0
    ids = b.samples.loc[b.samples.split == "test", "sample_id"]
    path = Path(tempfile.gettempdir()) / f"example-predictions-{b.name}-{b.version}.csv"
    pd.DataFrame({"sample_id": ids, "model_id": b.models[best].model_id}).to_csv(path, index=False)
    return str(path)


def docs_markdown(ctx: Ctx, track: str) -> str:
    b = ctx.service.bundle(track)
    prov = b.provenance
    pool = "\n".join(f"| {inert(m.display_name)} | {inert(m.params or '-')} | {m.input_price:.2f} | {m.output_price:.2f} |"
                     for m in b.models)
    return f"""
## Prediction file
One row per test sample (per operating point): columns `sample_id`, `model_id` and, for a curve,
`point` (a label such as a budget or λ; at most 100 points). CSV, JSONL or Parquet, optionally
gzip-compressed (`.csv.gz`, `.jsonl.gz`). Model names accept the pool's aliases in any case.

```csv
sample_id,model_id,point
MMBench-00003,Qwen2.5-VL-32B-Instruct,0.1
MMBench-00003,GPT-4o,1.0
```

## Get the public split
```python
from datasets import load_dataset
samples = load_dataset("<org>/{b.name}", "samples")   # train/dev with quality & cost, test without
```
Locally: `routerboard score preds.csv --bundle {b.name} --split dev` scores a dev file with the public labels.

## Model pool ($ per 1M tokens)
| model | params (B) | input | output |
|---|---|---|---|
{pool}

## Metrics
- **Accuracy** $A = \\frac1n\\sum_i Y_{{i,c_i}}$, **cost** $c = \\frac1n\\sum_i C_{{i,c_i}}$ (USD per query).
- **Rank score** (VL-RouterBench): $C_n = \\frac{{\\log_2 c_{{max}} - \\log_2 c}}{{\\log_2 c_{{max}} - \\log_2 c_{{min}}}}$,
  $S = \\frac{{(1+\\beta) A C_n}}{{\\beta A + C_n}}$, $\\beta = 0.1$; cost clipped to the bounds
  [{b.cost_bounds.cmin:.3g}, {b.cost_bounds.cmax:.3g}] $/query. Shown ×100.
- **Curves** (MMR-Bench): Pareto frontier; **nAUC** = area under the frontier / its cost range;
  **Ps** = best frontier accuracy; **QNC** = first frontier cost reaching the best single model's
  accuracy / that model's cost; **gap closed** = (acc − best single) / (oracle − best single).
- **Intervals**: 95% bootstrap over samples (1,000 replicates, seeded); paired bootstrap test
  against the best single model.

## Provenance
{inert(prov.description)}

Source: {inert(prov.source)} · version {inert(prov.version)} · licence {inert(prov.licence)} ·
{'**simulated**' if prov.simulated else 'measured'}
"""


def build_docs_tab(ctx: Ctx, track_dd: gr.Dropdown) -> None:
    gr.DownloadButton("Download an example prediction file", value=example_file(ctx, track_dd.value),
                      elem_id="example-download")
    docs = gr.Markdown(docs_markdown(ctx, track_dd.value), latex_delimiters=[{"left": "$", "right": "$",
                                                                               "display": False}])
    track_dd.change(lambda t: docs_markdown(ctx, t), track_dd, docs, api_name=False)
