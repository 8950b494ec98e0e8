"""Held-out versus in-distribution scores of a track with held-out datasets.

On a track whose bundle lists ``unseen_datasets`` (datasets whose samples are all in test, e.g.
``vlrb-sim-heldout``), the board reports a router's accuracy on the held-out datasets of the test split
apart from its accuracy on the datasets it could train on. That is one more breakdown, beside the
per-family and per-dataset ones, with two groups: :data:`HELD_OUT` and :data:`IN_DISTRIBUTION`.

It is computed from a report's exact per-dataset values (accuracy, cost and size of every dataset):
a group's mean is the size-weighted mean of its datasets' means, which is the group's exact mean, so
no per-sample value is needed and the scoring core stays as it is. The Ladder then treats it like any
group (:func:`evaluator.ladder.coarse_groups`: accuracy in steps of at least 8 of the group's samples,
no group cost for a router), and reference entries show it exactly, like their per-family values.
"""

from __future__ import annotations

from typing import Any

from evaluator.bundle import Bundle
from evaluator.metrics import rank_score

HELD_OUT = "held-out"
IN_DISTRIBUTION = "in-distribution"
#: the two groups, in the order they are shown
GROUPS: tuple[str, ...] = (HELD_OUT, IN_DISTRIBUTION)
#: the key of the breakdown in a point of a report (beside ``per_family`` and ``per_dataset``)
REPORT_KEY = "per_heldout"
#: the breakdown's level where aggregates are stored (beside ``family`` and ``dataset``)
LEVEL = "heldout"


def group_of(dataset: str, unseen_datasets: tuple[str, ...] | set[str]) -> str:
    return HELD_OUT if dataset in unseen_datasets else IN_DISTRIBUTION


def heldout_groups(per_dataset: dict[str, dict[str, Any]], unseen_datasets: tuple[str, ...] | set[str],
                   bounds: tuple[float, float]) -> dict[str, dict[str, Any]]:
    """The two groups' accuracy, cost, rank score (global cost bounds, as per-family scores use) and
    size, from exact per-dataset values (``{name: {"accuracy", "cost", "n"}}``). A group with no
    sample in the scored split is left out."""
    sums: dict[str, list[float]] = {}
    for name, g in per_dataset.items():
        n = int(g["n"])
        if n <= 0 or g.get("accuracy") is None or g.get("cost") is None:
            continue
        acc = sums.setdefault(group_of(name, unseen_datasets), [0.0, 0.0, 0])
        acc[0] += float(g["accuracy"]) * n
        acc[1] += float(g["cost"]) * n
        acc[2] += n
    out = {}
    for group in GROUPS:
        if group in sums:
            q, c, n = sums[group]
            accuracy, cost = q / n, c / n
            out[group] = {"accuracy": accuracy, "cost": cost, "rank_score": float(rank_score(accuracy, cost, *bounds)),
                          "n": int(n)}
    return out


def with_heldout_groups(bundle: Bundle, report: dict[str, Any]) -> dict[str, Any]:
    """``report`` (a ``ScoreReport.to_dict()``-shaped dict) with :data:`REPORT_KEY` added to every point
    that has per-dataset values, when the track has held-out datasets; unchanged otherwise."""
    if not bundle.unseen_datasets:
        return report
    bounds = (bundle.cost_bounds.cmin, bundle.cost_bounds.cmax)
    unseen = set(bundle.unseen_datasets)
    for point in report.get("points") or []:
        if point.get("per_dataset"):
            point[REPORT_KEY] = heldout_groups(point["per_dataset"], unseen, bounds)
    return report
