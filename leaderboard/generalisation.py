"""The Generalisation view: each router's in-distribution result next to its results on held-out
datasets and on new models, with the drop, sortable.

A router counts as "the same" across tracks when its name and team are the same (the starters, for
instance, are entered on every track under one name). For each such router the view puts side by
side its rank and rank score on the in-distribution track (:data:`evaluator.DEFAULT_TRACK`, ``vlrb-sim``)
and on each generalisation track (:data:`evaluator.tracks.GENERALISATION_TRACKS`), the drop (in-distribution
rank score minus the other track's; positive = worse away from home), and, on the held-out track, its
accuracy on the held-out and on the in-distribution datasets of that track's test split.

Every number is one the live boards already show — the rows of each track's board as
:class:`leaderboard.board.Boards` keeps them, i.e. the Ladder's released values for routers (accuracy
to 0.1 pt, group accuracy in steps of at least 8 samples) and exact values for reference entries —
never a hidden exact value. Rank scores of different tracks use their own tracks' cost bounds and
test sets, so a drop measures the router together with the track's difficulty: compare drops between
routers (the view's purpose), not a drop with zero.
"""

from __future__ import annotations

from typing import Any

import gradio as gr
import pandas as pd

import evaluator
from evaluator.generalisation import GROUPS, HELD_OUT, IN_DISTRIBUTION
from evaluator.tracks import GENERALISATION_TRACKS
from leaderboard.columns import Column
from leaderboard.tables import REFERENCE_KINDS
from leaderboard.text import inert

IN_DIST_LABEL = "In-dist."
#: short labels of the generalisation tracks' column groups, by track name ("Held-out", "New models")
SHORT = {name: what[:1].upper() + what[1:].replace(" datasets", "") for name, what in GENERALISATION_TRACKS.items()}
#: the held-out track's groups as its accuracy columns name them
GROUP_WORDS = {HELD_OUT: "held-out datasets", IN_DISTRIBUTION: "in-dist. datasets"}
#: generalisation tracks whose boards carry held-out / in-distribution group accuracy
GROUP_TRACKS = {name for name, what in GENERALISATION_TRACKS.items() if "held-out" in what}
#: how many rows the table shows (best first in the chosen order)
MAX_ROWS = 500


def _columns(names: list[str]) -> list[Column]:
    """The view's columns for the generalisation tracks ``names`` that the app serves, declared once:
    the ranks, rank scores and drops first, then the held-out track's group accuracies."""
    cols = [Column("router", "Router", kind="str", digits=None, width=170),
            Column("team", "Team", kind="str", digits=None, width=120),
            Column("rank:in", f"{IN_DIST_LABEL} rank", digits=None, width=84,
                   tooltip=f"Rank on {evaluator.DEFAULT_TRACK} (the in-distribution track)"),
            Column("rs:in", f"{IN_DIST_LABEL} score", width=84,
                   tooltip=f"Rank score ×100 on {evaluator.DEFAULT_TRACK}, as its board shows it")]
    groups = []
    for name in names:
        short = SHORT[name]
        cols += [Column(f"rank:{name}", f"{short} rank", digits=None, width=84, tooltip=f"Rank on {name}"),
                 Column(f"rs:{name}", f"{short} score", width=84,
                        tooltip=f"Rank score ×100 on {name}, as its board shows it"),
                 Column(f"drop:{name}", f"{short} drop", width=84,
                        tooltip=f"{IN_DIST_LABEL} rank score minus the rank score on {name} (positive: worse on {name})")]
        if name in GROUP_TRACKS:
            groups += [Column(f"acc:{name}:{g}", f"Acc. {GROUP_WORDS[g]} (%)", width=110,
                              tooltip=f"Accuracy (%) on the {g} datasets of {name}'s test split, as its board shows it")
                       for g in (HELD_OUT, IN_DISTRIBUTION)]
    if len(names) > 1:
        cols.append(Column("drop:mean", "Mean drop", width=84,
                           tooltip="Mean of the drops over the generalisation tracks the router was entered on"))
    return cols + groups


def heldout_groups(bundle: evaluator.Bundle) -> tuple[str, ...]:
    """The held-out / in-distribution groups a track's board has columns for (none without held-out datasets)."""
    return GROUPS if bundle.unseen_datasets else ()


def served(service: Any) -> tuple[str | None, dict[str, str]]:
    """(track id of the in-distribution track, {generalisation track name: track id}) among the
    tracks the app serves (None / missing where it does not serve them)."""
    by_name = {service.bundle(t).name: t for t in service.bundles}
    return by_name.get(evaluator.DEFAULT_TRACK), {n: by_name[n] for n in GENERALISATION_TRACKS if n in by_name}


def _best_per_router(frame: pd.DataFrame, include_reference: bool) -> pd.DataFrame:
    """One row per (router, team): its best-ranked entry on a track's board (the frame is ranked)."""
    if frame.empty:
        return frame
    if not include_reference:
        frame = frame[~frame["kind"].isin(REFERENCE_KINDS)]
    return frame.sort_values("rank", kind="stable").drop_duplicates(["router", "team"], keep="first")


def generalisation_frame(ctx: Any, include_reference: bool = False) -> tuple[pd.DataFrame, list[Column]]:
    """The view's numeric frame (one row per router entered on the in-distribution track and on at
    least one generalisation track) and its columns; empty when the app serves no such pair of tracks."""
    home, away = served(ctx.service)
    cols = _columns(list(away))
    if home is None or not away:
        return pd.DataFrame(columns=[c.key for c in cols]), cols
    base = _best_per_router(ctx.view(home).frame, include_reference)
    out = pd.DataFrame({"router": base.get("router", pd.Series(dtype=str)), "team": base.get("team", pd.Series(dtype=str)),
                        "type": base.get("type", pd.Series(dtype=str)), "rank:in": base.get("rank", pd.Series(dtype=float)),
                        "rs:in": base.get("rank_score_100", pd.Series(dtype=float))})
    drops = []
    for name, track in away.items():
        other = _best_per_router(ctx.view(track).frame, include_reference)
        keep = {"rank": f"rank:{name}", "rank_score_100": f"rs:{name}"}
        if name in GROUP_TRACKS:
            keep.update({f"heldout:{g}": f"acc:{name}:{g}" for g in (HELD_OUT, IN_DISTRIBUTION)})
        part = other.reindex(columns=["router", "team", *keep]).rename(columns=keep)
        out = out.merge(part, on=["router", "team"], how="left")
        out[f"drop:{name}"] = out["rs:in"] - out[f"rs:{name}"]
        drops.append(f"drop:{name}")
    out = out[out[drops].notna().any(axis=1)] if len(out) else out
    if len(away) > 1:
        out["drop:mean"] = out[drops].mean(axis=1)
    return out.reset_index(drop=True), cols


def generalisation_records(ctx: Any, include_reference: bool = False) -> list[dict[str, Any]]:
    """The view's rows as JSON-ready records sorted like the tab's default (mean drop, smallest
    first; blanks last), keyed by the columns' keys; NaN becomes None."""
    frame, cols = generalisation_frame(ctx, include_reference)
    key = next(c.key for c in cols if c.label == default_sort(cols))
    frame = frame.sort_values(key, kind="stable", na_position="last") if len(frame) else frame
    return [{c.key: (None if pd.isna(r[c.key]) else (int(r[c.key]) if c.key.startswith("rank:") else
                                                       r[c.key] if isinstance(r[c.key], str) else float(r[c.key])))
             for c in cols} for _, r in frame.iterrows()]


def sort_choices(cols: list[Column]) -> list[str]:
    return [c.label for c in cols if c.kind == "number"]


def default_sort(cols: list[Column]) -> str:
    """The mean drop when there are two generalisation tracks, else the one track's drop."""
    drops = [c.label for c in cols if c.key.startswith("drop:")]
    numbers = sort_choices(cols)  # with no generalisation track served, the first number there is
    return drops[-1] if drops else (numbers[0] if numbers else cols[0].label)


def generalisation_view(ctx: Any, sort_by: str | None, descending: bool, include_reference: bool):
    """The table (sorted on ``sort_by``, blanks last) and the note above it."""
    frame, cols = generalisation_frame(ctx, include_reference)
    key = next((c.key for c in cols if c.label == sort_by), None) or next(
        c.key for c in cols if c.label == default_sort(cols))
    if len(frame):
        frame = frame.sort_values(key, ascending=not descending, kind="stable", na_position="last")
    shown = frame.head(MAX_ROWS)
    table = pd.DataFrame({c.label: (shown[c.key].round(c.digits) if c.kind == "number" and c.digits is not None
                                    else shown[c.key]) for c in cols}, columns=[c.label for c in cols])
    home, away = served(ctx.service)
    if home is None or not away:
        note = (f"The Generalisation view needs the in-distribution track {evaluator.DEFAULT_TRACK} and at least one "
                f"of {', '.join(GENERALISATION_TRACKS)} served (ROUTERBOARD_TRACKS).")
    else:
        note = (f"**{len(frame):,}** router(s) entered under one name and team on **{inert(evaluator.DEFAULT_TRACK)}** "
                f"and on {' / '.join(inert(n) for n in away)}; sorted by *{inert(sort_by or default_sort(cols))}*"
                f"{' (descending)' if descending else ''}. Drop = in-distribution rank score − the other track's "
                "(positive: worse away from home). Values as the boards show them (the Ladder's for routers).")
    return gr.Dataframe(value=table, datatype=[c.kind for c in cols],
                        column_widths=[f"{c.width}px" for c in cols]), note


def build_generalisation_tab(ctx: Any, track_dd: gr.Dropdown) -> None:
    """The Generalisation tab (the track selector does not apply: the view spans tracks)."""
    _, cols = generalisation_frame(ctx)
    gr.Markdown("Each router entered on the in-distribution track and on the generalisation tracks (same name and "
                "team): its rank and rank score in-distribution next to held-out datasets (test-only datasets, one "
                "text-only) and new models (unseen in train/dev but for a calibration set), and the drop.")
    with gr.Row():
        sort_by = gr.Dropdown(sort_choices(cols), value=default_sort(cols), label="Sort by", elem_id="gen-sort",
                              scale=2)
        descending = gr.Checkbox(value=False, label="Descending", scale=1)
        include_ref = gr.Checkbox(value=False, label="Include reference entries (single models, baselines)", scale=2,
                                  elem_id="gen-reference")
    note = gr.Markdown(elem_id="gen-note")
    table = gr.Dataframe(headers=[c.label for c in cols], interactive=False, wrap=True, elem_id="generalisation-table",
                         max_height=700)
    inputs, outputs = [sort_by, descending, include_ref], [table, note]

    def handler(a, b, c):
        return generalisation_view(ctx, a, b, c)

    for comp in inputs:
        comp.change(handler, inputs, outputs, show_progress="hidden", api_name=False)
    ctx.on_show.append((handler, inputs, outputs))  # fresh boards whenever the tab is opened


def docs_generalisation(ctx: Any, track: str) -> str:
    """The Data & docs section on what this track holds back from train and dev (empty elsewhere)."""
    b = ctx.service.bundle(track)
    if not b.generalisation:
        return ""
    parts = ["## Generalisation: what train and dev never show"]
    if b.unseen_datasets:
        counts = b.samples.loc[b.samples["dataset"].isin(b.unseen_datasets)].groupby("dataset").size()
        text_only = sorted(set(b.samples.loc[(b.samples["image_ref"] == "") & b.samples["dataset"].isin(
            b.unseen_datasets), "dataset"]))
        parts.append("**Held-out datasets** — every sample in the test split, none in train or dev: "
                     + ", ".join(f"{inert(d)} ({int(counts.get(d, 0)):,} samples{', text-only: no image' if d in text_only else ''})"
                                 for d in b.unseen_datasets)
                     + ". The board shows accuracy on the held-out and on the in-distribution datasets of the test "
                       "split apart.")
    if b.unseen_models:
        parts.append(f"**New models** — in the test pool, but labelled in train and dev only on a calibration set of "
                     f"**{len(b.calibration_ids)} dev samples** (elsewhere their quality, cost and output tokens are "
                     "NaN = unknown; the public split lists the calibration ids). Route to them by name like any "
                     "model. Their cards:")
        parts += [f"- **{inert(m.model_id)}** ({inert(m.params or '-')}B params; ${m.input_price:.2f} / "
                  f"${m.output_price:.2f} per 1M tokens): {inert(m.card)}" for m in b.models if m.unseen]
    return "\n\n".join(parts)

