"""Plotly figures: the cost–accuracy Pareto plot and the per-dataset detail bars.

Each takes plain rows (as :meth:`SubmissionService.leaderboard_rows` gives them, cost in USD per
query) and returns a ``plotly.graph_objects.Figure`` whose cost axis is in the app's one cost unit
(:mod:`leaderboard.units`); nothing here touches the database.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import plotly.graph_objects as go

from evaluator.baselines import BASELINE_NAMES, ORACLE, ORACLE_CURVE
from evaluator.frontier import pareto_frontier
from leaderboard import units

ORACLE_ENTRIES = (ORACLE, ORACLE_CURVE)
FRONTIER = "Global Pareto frontier"
BUDGET = "Budget"
_HOVER = (f"<b>%{{customdata[0]}}</b><br>accuracy %{{y:.1%}}<br>{units.HOVER_COST}<br>"
          "rank score %{customdata[1]:.1f}<extra></extra>")


def _entry_kind(row: dict[str, Any]) -> str:
    if row["kind"] != "reference":
        return row["kind"]
    if row["router"] in ORACLE_ENTRIES:
        return "oracle"
    if row["router"] in BASELINE_NAMES:
        return "baseline"
    return "single"


def _label(text: str) -> str:
    """Plotly reads a little HTML in names and labels (<a href>, <b>): escape user text to plain text."""
    return html.escape(str(text), quote=False)


def _points(row: dict[str, Any], slice_points: dict[int, list[dict]] | None) -> list[dict]:
    if slice_points is None:
        return row["points"]
    return [p for p in slice_points.get(row["submission_id"], []) if p["cost"] and p["accuracy"] is not None]


#: researchers' entries drawn one trace each, the best by rank score; every other one falls into one
#: light density layer (thousands of traces, or thousands of WebGL points, make the plot unreadable and
#: slow to draw: a GPU-less browser spends 0.6 s starting WebGL alone)
TOP_ENTRIES = 20
OTHERS = "Other routers"
_HIGHLIGHT = "#d81b60"
#: cells of the density layer across the points' costs (log) and up the whole accuracy axis (0–100%):
#: about square on a plot 1,000-odd pixels wide, and few enough for a browser to draw each as an SVG
#: square in a few hundred milliseconds
DENSITY_CELLS = (64, 36)
#: entries a density cell's hover names by name (its best by rank score), then how many more
NAMED_PER_CELL = 4
#: up to this many other points, they are drawn as points (each named), not as a density
POINTS_UP_TO = 1_000
#: a density cell's square, in pixels: a cell of :data:`DENSITY_CELLS` on a plot :data:`CELL_AT_WIDTH` px wide
CELL_PX = 15
CELL_AT_WIDTH = 1_000


@dataclass(frozen=True)
class Density:
    """The other entries' points binned into cells: what the light layer draws and its hover says. Up
    to :data:`POINTS_UP_TO` points are kept as points instead (``count`` None): drawn one by one, each
    named. Only cells holding points are kept (a scatter of squares: the page's light Plotly bundle,
    :mod:`leaderboard.plotly_html`, draws scatter, bar and pie traces only)."""

    x: np.ndarray             # cost in the unit of each non-empty cell's centre (log-spaced) — or of each point
    y: np.ndarray             # accuracy of each non-empty cell's centre — or of each point
    count: np.ndarray | None  # points in each cell — None: the layer is points
    text: list[str]           # each cell's hover (its best points by name, then how many more) — or each name
    points: int

    @classmethod
    def of(cls, rows: list[dict[str, Any]], slice_points=None, cells: tuple[int, int] = DENSITY_CELLS) -> "Density":
        """Bins every point of ``rows`` (names per cell, best rank score first), or keeps them as points
        when there are at most :data:`POINTS_UP_TO`."""
        xs, ys, names, scores = [], [], [], []
        for row in rows:
            for p in _points(row, slice_points):
                xs.append(p["cost"]), ys.append(p["accuracy"])
                names.append(f"{row['router']} · {p['point']}"), scores.append(p["rank_score"] or 0.0)
        x = units.in_unit(np.asarray(xs, dtype=float))
        y = np.asarray(ys, dtype=float)
        ok = np.flatnonzero((x > 0) & np.isfinite(x) & np.isfinite(y))
        nx, ny = cells
        if not ok.size:
            return cls(np.empty(0), np.empty(0), np.empty(0, dtype=np.int64), [], 0)
        if ok.size <= POINTS_UP_TO:
            return cls(x[ok], y[ok], None, [_label(names[k]) for k in ok], int(ok.size))
        lx, y = np.log10(x[ok]), y[ok]
        xe = np.linspace(lx.min(), lx.max() + 1e-9, nx + 1) if np.ptp(lx) > 0 else lx[0] + np.linspace(-0.05, 0.05, nx + 1)
        ye = np.linspace(0.0, 1.0 + 1e-9, ny + 1)  # the whole accuracy axis, so that a cell is about square
        ix = np.clip(np.searchsorted(xe, lx, side="right") - 1, 0, nx - 1)
        iy = np.clip(np.searchsorted(ye, y, side="right") - 1, 0, ny - 1)
        cell = iy * nx + ix
        count = np.bincount(cell, minlength=nx * ny)
        order = np.lexsort((-np.asarray(scores)[ok], cell))  # by cell, best first within it
        first = np.searchsorted(cell[order], np.arange(nx * ny))
        named = order[np.arange(order.size) - first[cell[order]] < NAMED_PER_CELL]
        by_cell: dict[int, list[str]] = {}
        for k in named:  # at most NAMED_PER_CELL per cell, once per board version
            by_cell.setdefault(int(cell[k]), []).append(_label(names[ok[k]]))
        full = np.flatnonzero(count)
        text = []
        for c in full.tolist():
            few, n = by_cell[c], int(count[c])
            text.append(f"{n:,} entr{'y' if n == 1 else 'ies'} here:<br>" + "<br>".join(few)
                        + (f"<br>… and {n - len(few):,} more (search to highlight)" if n > len(few) else ""))
        cx, cy = 10 ** ((xe[:-1] + xe[1:]) / 2), (ye[:-1] + ye[1:]) / 2
        return cls(cx[full % nx], cy[full // nx], count[full], text, int(ok.size))


def _layer(fig: go.Figure, layer: Density, entries: int) -> None:
    """The other entries as one light layer: grey points, each named, or a density of grey squares
    (darker: more entries) whose hover names a cell's best."""
    if not layer.points:
        return
    if layer.count is None:  # few enough to draw one by one (SVG: about 0.2 ms a point in a GPU-less browser)
        fig.add_trace(go.Scatter(x=layer.x, y=layer.y, text=layer.text, mode="markers", name=f"{OTHERS} ({entries:,})",
                                 hovertemplate=f"<b>%{{text}}</b><br>accuracy %{{y:.1%}}<br>{units.HOVER_COST}"
                                               "<extra></extra>",
                                 marker=dict(size=5, color="rgba(90,90,90,0.35)")))
        return
    fig.add_trace(go.Scatter(x=layer.x, y=layer.y, text=layer.text, mode="markers", hovertemplate="%{text}<extra></extra>",
                             name=f"{OTHERS} ({entries:,}, density)",
                             marker=dict(symbol="square", size=CELL_PX, color=np.log1p(layer.count), cmin=0,
                                         colorscale=[[0, "rgba(90,90,90,0.15)"], [1, "rgba(50,50,50,0.8)"]],
                                         line=dict(width=0)),
                             # the page shrinks the squares with the plot (leaderboard.plotly_html): on a
                             # phone, 15-px squares would merge into one dark block
                             meta={"size_at_width": [CELL_PX, CELL_AT_WIDTH]}))


def achievable_points(rows: list[dict[str, Any]]) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """Every point an entry achieves (oracles excluded: they need the answers in advance) as arrays:
    cost per query, accuracy, index of its row, point label."""
    costs, accs, owners, labels = [], [], [], []
    for k, row in enumerate(rows):
        if _entry_kind(row) == "oracle":
            continue
        for p in row["points"]:
            costs.append(p["cost"]), accs.append(p["accuracy"]), owners.append(k), labels.append(p["point"])
    return np.asarray(costs, dtype=float), np.asarray(accs, dtype=float), np.asarray(owners, dtype=np.int64), labels


def best_under_budget(rows: list[dict[str, Any]], budget: float,
                      slice_points: dict[int, list[dict]] | None = None) -> tuple[str, dict] | None:
    """The most accurate achievable entry point costing ≤ ``budget`` (USD per query; oracles excluded:
    they need the answers in advance). Ties go to the cheaper point."""
    best: tuple[float, float, str, dict] | None = None
    for row in rows:
        if _entry_kind(row) == "oracle":
            continue
        for p in _points(row, slice_points):
            if p["cost"] <= budget * (1 + 1e-12):
                key = (p["accuracy"], -p["cost"])
                if best is None or key > (best[0], best[1]):
                    best = (p["accuracy"], -p["cost"], row["router"], p)
    return (best[2], best[3]) if best else None


def _dollar_ticks(fig: go.Figure) -> dict[str, list]:
    """Log-axis ticks at $1, $2, $5 × powers of ten over the plotted costs, labelled in dollars."""
    xs = np.concatenate([np.asarray(t.x, dtype=float) for t in fig.data if t.x is not None] or [np.empty(0)])
    xs = xs[np.isfinite(xs) & (xs > 0)]
    if not xs.size:
        return {}
    lo, hi = xs.min(), xs.max()
    ticks = [m * 10.0 ** k for k in range(math.floor(math.log10(lo)), math.ceil(math.log10(hi)) + 1)
             for m in (1, 2, 5) if lo / 1.5 <= m * 10.0 ** k <= hi * 1.5]
    return dict(tickvals=ticks, ticktext=[f"${t:g}" for t in ticks])


def split_entries(rows: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Researchers' entries: the top ``TOP_ENTRIES`` by rank score (drawn one by one) and the rest."""
    routers = sorted((r for r in rows if _entry_kind(r) in ("user", "starter")), key=lambda r: -(r["rank_score"] or 0))
    return routers[:TOP_ENTRIES], routers[TOP_ENTRIES:]


def pareto_figure(rows: list[dict[str, Any]], *, budget: float | None = None,
                  slice_points: dict[int, list[dict]] | None = None, title: str = "",
                  highlight: set[int] | None = None, layer=None,
                  achievable: tuple[np.ndarray, np.ndarray] | None = None, by_throughput: bool = False) -> go.Figure:
    """Single models, reference entries, the top researchers' entries (``TOP_ENTRIES``, by rank score)
    and any ``highlight``-ed ones (submission ids) as their own traces; the rest in one light layer
    (``layer``: its :class:`Density`, and ``achievable``: every achievable point's cost and accuracy
    for the frontier, when the caller keeps them between figures). ``by_throughput``: every entry that
    states a throughput is drawn again, coloured and sized by it."""
    fig = go.Figure()
    highlight = highlight or set()
    singles = [r for r in rows if _entry_kind(r) == "single"]
    xs = [p["cost"] for r in singles for p in _points(r, slice_points)[:1]]
    ys = [p["accuracy"] for r in singles for p in _points(r, slice_points)[:1]]
    names = [_label(r["router"]) for r in singles if _points(r, slice_points)]
    rs = [100 * p["rank_score"] for r in singles for p in _points(r, slice_points)[:1]]
    floor = min(xs) / 2 if xs else None
    fig.add_trace(go.Scatter(x=units.in_unit(np.asarray(xs, dtype=float)), y=ys, mode="markers+text",
                             name="Single models", text=names,
                             textposition="top center", textfont=dict(size=9, color="#666"),
                             marker=dict(color="#9e9e9e", size=9), customdata=list(zip(names, rs)),
                             hovertemplate=_HOVER))
    top, rest = split_entries(rows)
    if rest:
        _layer(fig, layer if layer is not None else Density.of(rest, slice_points), len(rest))
    top = top + [r for r in rest if r["submission_id"] in highlight]  # drawn again, in colour, on top
    refs = [r for r in rows if _entry_kind(r) in ("baseline", "oracle")]
    for row in refs + top:
        kind = _entry_kind(row)
        pts = sorted(_points(row, slice_points), key=lambda p: p["cost"])
        if row["router"] == ORACLE_CURVE and floor is not None:
            pts = [p for p in pts if p["cost"] >= floor]  # below the cheapest model most samples get nothing
        if not pts:
            continue
        x = [units.in_unit(p["cost"]) for p in pts]
        y = [p["accuracy"] for p in pts]
        custom = [(_label(f"{row['router']} · {p['point']}"), 100 * (p["rank_score"] or 0)) for p in pts]
        if row["router"] == ORACLE:
            style = dict(mode="markers", marker=dict(symbol="star", size=16, color="#f5b700",
                                                     line=dict(color="#7a5b00", width=1)))
        elif row["router"] == ORACLE_CURVE:
            style = dict(mode="lines", line=dict(color="#f5b700", dash="dot", width=2))
        elif kind == "baseline":
            style = dict(mode="markers", marker=dict(symbol="diamond", size=10))
        elif row["submission_id"] in highlight:
            style = dict(mode="lines+markers", marker=dict(size=12, color=_HIGHLIGHT, line=dict(color="white", width=1)),
                         line=dict(color=_HIGHLIGHT, width=4))
        else:
            style = dict(mode="lines+markers" if len(pts) > 1 else "markers", marker=dict(size=9))
        name = _label(row["router"]) + (" (highlighted)" if row["submission_id"] in highlight else "")
        fig.add_trace(go.Scatter(x=x, y=y, name=name, customdata=custom, hovertemplate=_HOVER, **style))
    # The frontier of everything achievable (oracles excluded).
    if achievable is None:
        allp = [(p["cost"], p["accuracy"]) for r in rows if _entry_kind(r) != "oracle"
                for p in _points(r, slice_points)]
        achievable = tuple(np.array(allp, dtype=float).reshape(-1, 2).T)
    c, a = achievable
    keep = c > 0
    if keep.any():
        c, a = c[keep], a[keep]
        front = pareto_frontier(c, a)
        fig.add_trace(go.Scatter(x=units.in_unit(c[front]), y=a[front], mode="lines", name=FRONTIER, hoverinfo="skip",
                                 line=dict(color="rgba(220,50,50,0.55)", width=6)))
    if by_throughput:
        _throughput_layer(fig, rows, slice_points)
    if budget is not None and budget > 0:
        line = units.in_unit(budget)
        fig.add_trace(go.Scatter(x=[line, line], y=[0, 1], mode="lines", name=BUDGET, hoverinfo="skip",
                                 line=dict(color="#2e7d32", dash="dash"), showlegend=True))
    fig.update_layout(title=title, xaxis=dict(type="log", title=units.AXIS_TITLE, **_dollar_ticks(fig)),
                      yaxis=dict(title="accuracy", tickformat=".0%"),
                      # below the plot: beside it, the legend would squeeze the plot to nothing on a phone
                      legend=dict(itemclick="toggle", orientation="h", yanchor="top", y=-0.14, x=0),
                      height=680, margin=dict(l=60, r=20, t=50, b=60), template="plotly_white")
    return fig


THROUGHPUT = "Throughput (K tok/s)"


def _throughput_layer(fig: go.Figure, rows: list[dict[str, Any]], slice_points) -> None:
    """Each entry with a throughput, at its headline point, coloured (and sized) by it."""
    with_tp = [r for r in rows if r.get("throughput") is not None and _points(r, slice_points)]
    if not with_tp:
        return
    head = [next((p for p in _points(r, slice_points) if p["point"] == r["point"]), _points(r, slice_points)[0])
            for r in with_tp]
    tp = np.array([float(r["throughput"]) for r in with_tp])
    size = 10 + 14 * np.sqrt(tp / tp.max())
    text = [_label(f"{r['router']} · {r['throughput']:.3g} K tok/s ({r.get('throughput_source') or 'stated'})")
            for r in with_tp]
    fig.add_trace(go.Scatter(
        x=units.in_unit(np.array([p["cost"] for p in head], dtype=float)), y=[p["accuracy"] for p in head],
        mode="markers", name=THROUGHPUT, text=text,
        marker=dict(color=tp, size=size, colorscale="Viridis", showscale=True, line=dict(color="white", width=1),
                    colorbar=dict(title=dict(text="K tok/s"), thickness=12, len=0.6)),
        hovertemplate=f"<b>%{{text}}</b><br>accuracy %{{y:.1%}}<br>{units.HOVER_COST}<extra></extra>"))


def detail_figure(views: list[dict[str, Any]], level: str = "per_dataset", metric: str = "accuracy") -> go.Figure:
    """Bars per dataset (or family) for one or two entries, with 95% binomial intervals on accuracy."""
    fig = go.Figure()
    for v in views:
        if not v.get("points"):
            continue
        p = next((q for q in v["points"] if q["point"] == v.get("best_point")), v["points"][0])
        groups = p.get(level) or {}
        names = sorted(groups)
        vals = [groups[g][metric] for g in names]
        err = None
        if metric == "accuracy":
            err = [1.96 * math.sqrt(max(a * (1 - a), 0) / max(groups[g]["n"], 1)) for g, a in zip(names, vals)]
        fig.add_trace(go.Bar(x=names, y=vals, name=_label(f"{v['router_name']} · {p['point']}"),
                             error_y=dict(type="data", array=err, visible=err is not None)))
    fig.update_layout(barmode="group", template="plotly_white", height=480,
                      yaxis=dict(title=metric, tickformat=".0%" if metric == "accuracy" else ".2g"),
                      margin=dict(l=60, r=20, t=30, b=120))
    return fig
