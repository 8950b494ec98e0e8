"""Leaderboard tables: service rows → a numeric frame → filtered → displayed or exported.

Filtering works on the numeric frame (so sorting and the cost slider compare numbers), and only
the last step formats for reading. User text is made inert on the way into the display frame.
"""

from __future__ import annotations

import tempfile
from typing import Any

import numpy as np
import pandas as pd

from evaluator.generalisation import GROUPS as HELDOUT_GROUPS
from leaderboard import units
from leaderboard.columns import Column
from leaderboard.text import html_link

REFERENCE_KINDS = ("reference",)
#: what a cell shows when an entry has no value (e.g. no throughput stated)
NO_VALUE = "—"


def raw_frame(rows: list[dict[str, Any]], families: list[str]) -> pd.DataFrame:
    """One row per entry with numeric columns keyed as in :mod:`leaderboard.columns`."""
    if not rows:
        return pd.DataFrame(columns=["submission_id", "router", "team", "type", "kind", "cost_per_1k"])
    df = pd.DataFrame(rows)
    out = pd.DataFrame({
        "submission_id": df["submission_id"], "router": df["router"].astype(str), "team": df["team"].astype(str),
        "type": df["type"].astype(str), "kind": df["kind"].astype(str),
        "paper_url": df["paper_url"], "code_url": df["code_url"],
        "accuracy_pct": 100 * df["accuracy"], "cost_per_1k": units.in_unit(df["cost"]),
        "rank_score_100": 100 * df["rank_score"],
        "rank_score_lo": 100 * df["rank_score_lo"].astype(float), "rank_score_hi": 100 * df["rank_score_hi"].astype(float),
        "p_rank_score": df["p_rank_score"].astype(float), "nauc": df["nauc"].astype(float),
        "ps_pct": 100 * df["ps"].astype(float), "qnc": df["qnc"].astype(float),
        "gap_closed_pct": 100 * df["gap_closed"].astype(float), "n_points": df["n_points"],
        "uses_images": np.where(df["uses_images"], "yes", "no"), "submitted": df["submitted"].astype(str),
    })
    if "n_released" in df:
        out["n_released"] = df["n_released"]
    throughput = df["throughput"].astype(float) if "throughput" in df else pd.Series(np.nan, index=df.index)
    out["throughput"] = throughput
    out["throughput_source"] = df["throughput_source"].fillna("").astype(str) if "throughput_source" in df else ""
    out["throughput_hardware"] = (df["throughput_hardware"].fillna("").astype(str) if "throughput_hardware" in df
                                  else "")
    out["throughput_text"] = [f"{v:.3g} · {src}" if np.isfinite(v) else NO_VALUE
                              for v, src in zip(throughput, out["throughput_source"])]
    if "private_rank" in df:  # a release's board
        out["public_rank"] = df["public_rank"].astype("Int64")
        out["shift"] = df["shift"].astype("Int64")
        out["public_rank_score_100"] = 100 * df["public_rank_score"].astype(float)
    fam = pd.DataFrame(list(df["families"]))
    for f in families:
        out[f"family:{f}"] = 100 * fam[f].astype(float) if f in fam else np.nan
    if "heldout" in df:  # a track with held-out datasets (evaluator.generalisation)
        held = pd.DataFrame([h or {} for h in df["heldout"]])
        for g in HELDOUT_GROUPS:
            out[f"heldout:{g}"] = 100 * held[g].astype(float) if g in held else np.nan
    out = out.sort_values("rank_score_100", ascending=False, kind="stable", ignore_index=True)
    out.insert(0, "rank", np.arange(1, len(out) + 1))
    return out


def sort_frame(df: pd.DataFrame, columns: list[Column], sort_by: str | None, descending: bool = False) -> pd.DataFrame:
    """Sort all rows by the column labelled ``sort_by`` (Rank, Router, Team or a number column);
    ties keep their rank order and blanks go last either way."""
    if df.empty or not sort_by or sort_by == "Rank":
        return df.iloc[::-1] if descending and not df.empty else df
    key = {"Router": "router", "Team": "team"}.get(sort_by) or next(
        ((c.sort_key or c.key) for c in columns if c.label == sort_by and (c.sort_key or c.key) in df), None)
    if key is None:
        return df
    return df.sort_values(key, ascending=not descending, kind="stable", na_position="last", ignore_index=True)


def apply_filters(df: pd.DataFrame, query: str = "", types: list[str] | None = None, show_reference: bool = True,
                  max_cost_per_1k: float | None = None, min_throughput: float | None = None) -> pd.DataFrame:
    """Search (several terms separated by ';' match any; each term matches router, team or type),
    type filter (on researchers' entries), reference toggle, a cost ceiling and a throughput floor
    (entries without a throughput drop out once a floor is set)."""
    if df.empty:
        return df
    keep = np.ones(len(df), dtype=bool)
    terms = [t.strip().lower() for t in (query or "").split(";") if t.strip()]
    if terms:
        hay = (df["router"] + " " + df["team"] + " " + df["type"]).str.lower()
        keep &= np.logical_or.reduce([hay.str.contains(t, regex=False).to_numpy() for t in terms])
    is_ref = df["kind"].isin(REFERENCE_KINDS).to_numpy()
    if not show_reference:
        keep &= ~is_ref
    if types is not None:
        keep &= is_ref | df["type"].isin(types).to_numpy()
    if max_cost_per_1k is not None:
        keep &= (df["cost_per_1k"] <= max_cost_per_1k + 1e-12).to_numpy()
    if min_throughput is not None and min_throughput > 0 and "throughput" in df:
        keep &= (df["throughput"] >= min_throughput).to_numpy()
    return df.loc[keep].reset_index(drop=True)


def chosen_columns(columns: list[Column], shown_labels: list[str]) -> list[Column]:
    return [c for c in columns if not c.can_hide or c.label in shown_labels]


def table_props(chosen: list[Column]) -> dict[str, Any]:
    """``gr.Dataframe`` settings that follow the shown columns: datatypes and widths."""
    return dict(datatype=[c.kind for c in chosen], column_widths=[f"{c.width}px" for c in chosen])


def display_frame(df: pd.DataFrame, columns: list[Column],
                  shown_labels: list[str]) -> tuple[pd.DataFrame, list[Column]]:
    """The frame for ``gr.Dataframe`` and its columns: chosen columns, rounded, text made inert."""
    chosen = chosen_columns(columns, shown_labels)
    out = {}
    for c in chosen:
        if c.key == "router_html":
            out[c.label] = [html_link(r, p or code) for r, p, code in
                            zip(df.get("router", []), df.get("paper_url", []), df.get("code_url", []))]
        elif c.key == "rank_score_ci":
            out[c.label] = [f"{lo:.1f}–{hi:.1f}" if np.isfinite(lo) and np.isfinite(hi) else "" for lo, hi in
                            zip(df.get("rank_score_lo", []), df.get("rank_score_hi", []))]
        elif c.key in df:
            col = df[c.key]
            out[c.label] = col.round(c.digits) if c.digits is not None and c.kind == "number" else col
        else:
            out[c.label] = [np.nan] * len(df) if c.kind == "number" else [""] * len(df)
    frame = pd.DataFrame(out, columns=[c.label for c in chosen])
    return frame, chosen


def csv_export(df: pd.DataFrame, columns: list[Column], shown_labels: list[str], price_table: str = "") -> str:
    """Write the filtered table as CSV (plain router names and links, numbers unrounded), with the
    price table its costs are at in a column of its own."""
    chosen = chosen_columns(columns, shown_labels)
    out = pd.DataFrame()
    for c in chosen:
        if c.key == "router_html":
            out["Router"] = df.get("router", pd.Series(dtype=str))
            out["Paper"] = df.get("paper_url", pd.Series(dtype=str))
            out["Code"] = df.get("code_url", pd.Series(dtype=str))
        elif c.key == "rank_score_ci":
            out["Rank score CI low"] = df.get("rank_score_lo")
            out["Rank score CI high"] = df.get("rank_score_hi")
        elif c.sort_key:
            out[c.label] = df.get(c.sort_key)
            if c.sort_key == "throughput":
                out["Throughput measured by"] = df.get("throughput_source")
                out["Throughput hardware"] = df.get("throughput_hardware")
        else:
            out[c.label] = df.get(c.key)
    if price_table:
        out["Price table"] = price_table
    path = tempfile.NamedTemporaryFile(prefix="leaderboard-", suffix=".csv", delete=False).name
    out.to_csv(path, index=False)
    return path
