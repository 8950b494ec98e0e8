"""Scoring: routing decisions in, a JSON-ready report out.

``score`` is the one function behind every number on the leaderboard: the CLI's local dev
scoring, the sandboxed worker's hidden test scoring and the reference entries all call it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from evaluator.bootstrap import DEFAULT_REPLICATES, DEFAULT_SEED, PairedTest, bootstrap_means, interval, paired_test
from evaluator.bundle import Bundle
from evaluator.frontier import gap_closed, nauc, pareto_frontier, peak_score, qnc
from evaluator.metrics import best_single_model, group_means, rank_score
from evaluator.predictions import Decisions, decisions_from_frame
from evaluator.split import SplitArrays, split_arrays


def _num(x: float) -> float | None:
    """JSON has no NaN or ∞: both become null (the report says what null means where it can occur)."""
    x = float(x)
    return x if math.isfinite(x) else None


@dataclass(frozen=True)
class GroupScore:
    accuracy: float
    cost: float
    rank_score: float
    n: int

    def to_dict(self) -> dict[str, Any]:
        return {"accuracy": _num(self.accuracy), "cost": _num(self.cost),
                "rank_score": _num(self.rank_score), "n": self.n}


@dataclass(frozen=True)
class PointReport:
    """One operating point. Accuracy and rank score are fractions in [0, 1]; cost is USD per query."""

    point: str
    accuracy: float
    cost: float
    total_cost: float
    rank_score: float
    ci: dict[str, tuple[float, float]]
    paired: dict[str, PairedTest]
    per_family: dict[str, GroupScore]
    per_dataset: dict[str, GroupScore]

    def to_dict(self) -> dict[str, Any]:
        return {
            "point": self.point,
            "accuracy": _num(self.accuracy),
            "cost": _num(self.cost),
            "total_cost": _num(self.total_cost),
            "rank_score": _num(self.rank_score),
            "ci": {k: [_num(lo), _num(hi)] for k, (lo, hi) in self.ci.items()},
            "paired_test": {k: {kk: (_num(vv) if isinstance(vv, float) else vv) for kk, vv in t.to_dict().items()}
                            for k, t in self.paired.items()},
            "per_family": {k: g.to_dict() for k, g in self.per_family.items()},
            "per_dataset": {k: g.to_dict() for k, g in self.per_dataset.items()},
        }


@dataclass(frozen=True)
class CurveReport:
    """Frontier metrics of a multi-point entry. ``qnc`` is ∞ (null in JSON) when no frontier point
    reaches the best single model's accuracy; ``nauc`` is NaN (null) with fewer than two frontier points."""

    nauc: float
    ps: float
    qnc: float
    gap_closed: float
    frontier: list[str]

    def to_dict(self) -> dict[str, Any]:
        return {"nauc": _num(self.nauc), "ps": _num(self.ps), "qnc": _num(self.qnc),
                "gap_closed": _num(self.gap_closed), "frontier": list(self.frontier),
                "reaches_best_single": math.isfinite(self.qnc)}


@dataclass(frozen=True)
class ScoreReport:
    track: str
    split: str
    n_samples: int
    points: list[PointReport]
    curve: CurveReport | None
    best_single: dict[str, Any]
    oracle: dict[str, float]
    settings: dict[str, Any] = field(default_factory=dict)

    def best_point(self) -> PointReport:
        """The point a single-number leaderboard shows: highest rank score (ties: first)."""
        return max(self.points, key=lambda p: (p.rank_score, -self.points.index(p)))

    def to_dict(self) -> dict[str, Any]:
        return {
            "track": self.track, "split": self.split, "n_samples": self.n_samples,
            "points": [p.to_dict() for p in self.points],
            "curve": self.curve.to_dict() if self.curve else None,
            "best_single": {k: (_num(v) if isinstance(v, float) else v) for k, v in self.best_single.items()},
            "oracle": {k: _num(v) for k, v in self.oracle.items()},
            "settings": dict(self.settings),
        }


def _groups(names: list[str], acc: np.ndarray, cost: np.ndarray, rs: np.ndarray,
            counts: np.ndarray) -> dict[str, GroupScore]:
    return {name: GroupScore(float(acc[g]), float(cost[g]), float(rs[g]), int(counts[g]))
            for g, name in enumerate(names) if counts[g] > 0}


def per_sample(bundle: Bundle, decisions: Decisions) -> tuple[np.ndarray, np.ndarray]:
    """Quality and cost of every decision, (n_split, n_points) each, float64."""
    rows = split_arrays(bundle, decisions.split).rows[None, :]
    choices = decisions.choices
    Q = np.asarray(bundle.quality[rows, choices], dtype=np.float64).T
    Cc = np.asarray(bundle.cost[rows, choices], dtype=np.float64).T
    return Q, Cc


def score_decisions(bundle: Bundle, decisions: Decisions, *, replicates: int = DEFAULT_REPLICATES,
                    seed: int = DEFAULT_SEED, breakdowns: bool = True, paired_tests: bool = True,
                    values: tuple[np.ndarray, np.ndarray] | None = None) -> ScoreReport:
    """Score model choices already aligned with the split (see :class:`Decisions`).

    ``values``: the decisions' per-sample quality and cost when the caller has them already
    (:func:`per_sample`); ``paired_tests=False`` skips the test against the best single model."""
    sa: SplitArrays = split_arrays(bundle, decisions.split)
    cmin, cmax = bundle.cost_bounds.cmin, bundle.cost_bounds.cmax
    Q, Cc = values if values is not None else per_sample(bundle, decisions)  # (n, P)
    n, P = Q.shape
    acc = Q.mean(axis=0)
    cost = Cc.mean(axis=0)
    total = Cc.sum(axis=0)
    rs = rank_score(acc, cost, cmin, cmax)

    best = best_single_model(sa.model_accuracy, sa.model_cost)
    best_acc, best_cost = float(sa.model_accuracy[best]), float(sa.model_cost[best])
    oracle_q = np.asarray(bundle.quality[sa.rows, sa.oracle_choice], dtype=np.float64)
    oracle_c = np.asarray(bundle.cost[sa.rows, sa.oracle_choice], dtype=np.float64)
    oracle_acc, oracle_cost = float(oracle_q.mean()), float(oracle_c.mean())

    ci: list[dict[str, tuple[float, float]]] = [{} for _ in range(P)]
    paired: list[dict[str, PairedTest]] = [{} for _ in range(P)]
    if replicates > 0:
        best_q = np.asarray(bundle.quality[sa.rows, best], dtype=np.float64)
        best_c = np.asarray(bundle.cost[sa.rows, best], dtype=np.float64)
        boot = bootstrap_means(np.column_stack([Q, Cc, best_q, best_c]), replicates, seed)
        acc_b, cost_b = boot[:, :P], boot[:, P:2 * P]
        rs_b = rank_score(acc_b, cost_b, cmin, cmax)
        best_rs_b = rank_score(boot[:, 2 * P], boot[:, 2 * P + 1], cmin, cmax)
        best_rs = float(rank_score(best_acc, best_cost, cmin, cmax))
        for name, b in (("accuracy", acc_b), ("cost", cost_b), ("rank_score", rs_b)):
            lo, hi = interval(b)
            for p in range(P):
                ci[p][name] = (float(lo[p]), float(hi[p]))
        if paired_tests:
            for metric, observed, deltas in (("accuracy", acc - best_acc, acc_b - boot[:, 2 * P:2 * P + 1]),
                                             ("rank_score", rs - best_rs, rs_b - best_rs_b[:, None])):
                for p, test in enumerate(paired_test(metric, observed, deltas)):
                    paired[p][metric] = test

    fam: list[dict[str, GroupScore]] = [{} for _ in range(P)]
    dsets: list[dict[str, GroupScore]] = [{} for _ in range(P)]
    if breakdowns:
        for codes, names, out in ((sa.family_codes, sa.family_names, fam), (sa.dataset_codes, sa.dataset_names, dsets)):
            gq, counts = group_means(Q, codes, len(names))
            gc, _ = group_means(Cc, codes, len(names))
            grs = rank_score(gq, gc, cmin, cmax)
            for p in range(P):
                out[p] = _groups(names, gq[:, p], gc[:, p], grs[:, p], counts)

    points = [PointReport(decisions.points[p], float(acc[p]), float(cost[p]), float(total[p]), float(rs[p]),
                          ci[p], paired[p], fam[p], dsets[p]) for p in range(P)]
    curve = None
    if P >= 2:
        front = pareto_frontier(cost, acc)
        top = int(np.argmax(acc))
        curve = CurveReport(
            nauc=nauc(cost[front], acc[front]), ps=peak_score(acc[front]),
            qnc=qnc(cost[front], acc[front], best_acc, best_cost),
            gap_closed=gap_closed(float(acc[top]), best_acc, oracle_acc),
            frontier=[decisions.points[i] for i in front],
        )
    return ScoreReport(
        track=bundle.track_id, split=decisions.split, n_samples=n, points=points, curve=curve,
        best_single={"model_id": bundle.models[best].model_id, "accuracy": best_acc, "cost": best_cost},
        oracle={"accuracy": oracle_acc, "cost": oracle_cost},
        settings={"replicates": replicates, "seed": seed, "confidence": 0.95,
                  "cost_bounds": [cmin, cmax], "beta": 0.1},
    )


def score(bundle: Bundle, predictions: pd.DataFrame, split: str = "dev", *, replicates: int = DEFAULT_REPLICATES,
          seed: int = DEFAULT_SEED, breakdowns: bool = True) -> ScoreReport:
    """Score a prediction table (``sample_id``, ``model_id``, optional ``point``) on ``split``.

    Raises :class:`~evaluator.errors.PredictionError` listing every problem when the table does not
    fit the split, and :class:`~evaluator.errors.HiddenPartMissing` for ``test`` without the hidden part.
    """
    bundle.require_labels(split)
    decisions = decisions_from_frame(bundle, predictions, split)
    return score_decisions(bundle, decisions, replicates=replicates, seed=seed, breakdowns=breakdowns)
