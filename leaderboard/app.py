"""The Gradio app, assembled from one builder per tab, and ``serve`` which runs it with one
evaluation worker beside it.

The web process talks to the database through :class:`submissions.service.SubmissionService` and
loads bundles with ``hidden=False``: it never reads test labels.
"""

from __future__ import annotations

import atexit
import functools
import json
import signal
import subprocess
import sys
import threading
from typing import Any

import gradio as gr

import evaluator
from leaderboard import auth
from leaderboard.columns import BASE_COLUMNS, PINNED, tooltips
from leaderboard.generalisation import build_generalisation_tab, generalisation_records
from leaderboard.deploy import listen_address, log_storage_warning, storage_warning
from leaderboard.board import LIVE, PAGE_SIZE
from evaluator.pricing import PriceTableError
from leaderboard.plotly_html import add_static_routes, load_when_idle_js
from leaderboard.prices import parse_prices_text
from leaderboard.tabs import (STACK_BELOW, Ctx, board_choices, build_detail_tab, build_docs_tab,
                              build_leaderboard_tab, build_mine_tab, build_pareto_tab, build_price_controls,
                              build_submit_tab, keep_warm, matching_ids, track_badge)
from submissions.config import Settings
from submissions.routers import background
from submissions.sandbox import die_with_parent
from submissions.service import ServiceError, SubmissionService


def _pinned_css(table: str = "#leaderboard-table") -> str:
    """Gradio 6's Dataframe accepts ``pinned_columns`` but scrolls those columns away with the rest:
    sticky positions for the pinned columns (Rank, Router), offsets from their declared widths."""
    heads = [f'{table} th[data-testid="header-{i}"]' for i in range(PINNED)]
    cells = [f'{table} [role="gridcell"][data-col="{i}"]' for i in range(PINNED)]
    widths = [c.width for c in BASE_COLUMNS[:PINNED]]
    css = [f"{', '.join(heads)} {{ background: var(--table-even-background-fill); z-index: 5; }}",
           f"{', '.join(cells)} {{ background: inherit; z-index: 4; }}",
           f"{heads[-1]}, {cells[-1]} {{ box-shadow: inset -1px 0 0 var(--border-color-primary); }}"]
    css += [f"{heads[i]}, {cells[i]} {{ position: sticky !important; left: {sum(widths[:i])}px; }}"
            for i in range(PINNED)]
    return "\n".join(css)


CSS = """
.badge-sim { background: #b3261e; color: white; padding: 1px 8px; border-radius: 8px; font-weight: 600; }
.storage-warning { border-left: 4px solid #b3261e; padding-left: 8px; }
""" + _pinned_css()


#: Gradio titles each header cell with its label; this puts the column's declared tooltip there instead
#: (again whenever the table redraws its headers).
_TOOLTIP_JS = """() => {
  const tips = %s;
  let queued = false;
  const apply = () => {
    queued = false;
    document.querySelectorAll('#leaderboard-table th[title]').forEach(th => {
      const tip = tips[th.getAttribute('title')];
      if (tip && tip !== th.getAttribute('title')) th.setAttribute('title', tip);
    });
  };
  new MutationObserver(() => { if (!queued) { queued = true; requestAnimationFrame(apply); } })
    .observe(document.body, {subtree: true, childList: true, attributes: true, attributeFilter: ['title']});
  apply();
}"""


def page_js(service: SubmissionService) -> str:
    """The page's script: header tooltips of every track's columns (from :mod:`leaderboard.columns`), and
    the plots' Plotly bundle loaded once the table's rows are on screen."""
    ctx = Ctx(service)
    tips = {label: tip for track in service.bundles for label, tip in tooltips(ctx.columns(track)).items()
            if tip != label}
    return "() => { (%s)(); (%s)(); }" % (_TOOLTIP_JS % json.dumps(tips).replace("</", "<\\/"),
                                         load_when_idle_js('#leaderboard-table [role="gridcell"]'))


def rows_page(ctx: Ctx, track: str, limit: int | None = PAGE_SIZE, offset: int | None = 0, query: str | None = "",
              prices: str | None = "") -> list[dict] | dict:
    """The JSON API's page of the board (see ``leaderboard_rows`` in :func:`_api`; also ``GET
    /api/leaderboard_rows``), or ``{"error": …}`` naming what is wrong with ``prices``."""
    service = ctx.service
    track = track or service.default_track
    if track not in service.bundles:
        return {"error": f"no track {track!r} here; tracks: {', '.join(service.bundles)}"}
    view = ctx.view(track)
    if (prices or "").strip():
        try:
            view = ctx.boards.view(track, LIVE, parse_prices_text(service.bundle(track), prices))
        except PriceTableError as exc:
            return {"error": str(exc)}
    rows = view.rows
    if (query or "").strip():
        keep = matching_ids(view, query)
        rows = [r for r in rows if r["submission_id"] in keep]
    start = max(int(offset or 0), 0)
    page = rows[start:start + int(limit)] if limit else rows[start:]
    if view.repriced is not None:
        label = view.repriced.table.label()
        page = [{**r, "price_table": label} for r in page]
    return page


#: how long a browser or proxy may reuse an answer of ``GET /api/leaderboard_rows`` (seconds)
ROWS_MAX_AGE = 5


def add_json_routes(app: gr.Blocks, ctx: Ctx) -> None:
    """``GET /api/leaderboard_rows?track=…&limit=…&offset=…&query=…&prices=…``: the same page as the
    Gradio endpoint, as plain JSON (``curl``-able, cacheable for :data:`ROWS_MAX_AGE` seconds), without
    Gradio's per-request session and output walk (about 40 ms of CPU a call on 2 cores). Added after
    launch, to the app Gradio serves; not added when the app asks for a password (a route outside
    Gradio would not)."""
    if auth.gradio_auth() is not None:
        return
    import orjson
    from fastapi import Response

    def leaderboard_rows(track: str = "", limit: int = PAGE_SIZE, offset: int = 0, query: str = "",
                         prices: str = "") -> Response:
        answer = rows_page(ctx, track, limit, offset, query, prices)
        if isinstance(answer, dict):
            return Response(orjson.dumps(answer), status_code=400, media_type="application/json")
        return Response(orjson.dumps(answer), media_type="application/json",
                        headers={"Cache-Control": f"public, max-age={ROWS_MAX_AGE}"})

    app.server_app.add_api_route("/api/leaderboard_rows", leaderboard_rows, methods=["GET"])


def _api(ctx: Ctx) -> None:
    """JSON endpoints for ``gradio_client`` (the CLI's ``submit`` and scripts)."""
    service = ctx.service

    def leaderboard_rows(track: str, limit: int = PAGE_SIZE, offset: int = 0, query: str = "",
                         prices: str = "") -> list[dict] | dict:
        """A page of the board (best rank first; ``query`` searches router, team and type like the table).
        ``limit=0`` answers every row; the full set is also the CSV download and the results dataset.
        ``prices``: re-price under another table — a table's name (see the app's price selector) or the
        prices themselves as JSON/YAML, e.g. ``{"GPT-4o": {"input": 1.25, "output": 5}}`` (models left
        out keep the track's prices); the answer's rows then carry ``price_table``."""
        return rows_page(ctx, track, limit, offset, query, prices)

    def my_submissions(track: str, request: gr.Request, profile: gr.OAuthProfile | None) -> list[dict]:
        user = auth.current_user(request, profile)
        return [v.to_dict() for v in service.list_mine(user, track or None)] if user else []

    def submission(submission_id: int, request: gr.Request, profile: gr.OAuthProfile | None) -> dict:
        try:
            return service.status(int(submission_id), auth.current_user(request, profile)).to_dict()
        except ServiceError as exc:
            return {"error": str(exc)}

    def withdraw(submission_id: int, request: gr.Request, profile: gr.OAuthProfile | None) -> dict:
        try:
            return service.withdraw(auth.current_user(request, profile), int(submission_id)).to_dict()
        except ServiceError as exc:
            return {"error": str(exc)}

    def tracks() -> list[str]:
        return list(service.bundles)

    def generalisation_rows(include_reference: bool = False) -> list[dict]:
        """The Generalisation view's rows (keys as in :mod:`leaderboard.generalisation`; null where a
        router has no entry), by mean drop — values as the boards show them."""
        return generalisation_records(ctx, bool(include_reference))

    def releases(track: str) -> list[dict]:
        return service.releases(track or None)

    def release_rows(release_id: int) -> list[dict] | dict:
        try:
            return service.release_rows(int(release_id))
        except ServiceError as exc:
            return {"error": str(exc)}

    def select_final(submission_id: int, selected: bool, request: gr.Request, profile: gr.OAuthProfile | None) -> dict:
        try:
            return service.select_final(auth.current_user(request, profile), int(submission_id), bool(selected)).to_dict()
        except ServiceError as exc:
            return {"error": str(exc)}

    def cut_release(track: str, note: str, request: gr.Request, profile: gr.OAuthProfile | None) -> dict:
        try:
            return service.cut_release(auth.current_user(request, profile) or "", track or None, note or "")
        except ServiceError as exc:
            return {"error": str(exc)}

    # Reads answer straight away, outside Gradio's event queue (no join, no event stream per call): a
    # public board is read far more often than it is written, by many clients at once.
    for fn in (leaderboard_rows, tracks, releases, release_rows, generalisation_rows):
        gr.api(fn, api_name=fn.__name__, queue=False)
    for fn in (my_submissions, submission, withdraw, select_final, cut_release):
        gr.api(fn, api_name=fn.__name__)


def _one_event(handlers: list[tuple[Any, list, list]]) -> tuple[Any, list, list]:
    """Handlers of plain inputs as one (fn, inputs, outputs): a page load then costs one request and
    one session update, not one per handler."""
    inputs = [c for _, ins, _ in handlers for c in ins]
    outputs = [c for _, _, outs in handlers for c in outs]

    def run(*values):
        out, k = [], 0
        for fn, ins, outs in handlers:
            res = fn(*values[k:k + len(ins)])
            k += len(ins)
            out.extend(res if len(outs) > 1 else [res])
        return out

    return run, inputs, outputs


def build_app(service: SubmissionService, ctx: Ctx | None = None) -> gr.Blocks:
    ctx = ctx or Ctx(service)
    tracks = list(service.bundles)
    with gr.Blocks(title="Router leaderboard") as app:
        gr.Markdown("# Router leaderboard\nVision–language-model routers compared on hidden test samples: "
                    "accuracy, cost, rank score and cost–accuracy curves.")
        gr.Markdown(auth.header_note(), elem_id="auth-mode")
        warning = storage_warning(service.settings)
        if warning:
            gr.Markdown(warning, elem_id="storage-warning", elem_classes="storage-warning")
        with gr.Row():
            track_dd = gr.Dropdown(tracks, value=tracks[0], label="Track", scale=1, elem_id="track-select",
                                   min_width=STACK_BELOW)
            with gr.Column(scale=1, min_width=STACK_BELOW):  # a Markdown's own min_width is not applied
                badge = gr.Markdown(track_badge(ctx, tracks[0]), elem_id="track-badge")
        starters = gr.Markdown(starter_status(service, tracks[0]), elem_id="starter-status")
        starters_timer = gr.Timer(5, active=bool(starter_status(service, tracks[0])))

        def refresh_starters(track):
            text = starter_status(service, track)
            return text, gr.Timer(active=bool(text))

        starters_timer.tick(refresh_starters, track_dd, [starters, starters_timer], api_name=False,
                            show_progress="hidden")
        track_dd.change(refresh_starters, track_dd, [starters, starters_timer], api_name=False)
        ctx.on_load.append((refresh_starters, [track_dd], [starters, starters_timer]))
        ctx.board_dd = gr.Dropdown(board_choices(ctx, tracks[0]), value=LIVE, label="Board", elem_id="board-select",
                                   info="the live board, or a release (the private part)")
        track_dd.change(lambda t: track_badge(ctx, t), track_dd, badge, api_name=False)

        def boards(track):
            return gr.Dropdown(choices=board_choices(ctx, track), value=LIVE)

        track_dd.change(boards, track_dd, ctx.board_dd, api_name=False)
        ctx.on_load.append((boards, [track_dd], [ctx.board_dd]))
        build_price_controls(ctx, track_dd)
        with gr.Tabs():
            for label, builder in (("Leaderboard", build_leaderboard_tab), ("Pareto plot", build_pareto_tab),
                                   ("Router detail", build_detail_tab), ("Submit", build_submit_tab),
                                   ("My submissions", build_mine_tab), ("Generalisation", build_generalisation_tab),
                                   ("Data & docs", build_docs_tab)):
                with gr.Tab(label, id=label.lower().replace(" ", "-").replace("&", "and")) as tab:
                    builder(ctx, track_dd)
                for fn, inputs, outputs in ctx.on_show:
                    tab.select(fn, inputs, outputs, api_name=False, show_progress="hidden")
                ctx.on_show.clear()
        if ctx.on_load:
            app.load(*_one_event(ctx.on_load), api_name=False, show_progress="hidden")
        _api(ctx)
    # Read-only events (most of them) must not queue behind each other or behind a submission: no
    # concurrency limit by default; validate and submit set their own (the validation pool's size).
    app.queue(default_concurrency_limit=None)
    return app


def launch_kwargs(host: str | None = None, port: int | None = None) -> dict[str, Any]:
    server_name, server_port = listen_address(host, port)
    return dict(server_name=server_name, server_port=server_port, auth=auth.gradio_auth(), css=CSS,
                footer_links=["api"])


def starter_status(service: SubmissionService, track: str) -> str:
    """The header line while the starter routers of ``track`` are trained in the background."""
    text = background.status_text(service.bundle(track).track_id)
    return f"*{text}*" if text else ""


def start_starter_trainers(service: SubmissionService) -> list[subprocess.Popen]:
    """On a first start, train the missing starter routers of every track in the background."""
    procs = []
    for spec, track in zip(service.settings.tracks, service.bundles):
        if background.missing(track):
            procs.append(subprocess.Popen([sys.executable, "-m", "submissions.routers.background", "--track", spec],
                                          preexec_fn=_term_with_parent))
    return procs


#: in the worker and trainer children: a graceful stop (SIGTERM) when the app process dies
_term_with_parent = functools.partial(die_with_parent, signal.SIGTERM)


def start_worker() -> subprocess.Popen:
    """One worker beside the app: the embedded default needs no separate set-up. It stops with the
    app — at exit, on SIGTERM/SIGINT, and (through the parent-death signal) if the app is killed."""
    proc = subprocess.Popen([sys.executable, "-m", "leaderboard.cli", "worker"],  # tracks: ROUTERBOARD_TRACKS
                            preexec_fn=_term_with_parent)
    atexit.register(stop_worker, proc)
    return proc


def stop_worker(proc: subprocess.Popen, timeout: float = 20.0) -> None:
    """Ask the worker to stop (it hands a running job back to the queue) and wait for it."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()


def serve(host: str | None = None, port: int | None = None, with_worker: bool = True) -> None:
    settings = Settings.from_env()
    for track in settings.tracks:  # build built-in tracks once, before app and worker both need them
        if track in evaluator.tracks.BUILTIN_TRACKS:
            evaluator.tracks.ensure_builtin(track)
    log_storage_warning(settings)
    service = SubmissionService(settings, tracks=list(settings.tracks))
    worker = start_worker() if with_worker else None
    if settings.train_starters:
        start_starter_trainers(service)

    def on_signal(signum, _frame) -> None:
        if worker is not None:
            stop_worker(worker)
        raise KeyboardInterrupt  # Gradio's launch loop closes its server on this and returns

    signal.signal(signal.SIGTERM, on_signal)
    ctx = Ctx(service)
    stop_warming = threading.Event()
    try:
        app = build_app(service, ctx)
        # after the build: Gradio's "blocks being built" is one for the process, not per thread
        threading.Thread(target=keep_warm, args=(ctx, stop_warming), name="keep-warm", daemon=True).start()
        app.launch(**launch_kwargs(host, port), js=page_js(service),
                   max_file_size=settings.max_upload_bytes, prevent_thread_lock=True)
        add_static_routes(app)
        add_json_routes(app, ctx)
        app.block_thread()  # until SIGTERM/SIGINT (see on_signal), as launch() itself would
    finally:
        stop_warming.set()
