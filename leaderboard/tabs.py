"""The app's tabs, one small builder each, plus the handlers they wire (plain functions of the
service, so tests can call them without a browser).

Every string a user typed reaches the page through :mod:`leaderboard.text` (inert) or a plain-text
Dataframe cell; nothing user-written is interpreted as HTML or Markdown.
"""

from __future__ import annotations

import functools
import json
import logging
import math
import threading
import weakref
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gradio as gr
import numpy as np
import pandas as pd

from evaluator.pricing import TRACK_TABLE, PriceTable, PriceTableError, track_table
from leaderboard import auth, units
from leaderboard.board import LIVE, PAGE_SIZE, Boards, BoardView, release_id
from leaderboard.columns import PINNED, Column, choosable, columns_for, default_labels, sortable
from leaderboard.prices import CUSTOM, describe, editor_rows, table_from_editor, tables_for
from leaderboard.plotly_html import figure_value, plotly_html
from leaderboard.figures import (POINTS_UP_TO, TOP_ENTRIES, Density, best_under_budget, detail_figure, pareto_figure,
                                 split_entries)
from leaderboard.tables import apply_filters, csv_export, display_frame, sort_frame, table_props
from leaderboard.text import inert
from leaderboard.generalisation import docs_generalisation, heldout_groups
from submissions.service import ServiceError, SubmissionMeta, SubmissionService
from submissions.status import ROUTER_TYPES, Status, Visibility

log = logging.getLogger(__name__)

ALL = "All samples"
#: CSV exports kept per board version (one per recent filter set; older ones are deleted)
CSV_KEPT = 16
#: min_width of controls that share a row: on a phone they stack instead of squeezing each other
STACK_BELOW = 280


@dataclass
class Ctx:
    service: SubmissionService
    #: (fn, inputs, outputs) to run when a page opens, collected from the tab builders.
    on_load: list = field(default_factory=list)
    #: (fn, inputs, outputs) to run when the tab being built is selected (fresh data on every visit).
    on_show: list = field(default_factory=list)
    #: the Submit button's event, so other tabs can refresh after a submission
    submitted: Any = None
    #: the board selector (live board or a release), shared by the Leaderboard and Pareto tabs
    board_dd: Any = None
    #: the boards as visitors see them, derived once per change (see leaderboard.board)
    boards: Boards = None  # type: ignore[assignment]
    #: the price-table selector, the visitor's edited table (a gr.State) and the editor's Apply event,
    #: shared by the Leaderboard and Pareto tabs
    prices_dd: Any = None
    custom_prices: Any = None
    prices_applied: Any = None
    #: the leaderboard table and the inputs that select its page (a row clicked there is highlighted in
    #: the Pareto plot)
    lb_table: Any = None
    lb_inputs: list = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.boards is None:
            self.boards = Boards(self.service, self.families)

    def view(self, track: str, board: str | None = LIVE) -> BoardView:
        return self.boards.view(track, board)

    def priced(self, track: str, board: str | None = LIVE, prices: str | None = None,
               custom: dict | None = None) -> tuple[BoardView, str]:
        """The board, re-priced when ``prices`` names another table than the track's (``custom``: the
        visitor's edited table), and the sentence saying which table is in force. A table that cannot
        be used leaves the track's prices in force, and the sentence says why."""
        table, problem = self.table(track, prices, custom)
        try:
            view = self.boards.view(track, board, table)
        except PriceTableError as exc:
            view, problem = self.boards.view(track, board), str(exc)
        if release_id(board) is not None:
            note = "A release is shown at the track's own prices (the costs it was ranked on)."
            return view, note
        rep = view.repriced
        note = describe(rep.table if rep else track_table(self.service.bundle(track)),
                        rep.bounds if rep else None, rep.left_out if rep else 0, rep.coarse if rep else False)
        if problem:
            note = f"**Prices not applied:** {inert(problem)} — {note}"
        return view, note

    def table(self, track: str, prices: str | None, custom: dict | None) -> tuple[PriceTable | None, str]:
        """The table a selector value names (None: the track's own), and why not, when it cannot be used."""
        if not prices or prices == TRACK_TABLE:
            return None, ""
        bundle = self.service.bundle(track)
        if prices == CUSTOM:
            if not custom or custom.get("track") != track:
                return None, "no edited prices for this track yet: edit the table below and press Apply"
            try:
                return table_from_editor(bundle, [[m, v["input"], v["output"]] for m, v in custom["models"].items()]), ""
            except PriceTableError as exc:
                return None, str(exc)
        for t in tables_for(bundle)[0]:
            if t.name == prices:
                return t, ""
        return None, f"no price table named {prices!r} for this track"

    def rows(self, track: str, board: str | None = LIVE) -> list[dict[str, Any]]:
        """The rows of the live board or of a release (shared: do not modify)."""
        return self.view(track, board).rows

    def families(self, track: str) -> list[str]:
        return sorted(self.service.bundle(track).samples["family"].unique())

    def datasets(self, track: str) -> list[str]:
        return sorted(self.service.bundle(track).samples["dataset"].unique())

    def columns(self, track: str, board: str | None = LIVE) -> list[Column]:
        release = release_id(board) is not None
        return columns_for(self.families(track), release=release,
                           heldout=() if release else heldout_groups(self.service.bundle(track)))


def board_choices(ctx: Ctx, track: str) -> list[tuple[str, str]]:
    """The live board, then every release of the track, newest first."""
    out = [("Live — public part, through the Ladder", LIVE)]
    for r in ctx.service.releases(track):
        note = f" · {r['note'][:40]}" if r["note"] else ""
        out.append((f"Release #{r['id']} · {(r['created_at'] or '')[:10]} · private part{note}", f"release:{r['id']}"))
    return out


def board_caption(board: str | None) -> str:
    if release_id(board) is None:
        return ("Live board: the public part of the hidden test split. Routers are shown as the Ladder released "
                "them; rank score ×100; scrolls sideways")
    return (f"Release #{release_id(board)}: final submissions ranked on the private part of the hidden test split, "
            "with their public rank and the shift; rank score ×100")


def track_badge(ctx: Ctx, track: str) -> str:
    b = ctx.service.bundle(track)
    sim = " <span class='badge-sim'>SIMULATED</span> — outcomes are drawn from a documented model, not measured" \
        if b.provenance.simulated else ""
    s = b.summary()
    return (f"**Track {inert(track)}**{sim}<br>{s['models']} models · {s['samples']:,} samples · "
            f"{s['datasets']} datasets · live board: the public half of the hidden test split "
            f"({s['splits']['test']:,} samples; which half is secret) — see Data & docs")


# ------------------------------------------------------------------------------ prices
def price_choices(ctx: Ctx, track: str) -> list[tuple[str, str]]:
    """The track's own table, the tables of ``ROUTERBOARD_PRICES_DIR`` that price its pool, the visitor's."""
    tables, _ = tables_for(ctx.service.bundle(track))
    return ([(f"The track's own prices ({track})", TRACK_TABLE)] + [(t.label(), t.name) for t in tables[1:]]
            + [("Your edited prices (the table below)", CUSTOM)])


def price_status(ctx: Ctx, track: str) -> str:
    """Whether the track can be re-priced, and the table files that could not be read."""
    basis = ctx.service.pricing_basis(track)  # not repricing_data: a page load must not read every point's sums
    _, problems = tables_for(ctx.service.bundle(track))
    text = ("Every cost is tokens × $ per 1M tokens: pick a table or edit the prices and press **Re-price**; the "
            "table, the Pareto plot, rank scores (with the cost bounds under the new prices), curve metrics and the "
            "budget answer all follow. Routers' re-priced costs are rounded like every value the Ladder releases."
            if basis.available else f"**Re-pricing is not available for this track:** {inert(basis.reason)}")
    if problems:
        text += "<br>Price tables that could not be read: " + "; ".join(inert(p) for p in problems[:5])
    return text


def build_price_controls(ctx: Ctx, track_dd: gr.Dropdown) -> None:
    """The price-table selector and editor, shared by the Leaderboard and Pareto tabs (see :class:`Ctx`)."""
    track = track_dd.value
    bundle = ctx.service.bundle(track)
    with gr.Accordion("Prices — re-price every entry under another price table", open=False,
                      elem_id="prices-box") as box:
        ctx.prices_dd = gr.Dropdown(price_choices(ctx, track), value=TRACK_TABLE, label="Price table",
                                    elem_id="price-select")
        status = gr.Markdown(price_status(ctx, track), elem_id="price-status")
        editor = gr.Dataframe(value=editor_rows(track_table(bundle), bundle),
                              headers=["Model", "Input $ / 1M tokens", "Output $ / 1M tokens"],
                              datatype=["str", "number", "number"], interactive=True, static_columns=[0],
                              elem_id="price-editor", max_height=420)
        apply = gr.Button("Re-price with these prices", elem_id="price-apply", variant="primary")
    ctx.custom_prices = gr.State(None)

    def applied(track: str, rows):
        b = ctx.service.bundle(track)
        try:
            table = table_from_editor(b, rows)
        except PriceTableError as exc:
            return gr.update(), gr.update(), f"**Not applied:** {inert(str(exc))}"
        edited = {"track": track, "models": {m: {"input": i, "output": o}
                                             for m, i, o in zip(table.model_ids, table.input, table.output)}}
        return edited, gr.Dropdown(value=CUSTOM), price_status(ctx, track)

    ctx.prices_applied = apply.click(applied, [track_dd, editor], [ctx.custom_prices, ctx.prices_dd, status],
                                     api_name=False, show_progress="hidden")

    def for_track(track: str):
        b = ctx.service.bundle(track)
        return (gr.Dropdown(choices=price_choices(ctx, track), value=TRACK_TABLE), price_status(ctx, track),
                editor_rows(track_table(b), b))

    def opened(track: str):  # the table files may have changed since the page was built; the choice stays
        return gr.Dropdown(choices=price_choices(ctx, track)), price_status(ctx, track)

    track_dd.change(for_track, track_dd, [ctx.prices_dd, status, editor], api_name=False)
    box.expand(opened, track_dd, [ctx.prices_dd, status], api_name=False, show_progress="hidden")


# ------------------------------------------------------------------------------ leaderboard
def leaderboard_view(ctx: Ctx, track: str, board: str, query: str, types: list[str], show_reference: bool,
                     max_cost: float | None, shown: list[str], sort_by: str | None = None, descending: bool = False,
                     page: float | None = 1, prices: str | None = None, custom: dict | None = None,
                     min_throughput: float | None = None):
    """One page of the board: search, filters and sorting applied over all rows, then sliced; costs at
    the price table in force (``prices``/``custom``, see :meth:`Ctx.priced`)."""
    frame, chosen, csv, count, k, pages = table_page(ctx, track, board, query, types, show_reference, max_cost, shown,
                                                     sort_by, descending, page, prices, custom, min_throughput)
    return (gr.Dataframe(value=frame, label=board_caption(board), **table_props(chosen)), csv, count,
            gr.Number(value=k, maximum=pages))


def table_page(ctx: Ctx, track: str, board: str, query: str, types: list[str], show_reference: bool,
               max_cost: float | None, shown: list[str], sort_by: str | None = None, descending: bool = False,
               page: float | None = 1, prices: str | None = None, custom: dict | None = None,
               min_throughput: float | None = None) -> tuple[pd.DataFrame, list, str, str, int, int]:
    """:func:`leaderboard_view` without Gradio's components (the warmer's part: a component made in a
    thread while the app is being built would land on the page): the page's frame and columns, the CSV
    of every matching row, the count sentence, the page shown and the number of pages."""
    cols, view, note, max_cost, filtered = _filtered(ctx, track, board, query, types, show_reference, max_cost,
                                                     sort_by, descending, prices, custom, min_throughput)
    k, pages = _page_number(len(filtered), page)
    frame, chosen = display_frame(filtered.iloc[(k - 1) * PAGE_SIZE:k * PAGE_SIZE], cols, shown)
    key = ("csv", board, query, tuple(types or ()), show_reference, max_cost, tuple(shown or ()), sort_by, descending,
           min_throughput)
    if key not in view.memo:  # the whole filtered set, once per board version and filter set (the last few kept)
        label = view.repriced.table.label() if view.repriced else f"{TRACK_TABLE} ({track})"
        view.remember(key, csv_export(filtered, cols, shown, price_table=label), CSV_KEPT,
                      drop=lambda path: Path(path).unlink(missing_ok=True))
    first = (k - 1) * PAGE_SIZE + 1 if len(filtered) else 0
    count = (f"Showing **{first:,}–{min(k * PAGE_SIZE, len(filtered)):,}** of **{len(filtered):,}** matching entries "
             f"({len(view.frame):,} in all) · page {k} of {pages}<br><span id='price-in-force'>{note}</span>")
    return frame, chosen, view.memo[key], count, k, pages


def _page_number(rows: int, page: float | None) -> tuple[int, int]:
    """The page shown for a requested one (held within 1 … the last) and how many pages there are."""
    pages = max(1, -(-rows // PAGE_SIZE))
    return min(max(int(page or 1), 1), pages), pages


def _filtered(ctx: Ctx, track: str, board: str, query: str, types: list[str], show_reference: bool,
              max_cost: float | None, sort_by: str | None, descending: bool, prices: str | None, custom: dict | None,
              min_throughput: float | None):
    """Every row the table's inputs select, in the table's order (and what the page needs besides)."""
    cols = ctx.columns(track, board)
    view, note = ctx.priced(track, board, prices, custom)
    if max_cost is not None and view.repriced is not None and max_cost >= cost_bounds(ctx, track)[1] - 1e-12:
        max_cost = None  # the slider at its top means "no ceiling": re-priced entries may cost more than it reaches
    filtered = sort_frame(apply_filters(view.frame, query, types, show_reference, max_cost, min_throughput), cols,
                          sort_by, descending)
    return cols, view, note, max_cost, filtered


def router_at(ctx: Ctx, track: str, board: str, query: str, types: list[str], show_reference: bool,
              max_cost: float | None, shown: list[str], sort_by: str | None, descending: bool, page: float | None,
              prices: str | None, custom: dict | None, min_throughput: float | None, row: int) -> str | None:
    """The router on ``row`` of the table's current page (the same inputs give the same page)."""
    *_, filtered = _filtered(ctx, track, board, query, types, show_reference, max_cost, sort_by, descending, prices,
                             custom, min_throughput)
    at = (_page_number(len(filtered), page)[0] - 1) * PAGE_SIZE + int(row)
    return str(filtered["router"].iloc[at]) if 0 <= int(row) < PAGE_SIZE and at < len(filtered) else None


#: slider bounds per bundle (by identity, holding the bundle only weakly)
_BOUNDS: dict[int, tuple[Any, tuple[float, float, float]]] = {}


def cost_bounds(ctx: Ctx, track: str) -> tuple[float, float, float]:
    """See :func:`_slider_bounds` (computed once per bundle)."""
    bundle = ctx.service.bundle(track)
    hit = _BOUNDS.get(id(bundle))
    if hit is not None and hit[0]() is bundle:
        return hit[1]
    bounds = _slider_bounds(bundle)
    try:
        _BOUNDS[id(bundle)] = (weakref.ref(bundle), bounds)
    except TypeError:  # an object that cannot be weakly referenced (a test's stand-in): not kept
        pass
    return bounds


def _slider_bounds(b) -> tuple[float, float, float]:
    """(lowest, highest, step) of a cost slider, in :data:`units.UNIT`: from routing every sample to its
    cheapest model to routing it to its dearest (public split; halved and +25% for the test split's
    spread), the step a tenth of the lowest value's leading digit.

    Taken from the track, not from the entries scored so far: Gradio checks a slider's value against
    the bounds it was built with, and the app is built before the worker has scored anything."""
    cost = b.cost[np.concatenate([b.split_rows("train"), b.split_rows("dev")])]
    cost = cost[~np.isnan(cost).all(axis=1)]
    if not cost.size:
        return 0.0, 1.0, 0.01
    cheapest, dearest = (float(units.in_unit(np.mean(f(cost, axis=1)))) for f in (np.nanmin, np.nanmax))
    step = 10.0 ** (math.floor(math.log10(cheapest / 2)) - 1)
    lo = math.floor(round(cheapest / 2 / step, 6)) * step
    hi = math.ceil(round(1.25 * dearest / (10 * step), 6)) * 10 * step
    return round(lo, 12), round(hi, 12), step


def widest_bounds(ctx: Ctx) -> tuple[float, float, float]:
    """Bounds that hold every track's values (what a slider is built with and keeps; a track sets its value)."""
    lows, highs, steps = zip(*(cost_bounds(ctx, t) for t in ctx.service.bundles))
    return min(lows), max(highs), min(steps)


def build_leaderboard_tab(ctx: Ctx, track_dd: gr.Dropdown) -> None:
    track = track_dd.value
    cols = ctx.columns(track)
    _, hi, _ = widest_bounds(ctx)
    _, track_hi, _ = cost_bounds(ctx, track)
    with gr.Row():
        search = gr.Textbox(label="Search", placeholder="router, team or type — several terms: a; b", scale=3,
                            min_width=STACK_BELOW, elem_id="lb-search")
        with gr.Column(scale=3, min_width=STACK_BELOW):
            types = gr.CheckboxGroup(list(ROUTER_TYPES), value=list(ROUTER_TYPES), label="Router type")
            show_ref = gr.Checkbox(value=True, label="Show reference entries (single models, baselines, oracle)")
    with gr.Row():
        max_cost = gr.Slider(0, hi, value=track_hi, step=0.01, label=f"Max cost ({units.UNIT})", scale=2,
                             min_width=STACK_BELOW)
        min_tp = gr.Number(value=0, minimum=0, label="Min throughput (K tok/s)", scale=1, min_width=140,
                           elem_id="lb-min-throughput", info="0: every entry")
        shown = gr.CheckboxGroup(choosable(cols), value=default_labels(cols), label="Columns", scale=3,
                                  min_width=STACK_BELOW, elem_id="lb-columns")
    with gr.Row():
        sort_by = gr.Dropdown(["Rank"] + sortable(cols) + ["Router", "Team"], value="Rank", label="Sort all rows by",
                              scale=2,
                              min_width=STACK_BELOW, elem_id="lb-sort")
        descending = gr.Checkbox(value=False, label="Descending", scale=1, min_width=120)
        page = gr.Number(value=1, precision=0, minimum=1, label=f"Page ({PAGE_SIZE} rows each)", scale=1,
                         min_width=120, elem_id="lb-page")
        prev_btn = gr.Button("◀ Previous", scale=1, min_width=100, elem_id="lb-prev")
        next_btn = gr.Button("Next ▶", scale=1, min_width=100, elem_id="lb-next")
    count = gr.Markdown(elem_id="lb-count")
    # Headers only: the rows arrive with the tab's select event, which fires as the page opens (rows
    # built into the page would be stale, copied into every session's state and drawn twice).
    frame, chosen = display_frame(apply_filters(ctx.view(track).frame.iloc[:0]), cols, default_labels(cols))
    table = gr.Dataframe(value=frame, **table_props(chosen), pinned_columns=PINNED, interactive=False, wrap=True,
                         elem_id="leaderboard-table", max_height=700, label=board_caption(LIVE))
    download = gr.DownloadButton("Download CSV (every matching row)", elem_id="lb-download")
    inputs = [track_dd, ctx.board_dd, search, types, show_ref, max_cost, shown, sort_by, descending, page,
              ctx.prices_dd, ctx.custom_prices, min_tp]
    ctx.lb_table, ctx.lb_inputs = table, inputs  # a click on a row highlights that router in the Pareto plot
    outputs = [table, download, count, page]
    at_page = inputs.index(page)
    handler = lambda *a: leaderboard_view(ctx, *a)  # noqa: E731

    def turned(*a, to=None, step=0):  # a new search, filter, sort or table starts at page 1
        a = list(a)
        a[at_page] = to if to is not None else int(a[at_page] or 1) + step
        return leaderboard_view(ctx, *a)

    first = functools.partial(turned, to=1)
    for comp in (search, types, show_ref, max_cost, shown, track_dd, ctx.board_dd, sort_by, descending,
                 ctx.prices_dd):
        comp.change(first, inputs, outputs, show_progress="hidden", api_name=False)
    min_tp.submit(first, inputs, outputs, show_progress="hidden", api_name=False)
    min_tp.blur(first, inputs, outputs, show_progress="hidden", api_name=False)
    ctx.prices_applied.then(first, inputs, outputs, show_progress="hidden", api_name=False)
    page.submit(handler, inputs, outputs, show_progress="hidden", api_name=False)
    for btn, step in ((prev_btn, -1), (next_btn, 1)):
        btn.click(functools.partial(turned, step=step), inputs, outputs, show_progress="hidden", api_name=False)
    gr.Timer(30).tick(handler, inputs, outputs, show_progress="hidden", api_name=False)

    def slider_range(track):
        # the value moves to the track's own ceiling; the bounds stay the widest (every track's), so that
        # an event still carrying the previous track's value is never out of range (Gradio refuses it)
        _, hi, _ = cost_bounds(ctx, track)
        return gr.Slider(value=hi)

    track_dd.change(slider_range, track_dd, max_cost, api_name=False)

    def track_columns(track):  # tracks differ in families and, with held-out datasets, in group columns
        cols = ctx.columns(track)
        return gr.CheckboxGroup(choices=choosable(cols), value=default_labels(cols))

    track_dd.change(track_columns, track_dd, shown, api_name=False)
    ctx.on_show.append((handler, inputs, outputs))  # also as the page opens: Gradio selects the first tab


# ------------------------------------------------------------------------------ pareto
def slice_choices(ctx: Ctx, track: str) -> list[str]:
    return [ALL] + [f"family: {f}" for f in ctx.families(track)] + [f"dataset: {d}" for d in ctx.datasets(track)]


NO_COLOUR = "entry"
BY_THROUGHPUT = "throughput"


def default_budget(lo: float, hi: float, step: float) -> float:
    """Halfway on the plot's log axis, rounded to the slider's step."""
    return round(round(math.sqrt(max(lo, step) * hi) / step) * step, 12)


def budget_text(best: tuple[str, dict] | None, budget: float) -> str:
    """The sentence under the budget slider: the budget and the most accurate entry within it."""
    if best is None:
        return f"Budget **{units.money(budget)} per 1k queries**: no entry is that cheap."
    name, p = best
    return (f"Budget **{units.money(budget)} per 1k queries** → most accurate within it: "
            f"<span id='best-under-budget'>{inert(name)}</span> (point {inert(p['point'])}: "
            f"{100 * p['accuracy']:.1f}% at {units.cost_text(p['cost'])})")


def matching_ids(view: BoardView, query: str) -> set[int]:
    """Submission ids of the entries a search (the table's syntax: ``a; b``) matches."""
    if not (query or "").strip():
        return set()
    return set(apply_filters(view.frame, query)["submission_id"].astype(int).tolist())


def pareto_view(ctx: Ctx, track: str, board: str, slice_name: str, budget: float | None, query: str = "",
                prices: str | None = None, custom: dict | None = None, colour: str | None = None):
    """``budget`` in :data:`units.UNIT`, as the slider gives it; ``query`` highlights matching entries;
    ``prices``/``custom`` the price table in force; ``colour`` = :data:`BY_THROUGHPUT` colours by throughput."""
    view, note = ctx.priced(track, board, prices, custom)
    slice_points = None
    if release_id(board) is not None and slice_name and slice_name != ALL:
        return pareto_figure([], title=slice_name), ("A release ranks whole entries on the private part; its "
                                                     "slices are not published. Pick *All samples*.")
    if slice_name and slice_name != ALL:
        if view.repriced is not None:
            return pareto_figure([], title=slice_name), ("A slice shows accuracy only at the track's prices (a "
                                                         "router's per-group cost is not shown); pick *All samples*"
                                                         " or the track's own price table.")
        level, name = slice_name.split(": ", 1)
        slice_points = ctx.service.slice_points(track, level, name)
    per_query = units.per_query(budget) if budget else None
    highlight = matching_ids(view, query)
    key = ("pareto-layer", slice_name or ALL)
    if key not in view.memo:  # the thousands of other entries' points: once per board version and slice
        view.memo[key] = Density.of(split_entries(view.rows)[1], slice_points)
    fig = pareto_figure(view.rows, budget=per_query, slice_points=slice_points, title=slice_name or ALL,
                        highlight=highlight, layer=view.memo[key],
                        achievable=(view.costs, view.accs) if slice_points is None else None,
                        by_throughput=colour == BY_THROUGHPUT)
    if not budget:
        return fig, f"Set a budget.\n\n<span id='pareto-price-note'>{note}</span>"
    best = (view.best_under(per_query) if slice_points is None
            else best_under_budget(view.rows, per_query, slice_points))
    text = budget_text(best, budget)
    if (query or "").strip():
        text += f"\n\nHighlighted: {len(highlight):,} matching entr{'y' if len(highlight) == 1 else 'ies'}."
    return fig, text + f"\n\n<span id='pareto-price-note'>{note}</span>"


#: Pareto figures kept serialised per board view (one per recent set of inputs)
FIGURES_KEPT = 16


def pareto_plot(ctx: Ctx, track: str, board: str, slice_name: str, budget: float | None, query: str = "",
                prices: str | None = None, custom: dict | None = None, colour: str | None = None):
    """:func:`pareto_view` as the page gets it: the figure serialised once per board version and inputs
    (:func:`~leaderboard.plotly_html.figure_value`), so the visitors who open the tab as it first shows, or
    drag the budget to the same place, cost a dictionary look-up."""
    view, _ = ctx.priced(track, board, prices, custom)
    key = ("figure", track, board, slice_name, budget, (query or "").strip(), prices,
           json.dumps(custom, sort_keys=True, default=str), colour)
    hit = view.memo.get(key)
    if hit is None:
        fig, text = pareto_view(ctx, track, board, slice_name, budget, query, prices, custom, colour)
        hit = view.remember(key, (figure_value(fig), text), FIGURES_KEPT)
    return hit


def first_pareto(ctx: Ctx, track: str):
    """:func:`pareto_plot` with the inputs the tab starts with (what a newcomer first sees)."""
    return pareto_plot(ctx, track, LIVE, ALL, default_budget(*cost_bounds(ctx, track)), "", TRACK_TABLE, None,
                       NO_COLOUR)


def build_pareto_tab(ctx: Ctx, track_dd: gr.Dropdown) -> None:
    track = track_dd.value
    lo, hi, step = widest_bounds(ctx)
    with gr.Row():
        slice_dd = gr.Dropdown(slice_choices(ctx, track), value=ALL, label="Plot this slice", scale=1,
                               min_width=STACK_BELOW)
        budget = gr.Slider(lo, hi, value=default_budget(*cost_bounds(ctx, track)), step=step, scale=2,
                           elem_id="budget-slider", min_width=STACK_BELOW, label=f"Budget ({units.UNIT}) — the green line",
                           info="drag, or type an amount in the box (e.g. 0.10)")
    colour = gr.Radio([NO_COLOUR, BY_THROUGHPUT], value=NO_COLOUR, label="Colour points by", elem_id="pareto-colour",
                      info="throughput: each entry that states one (self-reported) or was measured here (starters)")
    find = gr.Textbox(label="Highlight routers", placeholder="router, team or type — several terms: a; b",
                      elem_id="pareto-search", info=f"the top {TOP_ENTRIES} entries are drawn one by one, every other in grey "
                                                    f"(beyond {POINTS_UP_TO:,} points as a density whose hover names a "
                                                    "cell's best); a search draws its matches in colour")
    best = gr.Markdown(elem_id="budget-best")
    plot = plotly_html("pareto-plot", "Cost vs accuracy", min_height=680)
    inputs = [track_dd, ctx.board_dd, slice_dd, budget, find, ctx.prices_dd, ctx.custom_prices, colour]
    handler = lambda *a: pareto_plot(ctx, *a)  # noqa: E731
    for comp in (slice_dd, budget, track_dd, ctx.board_dd, ctx.prices_dd, colour):
        comp.change(handler, inputs, [plot, best], show_progress="hidden", api_name=False)
    ctx.prices_applied.then(handler, inputs, [plot, best], show_progress="hidden", api_name=False)
    if ctx.lb_table is not None:
        def clicked(track, board, query, types, show_ref, max_cost, shown, sort_by, descending, page, prices, custom,
                    min_tp, evt: gr.SelectData):  # named one by one: Gradio finds evt by its position
            row = evt.index[0] if isinstance(evt.index, (list, tuple)) else evt.index
            name = router_at(ctx, track, board, query, types, show_ref, max_cost, shown, sort_by, descending, page,
                             prices, custom, min_tp, row)
            return gr.skip() if name is None else name

        # a click on a row of the table: its router is highlighted here (and named in the search box)
        ctx.lb_table.select(clicked, ctx.lb_inputs, find, api_name=False, show_progress="hidden")
    find.submit(handler, inputs, [plot, best], show_progress="hidden", api_name=False)
    find.change(handler, inputs, [plot, best], show_progress="hidden", api_name=False, trigger_mode="always_last")

    def refresh_controls(track):  # the budget's bounds stay the widest, as the cost ceiling's (see above)
        lo, hi, step = cost_bounds(ctx, track)
        return gr.Dropdown(choices=slice_choices(ctx, track), value=ALL), gr.Slider(
            value=default_budget(lo, hi, step))

    track_dd.change(refresh_controls, track_dd, [slice_dd, budget], api_name=False)
    ctx.on_show.append((handler, inputs, [plot, best]))  # drawn when the tab is opened, not with every page load


# ------------------------------------------------------------------------------ warm
def warm(ctx: Ctx, track: str) -> None:
    """Derive what a newcomer first asks for — the board, the first page of the table with its CSV, the
    Pareto figure as the tab first shows it — with the page's default inputs, so that after a change the
    first visitor finds it ready instead of paying for it (see :func:`keep_warm`)."""
    cols = ctx.columns(track)
    table_page(ctx, track, LIVE, "", list(ROUTER_TYPES), True, cost_bounds(ctx, track)[1], default_labels(cols), "Rank",
               False, 1, TRACK_TABLE, None, 0)
    first_pareto(ctx, track)


def keep_warm(ctx: Ctx, stop: threading.Event, every: float = 1.0) -> None:
    """Every ``every`` seconds, :func:`warm` each track whose board version moved (one small query per
    track when nothing did). Runs in a thread of the web process until ``stop`` is set."""
    done: dict[str, int] = {}
    while not stop.is_set():
        for track in ctx.service.bundles:
            try:
                version = ctx.service.board_version(track)
                if done.get(track) != version:
                    warm(ctx, track)
                    done[track] = version
            except Exception:  # noqa: BLE001 — a visitor then derives it as before; say why in the log
                log.exception("warming the board of %s failed", track)
        stop.wait(every)


# ------------------------------------------------------------------------------ detail
#: entries offered in Router detail's dropdowns at once (the best first; a search narrows them)
MAX_CHOICES = 200


def entry_choices(ctx: Ctx, track: str, query: str = "") -> list[tuple[str, int]]:
    """Up to ``MAX_CHOICES`` entries, best rank first, matching a search (the table's syntax)."""
    frame = apply_filters(ctx.view(track).frame, query).iloc[:MAX_CHOICES]
    return [(f"{r} (#{sid})", int(sid)) for r, sid in zip(frame["router"], frame["submission_id"])]


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
        laddered = v["kind"] != "reference"
        if pt["rank_score"]["p_value"] is not None:
            what = ("Test vs the best single model (from the shown values)" if laddered
                    else "Paired test vs the best single model")
            paired = (f" {what}: Δ accuracy {100 * pt['accuracy']['delta']:+.1f} pts "
                      f"(p = {pt['accuracy']['p_value']:.3f}), Δ rank score {100 * pt['rank_score']['delta']:+.1f} "
                      f"(p = {pt['rank_score']['p_value']:.3f}).")
        if laddered:
            paired += (f" Shown as the Ladder released it on the public part: {len(v['points'])} of "
                       f"{v['n_points'] or len(v['points'])} point(s).")
        lines.append(f"- **{inert(v['router_name'])}** ({inert(v['team']) or 'no team'}), point `{inert(p['point'])}`: "
                     f"accuracy {100 * p['accuracy']:.1f}% (95% CI {fmt_ci('accuracy')}), cost "
                     f"{units.cost_text(p['cost'])}, rank score {100 * p['rank_score']:.1f} "
                     f"(95% CI {fmt_ci('rank_score')}).{paired} {throughput_text(v)}")
    return detail_figure(views, key), "\n".join(lines) or "Pick an entry."


def throughput_text(v: dict[str, Any]) -> str:
    """A sentence on an entry's throughput: who measured it and on what (user text made inert)."""
    if v.get("throughput") is None:
        return "Throughput: not stated."
    return (f"Throughput: {v['throughput']:.3g} K tokens/s, {inert(v.get('throughput_source') or 'stated')}"
            + (f" on {inert(v['throughput_hardware'])}" if v.get("throughput_hardware") else "") + ".")


def build_detail_tab(ctx: Ctx, track_dd: gr.Dropdown) -> None:
    choices: list[tuple[str, int]] = []  # filled when the tab is opened, from the board as it is then
    find = gr.Textbox(label="Find entries", placeholder="router, team or type — several terms: a; b",
                      elem_id="detail-search", info=f"the dropdowns offer the {MAX_CHOICES} best matching entries")
    with gr.Row():
        first = gr.Dropdown(choices, value=choices[0][1] if choices else None, label="Entry", scale=2,
                            min_width=STACK_BELOW, elem_id="detail-first")
        second = gr.Dropdown(choices, value=None, label="Compare with (optional)", scale=2,
                             min_width=STACK_BELOW)
        level = gr.Radio(["dataset", "family"], value="dataset", label="Break down by", scale=1)
    text = gr.Markdown(elem_id="detail-text")
    plot = plotly_html("detail-plot", "Accuracy per group (bars: 95% binomial interval)")
    def run(track, a, b, lvl, request: gr.Request, profile: gr.OAuthProfile | None):
        fig, text = detail_view(ctx, track, a, b, lvl, request, profile)
        return figure_value(fig), text

    for comp in (first, second, level):
        comp.change(run, [track_dd, first, second, level], [plot, text], show_progress="hidden", api_name=False)

    def refresh_choices(track, query=""):
        ch = entry_choices(ctx, track, query)
        return gr.Dropdown(choices=ch, value=ch[0][1] if ch else None), gr.Dropdown(choices=ch, value=None)

    track_dd.change(refresh_choices, [track_dd, find], [first, second], api_name=False)
    find.submit(refresh_choices, [track_dd, find], [first, second], api_name=False)
    find.change(refresh_choices, [track_dd, find], [first, second], api_name=False, trigger_mode="always_last",
                show_progress="hidden")
    ctx.on_show.append((refresh_choices, [track_dd, find], [first, second]))


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
                  code: str, description: str, uses_images: bool, private: bool, throughput: float | None = None,
                  hardware: str = "", request: gr.Request = None, profile: Any = None) -> tuple[str, str]:
    user = auth.current_user(request, profile)
    if user is None:
        return "Sign in first.", "{}"
    if upload is None:
        return "Choose a prediction file first.", "{}"
    name, data = _file_bytes(upload)
    meta = SubmissionMeta(router_name=router_name or "", team=team or "", router_type=router_type or "other",
                          paper_url=paper or "", code_url=code or "", description=description or "",
                          uses_images=bool(uses_images),
                          visibility=Visibility.PRIVATE.value if private else Visibility.PUBLIC.value,
                          # an empty number box arrives as None or 0: neither states a throughput
                          throughput=float(throughput) if throughput not in (None, "", 0) else None,
                          hardware=hardware or "")
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
        throughput = gr.Number(value=None, minimum=0, label="Throughput (K tokens/s, optional)", elem_id="meta-throughput",
                               info="your router's own inference over the test questions; shown as self-reported",
                               min_width=STACK_BELOW)
        hardware = gr.Textbox(value="", label="Measured on (hardware)", max_lines=1, elem_id="meta-hardware",
                              placeholder="e.g. 1× A100 80GB, batch 32", min_width=STACK_BELOW)
    with gr.Row():
        validate_btn = gr.Button("Validate", elem_id="validate-btn")
        submit_btn = gr.Button("Submit", variant="primary", elem_id="submit-btn")
    feedback = gr.Markdown(elem_id="submit-feedback")
    result = gr.Code(label="Submission (JSON)", language="json", visible=False)

    def do_validate(track, file):
        return validate_upload(ctx, track, file)

    def do_submit(track, file, a, b, c, d, e, f, g, h, tp=None, hw=None, request: gr.Request = None,
                  profile: gr.OAuthProfile | None = None):
        return submit_upload(ctx, track, file, a, b, c, d, e, f, g, h, tp, hw or "", request=request, profile=profile)

    def do_quota(track, request: gr.Request, profile: gr.OAuthProfile | None):
        return quota_text(ctx, track, request, profile)

    # Uploads are checked in a pool of child processes: as many checks run at once as it has children.
    checks = {"concurrency_limit": ctx.service.settings.validation_processes, "concurrency_id": "upload-checks"}
    upload.upload(do_validate, [track_dd, upload], feedback, api_name=False, **checks)
    validate_btn.click(do_validate, [track_dd, upload], feedback, api_name="validate", **checks)
    ctx.submitted = submit_btn.click(do_submit, [track_dd, upload, router_name, team, router_type, paper, code,
                                                 description, uses_images, private, throughput, hardware],
                                     [feedback, result],
                                     api_name="submit", **checks).then(do_quota, track_dd, quota, api_name=False)
    ctx.on_show.append((do_quota, [track_dd], [quota]))


# ------------------------------------------------------------------------------ mine
MINE_COLUMNS = ["#", "Router", "Status", "Queue position", "Accuracy (%)", "Rank score", "Shown points", "Final",
                "Error", "Submitted", "Visibility"]


def shown_points_text(v) -> str:
    """How much of a finished file the Ladder released."""
    if v.n_released is None:
        return ""
    if v.n_released == 0:
        return f"0 of {v.n_points} — held: not significantly better than your released points"
    return f"{v.n_released} of {v.n_points}"


def my_view(ctx: Ctx, track: str, request: gr.Request = None, profile: Any = None):
    user = auth.current_user(request, profile)
    views = ctx.service.list_mine(user, track) if user else []
    rows = []
    for v in views:
        acc = round(100 * v.accuracy, 1) if v.accuracy is not None else None
        rs = round(100 * v.rank_score, 1) if v.rank_score is not None else None
        rows.append([v.id, v.router_name, v.status, v.queue_position if v.queue_position is not None else "",
                     acc, rs, shown_points_text(v), "final" if v.final_choice else "", v.error or "", v.created_at,
                     v.visibility])
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


def choose_final(ctx: Ctx, sid: float | None, selected: bool, request: gr.Request = None, profile: Any = None) -> str:
    user = auth.current_user(request, profile)
    if not sid:
        return "Enter the number (#) of one of your submissions."
    try:
        v = ctx.service.select_final(user, int(sid), selected)
    except ServiceError as exc:
        return f"**Not changed:** {inert(str(exc))}"
    if selected:
        return (f"Submission #{v.id} ({inert(v.router_name)}) is one of your final submissions: releases score it "
                "on the private part.")
    return f"Submission #{v.id} ({inert(v.router_name)}) is no longer a final submission."


def cut_release(ctx: Ctx, track: str, note: str, request: gr.Request = None, profile: Any = None):
    user = auth.current_user(request, profile)
    try:
        r = ctx.service.cut_release(user or "", track, note or "")
    except ServiceError as exc:
        return f"**No release:** {inert(str(exc))}", gr.Dropdown()
    return (f"Release #{r['id']} is cut: {r['n_entries']} entries ranked on the private part. Pick it under "
            "*Board*.", gr.Dropdown(choices=board_choices(ctx, track)))


def build_mine_tab(ctx: Ctx, track_dd: gr.Dropdown) -> None:
    status = gr.Markdown(elem_id="worker-status")
    table = gr.Dataframe(headers=MINE_COLUMNS, interactive=False, wrap=True, elem_id="my-submissions")
    with gr.Row():
        sid = gr.Number(label="Submission #", precision=0, elem_id="mine-sid")
        withdraw_btn = gr.Button("Withdraw", variant="stop")
        final_btn = gr.Button("Choose as final", elem_id="mine-final")
        unfinal_btn = gr.Button("Unchoose final")
        refresh = gr.Button("Refresh", elem_id="mine-refresh")
    gr.Markdown("Your **final** submissions (at most 2 per track; by default your best shown one) are the ones a "
                "release ranks on the private part. The **Shown points** column says how many points of each file "
                "the Ladder released on the live board.")
    message = gr.Markdown(elem_id="mine-message")
    with gr.Accordion("Admins: cut a release", open=False):
        note = gr.Textbox(label="Note shown with the release", max_lines=1)
        release_btn = gr.Button("Cut a release now", elem_id="cut-release")
    timer = gr.Timer(2, active=False)

    def view(track, request: gr.Request, profile: gr.OAuthProfile | None):
        return my_view(ctx, track, request, profile)

    def do_withdraw(track, number, request: gr.Request, profile: gr.OAuthProfile | None):
        return withdraw_entry(ctx, track, number, request, profile)

    def do_final(number, request: gr.Request, profile: gr.OAuthProfile | None):
        return choose_final(ctx, number, True, request, profile)

    def do_unfinal(number, request: gr.Request, profile: gr.OAuthProfile | None):
        return choose_final(ctx, number, False, request, profile)

    def do_release(track, text, request: gr.Request, profile: gr.OAuthProfile | None):
        return cut_release(ctx, track, text, request, profile)

    outs = [table, status, timer]
    refresh.click(view, track_dd, outs, api_name=False)
    if ctx.submitted is not None:  # a new submission shows up here at once, and the timer starts
        ctx.submitted.then(view, track_dd, outs, api_name=False)
    timer.tick(view, track_dd, outs, show_progress="hidden", api_name=False)
    withdraw_btn.click(do_withdraw, [track_dd, sid], message, api_name=False).then(view, track_dd, outs,
                                                                                    api_name=False)
    for btn, fn in ((final_btn, do_final), (unfinal_btn, do_unfinal)):
        btn.click(fn, sid, message, api_name=False).then(view, track_dd, outs, api_name=False)
    release_btn.click(do_release, [track_dd, note], [message, ctx.board_dd], api_name=False)
    ctx.on_show.append((view, [track_dd], outs))  # read when the tab is opened, not with every page load


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


#: Math in the Metrics section only, and only between these delimiters: a lone "$" (a price) is text.
#: Nothing user- or bundle-written is shown in a Markdown that renders math (inert text escapes "(" as "\(").
MATH_DELIMITERS = [{"left": "$$", "right": "$$", "display": True}, {"left": "\\(", "right": "\\)", "display": False}]


def docs_format(ctx: Ctx, track: str) -> str:
    b = ctx.service.bundle(track)
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
"""


def docs_pool(ctx: Ctx, track: str) -> str:
    """The model pool as a table, one row per model, prices in dollars per 1M tokens."""
    b = ctx.service.bundle(track)
    rows = "\n".join(f"| {inert(m.display_name)} | {inert(m.params or '-')} | {units.money(m.input_price)} | "
                     f"{units.money(m.output_price)} |" for m in b.models)
    return f"""
## Model pool
{len(b.models)} models; prices in US dollars per 1M tokens. Every cost is tokens × these prices: the **Prices** box above the tabs re-prices the whole board (a price-table file or your own edits).

| model | params (B) | input | output |
|---|---|---|---|
{rows}
"""


def docs_metrics(ctx: Ctx, track: str) -> str:
    b = ctx.service.bundle(track)
    lo, hi = (units.money(units.in_unit(c)) for c in (b.cost_bounds.cmin, b.cost_bounds.cmax))
    return rf"""
## Metrics
Model \(c_i\) answers sample \(i\); \(Y_{{i,j}}\) is model \(j\)'s quality on sample \(i\) (0–1) and
\(C_{{i,j}}\) its cost in US dollars.

- **Accuracy** and **cost** (per query; the app shows cost per 1k queries):
$$A = \frac{{1}}{{n}}\sum_{{i=1}}^{{n}} Y_{{i,c_i}}, \qquad c = \frac{{1}}{{n}}\sum_{{i=1}}^{{n}} C_{{i,c_i}}$$
- **Rank score** (VL-RouterBench), shown ×100, with \(\beta = 0.1\) and the cost clipped to the track's
  bounds \(c_{{min}}, c_{{max}}\) ({lo} and {hi} per 1k queries):
$$C_n = \frac{{\log_2 c_{{max}} - \log_2 c}}{{\log_2 c_{{max}} - \log_2 c_{{min}}}}, \qquad S = \frac{{(1+\beta)\,A\,C_n}}{{\beta A + C_n}}$$
- **Curves** (MMR-Bench): Pareto frontier of the operating points; **nAUC** = area under the frontier / its
  cost range; **Ps** = best frontier accuracy; **QNC** = first frontier cost reaching the best single
  model's accuracy / that model's cost; **gap closed** = (accuracy − best single) / (oracle − best single).
- **Intervals**: for reference entries, 95% bootstrap over samples (1,000 replicates, seeded) and a paired
  bootstrap test against the best single model; for routers, from their shown values (see below).
"""


def docs_integrity(ctx: Ctx, track: str) -> str:
    """What is public, what is private, and what the Ladder does to a researcher's numbers."""
    from evaluator.ladder import DEFAULT_SETTINGS as L

    return f"""
## Public and private parts, the Ladder, releases
A leaderboard that shows exact scores on its test set can be read back: two files that differ in one
sample differ in score by exactly that sample's hidden value, and submitting many random routings and
voting over the lucky ones buys accuracy with no model at all (Blum & Hardt, *The Ladder: A Reliable
Leaderboard for Machine Learning Competitions*, ICML 2015, arXiv:1502.04585). So, as on Kaggle:

- The hidden test split is cut once, secretly, into a **public** and a **private** half (stratified by
  dataset). Nobody outside the evaluator knows which sample is in which half; you submit decisions for
  every test sample.
- The **live board** shows your scores on the public half only, through the **Ladder**: every
  operating point of your files is one submission to your own Ladder (one per user and track); a point
  is shown only when it is significantly more accurate, or significantly (and at least
  {100 * L.min_cost_step:g}%) cheaper, than *every* point on your released frontier — a one-sided paired
  test at {L.threshold_se:g} standard errors — and otherwise it is *held*: nothing of its score is
  shown, not even which of your points it failed against. A file's points are judged from the most
  expensive down, so an honest λ sweep keeps its shape.
- Shown accuracy is rounded to {100 * L.accuracy_step:g} points and cost to {L.cost_digits} significant
  digits; rank score, intervals, the test against the best single model and the curve metrics of your
  entries are computed from those shown values; per-family / per-dataset accuracy is rounded so that
  one step is at least {L.group_min_samples} samples of the group, and a group's cost is not shown for
  them (a slice plots their group accuracy at their overall cost). Reference entries (single models,
  baselines, the oracle) are fixed routings and are shown exactly on the public half.
- Every file is also scored on the **private** half, and nobody sees those scores until an admin cuts
  a **release**: each participant's final submissions (chosen in My submissions, at most 2; by default
  the best shown one) ranked on the private half at their best shown point, at the same precision,
  next to their public rank and the shift between the two. Releases are kept; pick one under *Board*.
- Scoring the **dev** split locally (`routerboard score --split dev`) is exact: the Ladder guards the
  hidden test labels only.
"""


def docs_provenance(ctx: Ctx, track: str) -> str:
    prov = ctx.service.bundle(track).provenance
    return f"""
## Provenance
{inert(prov.description)}

Source: {inert(prov.source)} · version {inert(prov.version)} · licence {inert(prov.licence)} ·
{'**simulated**' if prov.simulated else 'measured'}
"""


#: (elem_id, text, latex delimiters) of the Data & docs tab, top to bottom
DOCS_SECTIONS = (("docs-format", docs_format, []), ("docs-pool", docs_pool, []),
                 ("docs-generalisation", docs_generalisation, []),
                 ("docs-metrics", docs_metrics, MATH_DELIMITERS), ("docs-integrity", docs_integrity, []),
                 ("docs-provenance", docs_provenance, []))


def build_docs_tab(ctx: Ctx, track_dd: gr.Dropdown) -> None:
    gr.DownloadButton("Download an example prediction file", value=example_file(ctx, track_dd.value),
                      elem_id="example-download")
    parts = [gr.Markdown(text(ctx, track_dd.value), latex_delimiters=delimiters, elem_id=elem_id)
             for elem_id, text, delimiters in DOCS_SECTIONS]
    track_dd.change(lambda t: [text(ctx, t) for _, text, _ in DOCS_SECTIONS], track_dd, parts, api_name=False)
