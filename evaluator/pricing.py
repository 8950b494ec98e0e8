"""Price tables and re-pricing: every cost is linear in the prices, so any entry can be re-priced.

A query's cost is ``(input_tokens · input_price + output_tokens · output_price) / 1e6`` USD with
prices in USD per 1M tokens (VL-RouterBench's ``config/pricing.yaml``). An operating point's mean
cost under any table therefore needs only, per model, the sums of input and output tokens over the
samples the point routed to it (:func:`token_sums`, stored at scoring time), and the track's cost
bounds under a new table need only a few extreme token pairs per model (:class:`PricingBasis`,
derived where the hidden part is). Neither leaves the server: they are what hidden costs are made of.

:func:`reprice` rebuilds a whole bundle under a table (cost matrix and bounds), which is the full
re-score every re-priced number must agree with; the board re-prices stored sums with
:func:`point_costs` instead, without touching the test data.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping

import numpy as np

from evaluator.bundle import Bundle, CostBounds, ModelInfo
from evaluator.errors import EvaluatorError
from evaluator.predictions import Decisions
from evaluator.split import split_arrays

#: prices are per this many tokens
PER_TOKENS = 1e6
#: the name of a track's own table
TRACK_TABLE = "track"
#: keys a table file may use for the two prices of a model (VL-RouterBench and common variants)
INPUT_KEYS = ("input", "input_price", "prompt", "input_per_1m")
OUTPUT_KEYS = ("output", "output_price", "completion", "output_per_1m")
#: how far a track's stored costs may differ from tokens × its prices before re-pricing is refused
CONSISTENCY_RTOL = 1e-6


class PriceTableError(EvaluatorError):
    """A price table that cannot be used; ``problems`` lists every reason (what, where, how to fix)."""

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or [message]


@dataclass(frozen=True)
class PriceTable:
    """USD per 1M input and output tokens for every model of a pool, in pool order."""

    name: str
    model_ids: tuple[str, ...]
    input: tuple[float, ...]
    output: tuple[float, ...]
    date: str = ""
    source: str = ""

    def __post_init__(self) -> None:
        m = len(self.model_ids)
        if len(self.input) != m or len(self.output) != m:
            raise PriceTableError(f"price table {self.name!r}: {m} models but {len(self.input)} input and "
                                  f"{len(self.output)} output prices")

    @property
    def input_prices(self) -> np.ndarray:
        return np.asarray(self.input, dtype=np.float64)

    @property
    def output_prices(self) -> np.ndarray:
        return np.asarray(self.output, dtype=np.float64)

    @property
    def key(self) -> str:
        """Identifies the prices (not the name): two tables with the same prices re-price alike."""
        blob = json.dumps([self.model_ids, self.input, self.output])
        return hashlib.sha256(blob.encode()).hexdigest()[:16]

    def same_prices(self, other: "PriceTable") -> bool:
        return self.key == other.key

    def label(self) -> str:
        """How the page names the table in force."""
        bits = [b for b in (self.date, self.source) if b]
        return f"{self.name}" + (f" ({', '.join(bits)})" if bits else "")

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "date": self.date, "source": self.source,
                "models": {mid: {"input": i, "output": o} for mid, i, o in zip(self.model_ids, self.input, self.output)}}

    def with_prices(self, prices: Mapping[str, tuple[float, float]], name: str = "custom") -> "PriceTable":
        """This table with some models' prices replaced (the app's editor)."""
        new_in = [float(prices.get(m, (i, o))[0]) for m, i, o in zip(self.model_ids, self.input, self.output)]
        new_out = [float(prices.get(m, (i, o))[1]) for m, i, o in zip(self.model_ids, self.input, self.output)]
        return dataclasses.replace(self, name=name, input=tuple(new_in), output=tuple(new_out), date="", source="")


def track_table(bundle: Bundle) -> PriceTable:
    """A track's own table: the prices its costs were computed with."""
    prov = bundle.provenance
    return PriceTable(TRACK_TABLE, tuple(bundle.model_ids), tuple(float(m.input_price) for m in bundle.models),
                      tuple(float(m.output_price) for m in bundle.models),
                      date=str(prov.extra.get("prices_date", "")) if prov.extra else "",
                      source=f"{bundle.name} {bundle.version}")


def _price(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        x = float(value)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def parse_price_table(doc: Any, models: list[ModelInfo], *, where: str = "price table",
                      name: str | None = None, complete: bool = True) -> PriceTable:
    """A table from a parsed ``pricing.yaml`` document for the pool ``models``.

    The document is VL-RouterBench's shape — a ``models:`` (or ``pricing:``) mapping of model id to
    ``{input: …, output: …}`` in USD per 1M tokens — with optional top-level ``name``, ``date`` and
    ``source``. Models are matched by id, display name or alias (any case); models of the table that
    are not in the pool are ignored (a provider's list is usually longer than a pool). Raises
    :class:`PriceTableError` naming every missing model and every bad price; ``complete=False`` lets
    models the document leaves out keep their pool prices (a benchmark's own partial pricing file)."""
    if not isinstance(doc, Mapping):
        raise PriceTableError(f"{where}: expected a mapping with a 'models:' section of model id → "
                              "{input: $ per 1M tokens, output: $ per 1M tokens}")
    section = doc.get("models", doc.get("pricing"))
    if not isinstance(section, Mapping) or not section:
        raise PriceTableError(f"{where}: no 'models:' mapping; write one entry per model, e.g. "
                              "'models: {gpt-4o: {input: 2.5, output: 10.0}}'")
    lookup: dict[str, int] = {}
    for j, m in enumerate(models):
        for alias in m.names():
            lookup.setdefault(str(alias).strip().lower(), j)
    pin: list[float | None] = [None] * len(models)
    pout: list[float | None] = [None] * len(models)
    seen: set[int] = set()
    problems: list[str] = []
    for raw_id, spec in section.items():
        j = lookup.get(str(raw_id).strip().lower())
        if j is None:
            continue
        seen.add(j)
        if not isinstance(spec, Mapping):
            problems.append(f"{where}: model {raw_id!r}: expected {{input: …, output: …}}, got {spec!r}")
            continue
        for keys, side, out in ((INPUT_KEYS, "input", pin), (OUTPUT_KEYS, "output", pout)):
            key = next((k for k in keys if k in spec), None)
            if key is None:
                problems.append(f"{where}: model {raw_id!r} has no {side} price (one of {', '.join(keys)})")
                continue
            value = _price(spec[key])
            if value is None:
                problems.append(f"{where}: model {raw_id!r}: {side} price {spec[key]!r} is not a number; write "
                                "dollars per 1M tokens, e.g. 2.5")
            elif value < 0:
                problems.append(f"{where}: model {raw_id!r}: {side} price {value:g} is negative; prices are "
                                "dollars per 1M tokens, 0 or more")
            else:
                out[j] = value
    missing = [m.model_id for j, m in enumerate(models) if j not in seen]
    if not complete:
        for j in range(len(models)):
            pin[j] = models[j].input_price if pin[j] is None and j not in seen else pin[j]
            pout[j] = models[j].output_price if pout[j] is None and j not in seen else pout[j]
        missing = []
    if missing:
        problems.append(f"{where}: no prices for {len(missing)} model(s) of the pool: {', '.join(missing)}; "
                        "add an entry for each (input and output $ per 1M tokens)")
    if problems:
        raise PriceTableError(f"{where}: " + "; ".join(p.removeprefix(f"{where}: ") for p in problems), problems)
    label = name or str(doc.get("name") or where)
    return PriceTable(label, tuple(m.model_id for m in models), tuple(float(x) for x in pin),  # type: ignore[arg-type]
                      tuple(float(x) for x in pout), date=str(doc.get("date") or ""),  # type: ignore[arg-type]
                      source=str(doc.get("source") or ""))


def read_price_table(path: str | os.PathLike[str], models: list[ModelInfo]) -> PriceTable:
    """Read a ``pricing.yaml`` file (see :func:`parse_price_table`); its name defaults to the file's stem."""
    import yaml

    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PriceTableError(f"{p}: cannot read the price table ({exc})") from None
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}" if mark is not None else ""
        raise PriceTableError(f"{p}: not valid YAML{at}; a price table is 'models:' followed by one "
                              "'<model id>: {input: …, output: …}' line per model") from None
    table = parse_price_table(doc, models, where=str(p.name))
    return table if isinstance(doc, Mapping) and doc.get("name") else dataclasses.replace(table, name=p.stem)


def price_tables_in(directory: str | os.PathLike[str] | None, models: list[ModelInfo]
                    ) -> tuple[list[PriceTable], list[str]]:
    """Every ``*.yaml``/``*.yml`` table of a directory that fits the pool, by name, and the problems
    of those that do not (one bad file does not hide the others)."""
    if not directory or not Path(directory).is_dir():
        return [], []
    tables, problems = [], []
    for path in sorted(Path(directory).iterdir()):
        if path.suffix.lower() not in (".yaml", ".yml") or not path.is_file():
            continue
        try:
            tables.append(read_price_table(path, models))
        except PriceTableError as exc:
            problems.extend(exc.problems)
    return tables, problems


# ------------------------------------------------------------------------------------ token data
def has_tokens(bundle: Bundle) -> bool:
    return bundle.output_tokens is not None and "input_tokens" in bundle.samples


#: ``Provenance.extra`` key saying where a track's cost bounds come from ("file": fixed by the track)
BOUNDS_SOURCE = "cost_bounds_source"


def bounds_fixed(bundle: Bundle) -> bool:
    return bool(bundle.provenance.extra) and bundle.provenance.extra.get(BOUNDS_SOURCE) == "file"


def cost_matrix(input_tokens: np.ndarray, output_tokens: np.ndarray, table: PriceTable) -> np.ndarray:
    """Per sample and model, USD per query under ``table`` — the one formula every re-priced number uses."""
    x = np.asarray(input_tokens, dtype=np.float64)
    return (x[:, None] * table.input_prices[None, :] + np.asarray(output_tokens, dtype=np.float64)
            * table.output_prices[None, :]) / PER_TOKENS


def token_sums(bundle: Bundle, decisions: Decisions) -> tuple[np.ndarray, np.ndarray]:
    """Per point and model, the input and output tokens of the samples routed to that model,
    ((P, M), (P, M)): with them a point's cost under any table is one dot product."""
    rows = split_arrays(bundle, decisions.split).rows
    P, m = decisions.choices.shape[0], len(bundle.models)
    if bundle.output_tokens is None:
        raise PriceTableError(f"track {bundle.track_id} has no token counts: its costs cannot be re-priced")
    x = np.asarray(bundle.samples["input_tokens"].to_numpy()[rows], dtype=np.float64)
    y = np.asarray(bundle.output_tokens[rows[None, :], decisions.choices], dtype=np.float64)  # (P, n)
    flat = (np.arange(P)[:, None] * m + decisions.choices).ravel()
    inp = np.bincount(flat, weights=np.broadcast_to(x, decisions.choices.shape).ravel(), minlength=P * m)
    out = np.bincount(flat, weights=y.ravel(), minlength=P * m)
    return inp.reshape(P, m), out.reshape(P, m)


def point_costs(input_sums: np.ndarray, output_sums: np.ndarray, n: np.ndarray | float,
                table: PriceTable) -> np.ndarray:
    """Mean cost per query of points given their per-model token sums over ``n`` samples each."""
    total = (np.asarray(input_sums, dtype=np.float64) @ table.input_prices
             + np.asarray(output_sums, dtype=np.float64) @ table.output_prices) / PER_TOKENS
    return total / np.asarray(n, dtype=np.float64)


def coarse_steps(bundle: Bundle, min_samples: int = 8, quantile: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Per model, the rounding steps of a router's token sums under a visitor's own table: ``min_samples``
    times a high per-sample token count (input tokens of every sample; output tokens of the model on
    the public rows), so that no single sample moves a rounded sum except across a step boundary.

    Why: a table a visitor chooses freely can isolate one model's sums (all other prices 0), turning
    one released cost into 2 × models numbers — e.g. one probe sample's hidden output tokens. The
    Ladder's group rule (values in steps of at least 8 samples) applied to the sums closes that."""
    x = np.asarray(bundle.samples["input_tokens"].to_numpy(), dtype=np.float64)
    m = len(bundle.models)
    step_in = np.full(m, min_samples * max(float(np.quantile(x, quantile)) if x.size else 1.0, 1.0))
    step_out = np.ones(m) * min_samples
    if bundle.output_tokens is not None:
        public = bundle.samples["split"].to_numpy() != "test"
        y = np.asarray(bundle.output_tokens, dtype=np.float64)[public]
        with np.errstate(all="ignore"):
            q = np.array([np.nanquantile(y[:, j], quantile) if np.isfinite(y[:, j]).any() else np.nan
                          for j in range(m)])
        fallback = np.nanmax(q) if np.isfinite(q).any() else 1.0
        step_out = min_samples * np.maximum(np.where(np.isfinite(q), q, fallback), 1.0)
    return step_in, step_out


def coarse_sums(sums: np.ndarray, step_in: np.ndarray, step_out: np.ndarray) -> np.ndarray:
    """Token sums (``[input per model…, output per model…]`` rows) rounded to the steps of :func:`coarse_steps`."""
    step = np.concatenate([step_in, step_out])
    return np.round(np.asarray(sums, dtype=np.float64) / step) * step


# --------------------------------------------------------------------------------- cost bounds
def _skyline(points: np.ndarray, upper: bool) -> np.ndarray:
    """The Pareto-extreme points of (x, y) pairs: those no other point beats on both (lower-left or
    upper-right). A linear cost with non-negative prices takes its min (max) on them."""
    if points.size == 0:
        return points.reshape(0, 2)
    p = -points if upper else points
    order = np.lexsort((p[:, 1], p[:, 0]))
    s = p[order]
    prev = np.concatenate(([np.inf], np.minimum.accumulate(s[:, 1])[:-1]))
    keep = s[s[:, 1] < prev]
    return -keep if upper else keep


@dataclass(frozen=True)
class PricingBasis:
    """What re-pricing needs of a track beyond the stored per-point sums: whether it can (the track
    has token counts and its costs are tokens × its prices) and how its cost bounds follow a table.

    ``fixed``: the track sets its bounds itself (``cost_bounds.json``) and keeps them under every
    table; otherwise the bounds are the min and max positive cost of the matrix rebuilt under the
    table, found from each model's extreme (input, output) token pairs."""

    available: bool
    reason: str = ""
    fixed: tuple[float, float] | None = None
    lower: tuple[np.ndarray, ...] = ()
    upper: tuple[np.ndarray, ...] = ()
    min_input: tuple[float, ...] = ()
    min_output: tuple[float, ...] = ()
    #: samples of the public part: the stored sums of a shown point are over this many
    n_public: int = 0

    def bounds(self, table: PriceTable) -> CostBounds:
        """The track's cost bounds under ``table``, exactly as :meth:`CostBounds.from_costs` would
        derive them from the rebuilt cost matrix."""
        if not self.available:
            raise PriceTableError(self.reason)
        if self.fixed is not None:
            return CostBounds(*self.fixed)
        lows, highs = [], []
        for j, (a, b) in enumerate(zip(table.input_prices, table.output_prices)):
            if a == 0 and b == 0:
                continue
            if a > 0 and b > 0:
                c = (self.lower[j][:, 0] * a + self.lower[j][:, 1] * b) / PER_TOKENS
                lows.append(c[c > 0].min() if (c > 0).any() else np.inf)
            elif a > 0:
                lows.append(self.min_input[j] * a / PER_TOKENS)
            else:
                lows.append(self.min_output[j] * b / PER_TOKENS)
            hi = (self.upper[j][:, 0] * a + self.upper[j][:, 1] * b) / PER_TOKENS
            highs.append(hi.max() if hi.size else -np.inf)
        lo = min((x for x in lows if math.isfinite(x) and x > 0), default=math.inf)
        hi = max((x for x in highs if math.isfinite(x)), default=-math.inf)
        if not math.isfinite(lo) or not hi > 0:
            raise PriceTableError(f"price table {table.name!r}: every cost would be 0 (all prices zero); "
                                  "rank scores need at least one positive price")
        return CostBounds(float(lo), float(hi) if hi != lo else float(lo) * 2.0)

    def to_dict(self) -> dict[str, Any]:
        return {"available": self.available, "reason": self.reason, "fixed": list(self.fixed) if self.fixed else None,
                "lower": [a.tolist() for a in self.lower], "upper": [a.tolist() for a in self.upper],
                "min_input": list(self.min_input), "min_output": list(self.min_output), "n_public": self.n_public}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any] | None) -> "PricingBasis":
        if not d:
            return cls(False, "this track's re-pricing data has not been computed yet (the worker computes it "
                              "when it first scores the track's reference entries)")
        arr = lambda xs: tuple(np.asarray(x, dtype=np.float64).reshape(-1, 2) for x in xs)  # noqa: E731
        return cls(bool(d["available"]), str(d.get("reason", "")), tuple(d["fixed"]) if d.get("fixed") else None,
                   arr(d.get("lower", [])), arr(d.get("upper", [])), tuple(d.get("min_input", [])),
                   tuple(d.get("min_output", [])), int(d.get("n_public", 0)))


def pricing_basis(bundle: Bundle) -> PricingBasis:
    """The track's :class:`PricingBasis` (needs the hidden part: the bounds range over every sample)."""
    if not has_tokens(bundle):
        return PricingBasis(False, f"track {bundle.name} has no token counts (only costs, as in an MMR-Bench CSV "
                                   "import): its costs cannot be re-priced under another table")
    if not bundle.has_hidden:
        raise PriceTableError("the pricing basis needs the track's hidden part (its cost bounds range over the test "
                              "samples)")
    x = np.asarray(bundle.samples["input_tokens"].to_numpy(), dtype=np.float64)
    y = np.asarray(bundle.output_tokens, dtype=np.float64)
    rebuilt = cost_matrix(x, y, track_table(bundle))
    both = np.isfinite(rebuilt) & np.isfinite(bundle.cost)
    stored = np.asarray(bundle.cost, dtype=np.float64)
    scale = np.maximum(np.abs(stored), np.finfo(np.float64).tiny)
    off = float(np.max(np.abs(rebuilt - stored)[both] / scale[both])) if both.any() else 0.0
    if off > CONSISTENCY_RTOL or not np.array_equal(np.isfinite(rebuilt), np.isfinite(stored)):
        return PricingBasis(False, f"track {bundle.name}'s costs are not input tokens × input price + output "
                                   f"tokens × output price (relative difference up to {off:.2g}): re-pricing would "
                                   "show numbers that do not match its own")
    derived = CostBounds.from_costs(stored)
    own = (bundle.cost_bounds.cmin, bundle.cost_bounds.cmax)
    fixed = own if bounds_fixed(bundle) or (derived.cmin, derived.cmax) != own else None
    lower, upper, min_in, min_out = [], [], [], []
    for j in range(len(bundle.models)):
        ok = np.isfinite(y[:, j]) & np.isfinite(x)
        pts = np.column_stack([x[ok], y[ok, j]])
        nonzero = pts[(pts[:, 0] > 0) | (pts[:, 1] > 0)]
        lower.append(_skyline(nonzero, upper=False))
        upper.append(_skyline(pts, upper=True))
        min_in.append(float(pts[pts[:, 0] > 0, 0].min()) if (pts[:, 0] > 0).any() else math.inf)
        min_out.append(float(pts[pts[:, 1] > 0, 1].min()) if (pts[:, 1] > 0).any() else math.inf)
    from evaluator.parts import PUBLIC_SPLIT

    return PricingBasis(True, "", fixed, tuple(lower), tuple(upper), tuple(min_in), tuple(min_out),
                        int(bundle.split_rows(PUBLIC_SPLIT).size))


def reprice(bundle: Bundle, table: PriceTable) -> Bundle:
    """The bundle with its cost matrix rebuilt from tokens × ``table`` and its bounds derived again
    the way the track derives them: scoring it is the full re-score re-pricing must agree with."""
    basis = pricing_basis(bundle) if bundle.has_hidden else None
    if not has_tokens(bundle):
        raise PriceTableError(f"track {bundle.name} has no token counts (only costs): it cannot be re-priced")
    if basis is not None and not basis.available:
        raise PriceTableError(basis.reason)
    x = np.asarray(bundle.samples["input_tokens"].to_numpy(), dtype=np.float64)
    cost = cost_matrix(x, np.asarray(bundle.output_tokens, dtype=np.float64), table)
    if basis is not None:
        bounds = basis.bounds(table)
    elif bounds_fixed(bundle) or table.same_prices(track_table(bundle)):
        bounds = bundle.cost_bounds
    else:  # public part only (local dev scoring): the test rows' extremes are hidden; the public rows' are used
        bounds = CostBounds.from_costs(cost)
    models = [dataclasses.replace(m, input_price=i, output_price=o)
              for m, i, o in zip(bundle.models, table.input, table.output)]
    return dataclasses.replace(bundle, models=models, cost=cost, cost_bounds=bounds)


def table_names(tables: Iterable[PriceTable]) -> list[str]:
    return [t.name for t in tables]
