"""Price tables on the board: which tables a visitor can pick, and the live board re-priced under one.

Re-pricing never touches the test data: every shown point's cost is its stored per-model token sums
times the table's prices (:func:`evaluator.pricing.point_costs`), and the track's cost bounds follow
the table through its pricing basis. A router's re-priced cost is rounded like every value the
Ladder releases (3 significant digits) and its rank score, interval, best point and curve metrics are
derived from that, exactly as for the live board; reference entries are re-priced exactly.
"""

from __future__ import annotations

import dataclasses
import gc
import json
import os
from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np
import yaml

from evaluator.baselines import PRICE_CHOSEN
from evaluator.bundle import Bundle, CostBounds
from leaderboard import units
from evaluator.frontier import grouped_curve_metrics
from evaluator.ladder import DEFAULT_SETTINGS, LadderSettings, shown_cost
from evaluator.metrics import rank_score
from evaluator.pricing import (TRACK_TABLE, PriceTable, PriceTableError, coarse_sums, parse_price_table,
                               point_costs, price_tables_in, track_table)
from submissions.service import RepricingData
from submissions.status import Kind

#: a directory of extra price tables (``*.yaml`` in VL-RouterBench's ``pricing.yaml`` format)
PRICES_DIR_ENV = "ROUTERBOARD_PRICES_DIR"
#: the selector's value for the table a visitor edits in the app
CUSTOM = "custom"


def prices_dir() -> str | None:
    return os.environ.get(PRICES_DIR_ENV) or None


def tables_for(bundle: Bundle) -> tuple[list[PriceTable], list[str]]:
    """The track's own table first, then every table of ``ROUTERBOARD_PRICES_DIR`` that prices its
    whole pool; and the problems of the files that do not (shown to the visitor, not raised)."""
    found, problems = price_tables_in(prices_dir(), bundle.models)
    own = track_table(bundle)
    return [own] + [t for t in found if t.name != TRACK_TABLE], problems


def table_named(bundle: Bundle, name: str | None) -> PriceTable:
    """A table by its selector name (the track's when empty); unknown names are an error with the choices."""
    tables, _ = tables_for(bundle)
    if not name or name == TRACK_TABLE:
        return tables[0]
    for t in tables:
        if t.name == name:
            return t
    raise PriceTableError(f"no price table named {name!r}; choose one of {[t.name for t in tables]} or pass the "
                          "prices themselves")


def parse_prices_text(bundle: Bundle, text: str) -> PriceTable:
    """A table given as text (the JSON API's ``prices``): a table's name, or the prices themselves as
    YAML/JSON — ``{"models": {id: {input, output}}}`` or just ``{id: {input, output}}``; models left
    out keep the track's prices (as in the app's editor)."""
    text = (text or "").strip()
    if not text.startswith("{") and "\n" not in text and ":" not in text:
        return table_named(bundle, text)
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError:
        doc = None
    if not isinstance(doc, Mapping):
        raise PriceTableError("prices: neither a price table's name nor a mapping of prices; send e.g. "
                              '{"models": {"gpt-4o": {"input": 1.25, "output": 5}}}')
    section = doc.get("models", doc.get("pricing", doc))
    if not isinstance(section, Mapping):
        raise PriceTableError("prices: 'models' must map model ids to {input: …, output: …}")
    own = track_table(bundle)
    merged = {mid: {"input": i, "output": o} for mid, i, o in zip(own.model_ids, own.input, own.output)}
    merged.update({_canonical(bundle, k): v for k, v in section.items()})
    table = parse_price_table({"models": merged}, bundle.models, where="prices")
    return dataclasses.replace(table, name=str(doc.get("name") or CUSTOM), date=str(doc.get("date") or ""),
                               source=str(doc.get("source") or ""))


def _canonical(bundle: Bundle, name: Any) -> str:
    j = bundle.alias_map().get(str(name).strip().lower())
    return bundle.model_ids[j] if j is not None else str(name)


def editor_rows(table: PriceTable, bundle: Bundle) -> list[list[Any]]:
    """Rows of the app's price editor: model, input and output $ per 1M tokens."""
    names = {m.model_id: m.display_name for m in bundle.models}
    return [[names.get(mid, mid), i, o] for mid, i, o in zip(table.model_ids, table.input, table.output)]


def table_from_editor(bundle: Bundle, rows: Any) -> PriceTable:
    """The editor's rows as a table (the whole pool must be there; every price checked)."""
    values = rows.values.tolist() if hasattr(rows, "values") else list(rows or [])
    doc = {"name": CUSTOM, "models": {}}
    for r in values:
        if not r or str(r[0]).strip() == "":
            continue
        doc["models"][str(r[0]).strip()] = {"input": _cell(r, 1), "output": _cell(r, 2)}
    return parse_price_table(doc, bundle.models, where="your table", name=CUSTOM)


def _cell(row: list[Any], k: int) -> Any:
    v = row[k] if len(row) > k else None
    if isinstance(v, str):
        v = v.strip().lstrip("$").strip()
    return v


@dataclass(frozen=True)
class Repriced:
    """The live board's rows under a table, and what the page says about it."""

    rows: list[dict[str, Any]]
    table: PriceTable
    bounds: CostBounds
    #: entries that could not be re-priced (no token sums: scored before re-pricing existed, or the
    #: oracle curve, whose points are thresholds of the track's own prices)
    left_out: int
    #: routers were re-priced from coarse token sums (a table the visitor chose)
    coarse: bool = False


def reprice_rows(rows: list[dict[str, Any]], data: RepricingData, table: PriceTable, model_ids: list[str],
                 settings: LadderSettings = DEFAULT_SETTINGS, flat: BoardPoints | None = None,
                 coarse: tuple[np.ndarray, np.ndarray] | None = None) -> Repriced:
    """The live board's rows re-priced under ``table`` (see the module docstring), best rank first;
    ``flat``: the rows' :func:`board_points` when the caller keeps them between tables; ``coarse``: the
    rounding steps (:func:`evaluator.pricing.coarse_steps`) of routers' token sums — for a table the
    visitor chose, which could otherwise isolate one model's sums of a released point."""
    # Tens of thousands of short-lived dicts: a cyclic-GC pass in the middle would cost more than the
    # whole re-pricing (seen: 0.26 s of 0.3 s), and none of them can form a cycle.
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _reprice_rows(rows, data, table, model_ids, settings, flat, coarse)
    finally:
        if enabled:
            gc.enable()


@dataclass(frozen=True)
class BoardPoints:
    """A board version's shown points flattened for re-pricing: what does not depend on the table,
    derived once per version (see :func:`board_points`)."""

    kept: list[dict[str, Any]]   # the rows that can be re-priced (every point has token sums)
    index: np.ndarray            # per point, its row in ``RepricingData.sums``
    sizes: np.ndarray            # points per kept row
    accuracy: np.ndarray
    accuracy_lo: np.ndarray
    accuracy_hi: np.ndarray
    laddered: np.ndarray         # per point: a router's (shown at the Ladder's precision) or a reference's


def board_points(rows: list[dict[str, Any]], data: RepricingData) -> BoardPoints:
    kept, index = [], []
    for r in rows:
        if r["kind"] == Kind.REFERENCE.value and r["router"] in PRICE_CHOSEN:
            continue  # routed by the track's prices: another table would route it differently
        ks = [data.keys.get((int(r["submission_id"]), str(p["point"]))) for p in r["points"]]
        if r["points"] and all(k is not None for k in ks):
            kept.append(r)
            index.extend(ks)
    pts = [p for r in kept for p in r["points"]]
    sizes = np.array([len(r["points"]) for r in kept], dtype=np.int64)
    num = lambda key: np.array([np.nan if p.get(key) is None else p[key] for p in pts], dtype=np.float64)  # noqa: E731
    laddered = np.repeat(np.array([r["kind"] != Kind.REFERENCE.value for r in kept], dtype=bool), sizes)
    return BoardPoints(kept, np.asarray(index, dtype=np.int64), sizes, num("accuracy"), num("accuracy_lo"),
                       num("accuracy_hi"), laddered)


def _reprice_rows(rows: list[dict[str, Any]], data: RepricingData, table: PriceTable, model_ids: list[str],
                  settings: LadderSettings, flat: BoardPoints | None = None,
                  coarse: tuple[np.ndarray, np.ndarray] | None = None) -> Repriced:
    basis = data.basis
    bounds = basis.bounds(table)  # raises PriceTableError when the track cannot be re-priced
    flat = flat or board_points(rows, data)
    kept, sizes, acc, lo, hi, laddered = (flat.kept, flat.sizes, flat.accuracy, flat.accuracy_lo, flat.accuracy_hi,
                                          flat.laddered)
    index = flat.index
    m = len(model_ids)
    owner = np.repeat(np.arange(len(kept)), sizes)
    sums = data.sums[index] if index.size else np.zeros((0, 2 * m))
    if coarse is not None:
        sums = np.where(laddered[:, None], coarse_sums(sums, *coarse), sums)
    exact = point_costs(sums[:, :m], sums[:, m:], max(basis.n_public, 1), table)
    cost = np.where(laddered, shown_cost(exact, settings.cost_digits), exact)
    cmin, cmax = bounds.cmin, bounds.cmax
    rs = rank_score(acc, cost, cmin, cmax)
    rs_lo, rs_hi = rank_score(np.nan_to_num(lo), cost, cmin, cmax), rank_score(np.nan_to_num(hi), cost, cmin, cmax)
    # each entry's headline: its best rank score (ties: the earlier point)
    position = np.arange(len(acc)) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    order = np.lexsort((position, -rs, owner))
    firsts = order[np.concatenate(([True], owner[order][1:] != owner[order][:-1]))] if len(order) else order
    best_acc, best_cost = _best_single(kept, owner, acc, cost, model_ids)
    nauc, _, qnc = grouped_curve_metrics(owner, cost, acc, len(kept), best_acc, best_cost)
    n = max(basis.n_public, 1)
    # plain lists: indexing numpy scalars one by one would cost more than all the array work above
    cost_l, rs_l, total_l = cost.tolist(), rs.tolist(), (cost * n).tolist()
    lo_ok, hi_ok = np.isfinite(lo), np.isfinite(hi)
    rs_lo_l = np.where(lo_ok, rs_lo, np.nan).tolist()
    rs_hi_l = np.where(hi_ok, rs_hi, np.nan).tolist()
    nauc_l = np.where((sizes >= 2) & np.isfinite(nauc), nauc, np.nan).tolist()
    qnc_l = np.where((sizes >= 2) & np.isfinite(qnc), qnc, np.nan).tolist()
    firsts_l, starts_l = firsts.tolist(), (np.cumsum(sizes) - sizes).tolist()
    none = lambda x: None if x != x else x  # noqa: E731 (NaN → None)
    out = []
    k = 0
    for i, r in enumerate(kept):
        b = firsts_l[i]
        start = starts_l[i]
        new_points = []
        for p in r["points"]:
            new_points.append({**p, "cost": cost_l[k], "total_cost": total_l[k], "rank_score": rs_l[k]})
            k += 1
        head = new_points[b - start]
        out.append({
            **r, "point": head["point"], "accuracy": head["accuracy"], "cost": cost_l[b], "rank_score": rs_l[b],
            "accuracy_lo": head.get("accuracy_lo"), "accuracy_hi": head.get("accuracy_hi"),
            "rank_score_lo": none(rs_lo_l[b]), "rank_score_hi": none(rs_hi_l[b]),
            "p_rank_score": None,  # the test against the best single model is shown at the track's prices only
            "nauc": none(nauc_l[i]), "qnc": none(qnc_l[i]),
            "families": data.families.get((int(r["submission_id"]), str(head["point"])), r["families"]),
            "heldout": data.heldout.get((int(r["submission_id"]), str(head["point"])), r.get("heldout", {})),
            "points": new_points,
        })
    out.sort(key=lambda row: -row["rank_score"])
    return Repriced(out, table, bounds, len(rows) - len(kept), coarse is not None)


def _best_single(rows: list[dict[str, Any]], owner: np.ndarray, acc: np.ndarray, cost: np.ndarray,
                 model_ids: list[str]) -> tuple[float, float]:
    """The best single model under the table: most accurate single-model reference entry, ties to
    the cheaper at the new prices, then to the earlier model (as :func:`evaluator.metrics.best_single_model`)."""
    rank = {mid: j for j, mid in enumerate(model_ids)}
    singles = [(i, rank[r["router"]]) for i, r in enumerate(rows)
               if r["kind"] == Kind.REFERENCE.value and r["router"] in rank]
    if not singles:
        return float("nan"), float("nan")
    first = np.searchsorted(owner, [i for i, _ in singles])
    a, c = acc[first], cost[first]
    k = np.lexsort((np.array([j for _, j in singles]), c, -a))[0]
    return float(a[k]), float(c[k])


def is_published(bundle: Bundle, table: PriceTable) -> bool:
    """Whether ``table`` has the prices of the track's own table or of one in ``ROUTERBOARD_PRICES_DIR``
    (a fixed, public set: routers are re-priced exactly); any other table is the visitor's own."""
    return any(t.same_prices(table) for t in tables_for(bundle)[0])


def describe(table: PriceTable, bounds: CostBounds | None = None, left_out: int = 0, coarse: bool = False) -> str:
    """The sentence that says which table is in force (and what re-pricing left out)."""
    where = ("the track's own prices" if table.name == TRACK_TABLE
             else f"price table **{table.label()}**" if table.name != CUSTOM else "**your edited prices**")
    text = f"Costs and rank scores at {where}."
    if bounds is not None and table.name != TRACK_TABLE:
        text += (f" Rank-score cost bounds under it: {units.cost_text(bounds.cmin)} to {units.cost_text(bounds.cmax)}. "
                 "Intervals from the accuracy interval at the re-priced cost; the test against the best single "
                 "model is shown at the track's prices only.")
    if coarse:
        text += (" Routers under your own prices: from their token sums per model rounded to 8 samples' worth, "
                 "like every group value the Ladder shows (freely chosen prices could otherwise single out one "
                 "hidden sample); the published tables re-price them exactly.")
    if left_out:
        text += (f" {left_out} entr{'y' if left_out == 1 else 'ies'} left out: the Oracle, CheapestGlobal and the oracle "
                 "curve (the track's prices choose their routing) and any entry scored before re-pricing existed.")
    return text


def table_json(table: PriceTable) -> str:
    return json.dumps(table.to_dict())
