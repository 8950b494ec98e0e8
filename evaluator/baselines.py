"""Reference entries the evaluator computes itself: every single model, Oracle, StrongestGlobal,
CheapestGlobal, StrongestPerDataset (chosen on train), Random (seeded), and the oracle curve.

They are decision vectors like any router's, so they go through the very same scorer.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from evaluator.bootstrap import DEFAULT_REPLICATES, DEFAULT_SEED
from evaluator.bundle import Bundle
from evaluator.frontier import Curve, oracle_curve
from evaluator.metrics import best_single_model
from evaluator.predictions import Decisions
from evaluator.report import ScoreReport, score_decisions
from evaluator.split import split_arrays

ORACLE = "Oracle"
STRONGEST_GLOBAL = "StrongestGlobal"
CHEAPEST_GLOBAL = "CheapestGlobal"
STRONGEST_PER_DATASET = "StrongestPerDataset"
RANDOM = "Random"
BASELINE_NAMES: tuple[str, ...] = (ORACLE, STRONGEST_GLOBAL, CHEAPEST_GLOBAL, STRONGEST_PER_DATASET, RANDOM)
#: baselines whose routing is chosen by the track's prices: under another price table they would
#: route differently (a full re-score needs per-sample hidden data), so they are not re-priced
PRICE_CHOSEN: tuple[str, ...] = (ORACLE, CHEAPEST_GLOBAL)
#: Where "chosen on train" baselines are chosen.
SELECTION_SPLIT = "train"


@dataclass(frozen=True)
class ReferenceEntry:
    name: str
    kind: str  # "single_model" | "baseline"
    choice: np.ndarray  # (n_split,) model columns


def _selection_split(bundle: Bundle, split: str) -> str:
    """Baselines are chosen on train; a track without train samples chooses on the scored split (ours)."""
    return SELECTION_SPLIT if bundle.split_rows(SELECTION_SPLIT).size else split


def reference_entries(bundle: Bundle, split: str, seed: int = DEFAULT_SEED) -> list[ReferenceEntry]:
    """Decision vectors of all reference entries on ``split``."""
    sa = split_arrays(bundle, split)
    train = split_arrays(bundle, _selection_split(bundle, split))
    m, n = len(bundle.models), sa.n
    entries = [ReferenceEntry(model.model_id, "single_model", np.full(n, j, dtype=np.int64))
               for j, model in enumerate(bundle.models)]
    entries.append(ReferenceEntry(ORACLE, "baseline", sa.oracle_choice.astype(np.int64)))
    strongest = best_single_model(train.model_accuracy, train.model_cost)
    entries.append(ReferenceEntry(STRONGEST_GLOBAL, "baseline", np.full(n, strongest, dtype=np.int64)))
    cheapest = int(np.lexsort((np.arange(m), -train.model_accuracy, train.model_cost))[0])
    entries.append(ReferenceEntry(CHEAPEST_GLOBAL, "baseline", np.full(n, cheapest, dtype=np.int64)))
    entries.append(ReferenceEntry(STRONGEST_PER_DATASET, "baseline",
                                  _per_dataset_choice(bundle, split, strongest)))
    rng = np.random.default_rng(np.random.SeedSequence([seed, n, m]))
    entries.append(ReferenceEntry(RANDOM, "baseline", rng.integers(0, m, size=n).astype(np.int64)))
    return entries


def _per_dataset_choice(bundle: Bundle, split: str, fallback: int) -> np.ndarray:
    """Per dataset, the most accurate model on train (ties: cheaper, earlier); datasets absent
    from train fall back to StrongestGlobal (ours)."""
    sa = split_arrays(bundle, split)
    train = split_arrays(bundle, _selection_split(bundle, split))
    choice_by_name: dict[str, int] = {}
    for g, name in enumerate(train.dataset_names):
        r = train.rows[train.dataset_codes == g]
        acc = np.asarray(bundle.quality[r], dtype=np.float64).mean(axis=0)
        cost = np.asarray(bundle.cost[r], dtype=np.float64).mean(axis=0)
        choice_by_name[name] = best_single_model(acc, cost)
    table = np.array([choice_by_name.get(name, fallback) for name in sa.dataset_names] or [fallback], dtype=np.int64)
    return table[sa.dataset_codes] if sa.n else np.zeros(0, dtype=np.int64)


def score_references(bundle: Bundle, split: str, *, replicates: int = DEFAULT_REPLICATES,
                     seed: int = DEFAULT_SEED) -> dict[str, ScoreReport]:
    """Score every reference entry on ``split`` → {name: report}."""
    out: dict[str, ScoreReport] = {}
    for entry in reference_entries(bundle, split, seed):
        decisions = Decisions(split=split, points=["default"], choices=entry.choice[None, :])
        out[entry.name] = score_decisions(bundle, decisions, replicates=replicates, seed=seed)
    return out


def split_oracle_curve(bundle: Bundle, split: str) -> Curve:
    """The oracle curve over ``split`` (every distinct per-sample cost threshold)."""
    sa = split_arrays(bundle, split)
    return oracle_curve(bundle.quality[sa.rows], bundle.cost[sa.rows])


ORACLE_CURVE = "Oracle curve"


def oracle_curve_report(bundle: Bundle, split: str, max_points: int = 60) -> dict:
    """The oracle curve in report form (``to_dict`` shape, no intervals): its Pareto frontier over
    every threshold, thinned evenly to at most ``max_points`` points for plotting and storage."""
    from evaluator.frontier import nauc, pareto_frontier, peak_score
    from evaluator.metrics import rank_score

    curve = split_oracle_curve(bundle, split)
    front = pareto_frontier(curve.costs, curve.perfs)
    front = front[curve.costs[front] > 0]
    full = front
    if front.size > max_points:
        front = front[np.unique(np.linspace(0, front.size - 1, max_points).round().astype(int))]
    cmin, cmax = bundle.cost_bounds.cmin, bundle.cost_bounds.cmax
    n = int(bundle.split_rows(split).size)
    # Labels count the points: a threshold is a hidden per-sample cost and is never printed.
    points = [{"point": f"oracle {k + 1}/{front.size}", "accuracy": float(curve.perfs[i]),
               "cost": float(curve.costs[i]), "total_cost": float(curve.costs[i] * n),
               "rank_score": float(rank_score(curve.perfs[i], curve.costs[i], cmin, cmax))} for k, i in enumerate(front)]
    area = nauc(curve.costs[full], curve.perfs[full])
    return {"track": bundle.track_id, "split": split, "n_samples": n, "points": points,
            "curve": {"nauc": area if np.isfinite(area) else None, "ps": peak_score(curve.perfs[full]),
                      "qnc": None, "gap_closed": None}}
