"""Train a starter router on the public split, sweep λ, and write one multi-point prediction file.

Every λ value is one operating point (labelled ``lambda=<λ>``); the file is scored as a curve
(nAUC, Ps, QNC). Training uses only train (fit) and dev (early stopping, k for kNN) — the labels
the public split carries — and predicts the test split, whose labels only the evaluator has.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd

import evaluator
from evaluator import Bundle, Decisions
from submissions.routers.features import DEFAULT_ENCODER, feature_matrix
from submissions.routers.labels import soft_labels
from submissions.routers.models import KNNRouter, SoftmaxRouter

ROUTERS = ("knn", "linear", "mlp")
LAMBDAS: tuple[float, ...] = (0.0, 0.5, 1.0, 2.0, 4.0, 6.0, 8.0, 12.0, 16.0, 24.0, 32.0, math.inf)


def point_label(lam: float) -> str:
    return "lambda=inf" if math.isinf(lam) else f"lambda={lam:g}"


@dataclass
class SweepResult:
    router: str
    predictions: pd.DataFrame       # sample_id, model_id, point — for the target split
    dev_rank_scores: dict[str, float]
    seconds: float
    chosen_k: int | None = None


def _dev_rank_score(bundle: Bundle, choice: np.ndarray) -> float:
    report = evaluator.score_decisions(bundle, Decisions("dev", ["p"], choice[None, :]), replicates=0,
                                       breakdowns=False)
    return report.points[0].rank_score


def train_sweep(bundle: Bundle, router: str, *, lambdas: tuple[float, ...] = LAMBDAS, target: str = "test",
                encoder: str = DEFAULT_ENCODER, features: np.ndarray | None = None, seed: int = 0,
                progress: bool = True) -> SweepResult:
    """Train ``router`` ("knn" | "linear" | "mlp") for every λ; predict ``target``.

    ``features`` (all samples × d) skips the encoder, e.g. VL-RouterBench's EMBEDDINGS.
    """
    if router not in ROUTERS:
        raise ValueError(f"unknown router {router!r}; choose one of {ROUTERS}")
    t0 = time.perf_counter()
    rows = {s: bundle.split_rows(s) for s in ("train", "dev", target)}
    all_rows = np.unique(np.concatenate(list(rows.values())))
    feats_all = features if features is not None else None
    if feats_all is None:
        x = feature_matrix(bundle, all_rows, encoder, progress=progress)
        where = {r: i for i, r in enumerate(all_rows)}
        pick = lambda r: x[[where[i] for i in r]]  # noqa: E731
    else:
        pick = lambda r: np.asarray(feats_all[r], dtype=np.float32)  # noqa: E731
    xtr, xdev, xtg = pick(rows["train"]), pick(rows["dev"]), pick(rows[target])
    cmin, cmax = bundle.cost_bounds.cmin, bundle.cost_bounds.cmax
    label = lambda r, lam: soft_labels(bundle.quality[r], bundle.cost[r], lam, cmin, cmax)  # noqa: E731

    choices: dict[str, np.ndarray] = {}
    dev_scores: dict[str, float] = {}
    chosen_k = None
    if router == "knn":
        knn = KNNRouter().fit_index(xtr)
        nb_dev, nb_tg = knn.neighbours(xdev), knn.neighbours(xtg)
        labels = {lam: label(rows["train"], lam) for lam in lambdas}
        mean_dev = {k: np.mean([_dev_rank_score(bundle, KNNRouter.predict_from(nb_dev, labels[lam], k).argmax(1))
                                for lam in lambdas]) for k in knn.candidates if k <= len(xtr)}
        chosen_k = max(mean_dev, key=lambda k: (mean_dev[k], -k))
        for lam in lambdas:
            dev_scores[point_label(lam)] = _dev_rank_score(
                bundle, KNNRouter.predict_from(nb_dev, labels[lam], chosen_k).argmax(1))
            choices[point_label(lam)] = KNNRouter.predict_from(nb_tg, labels[lam], chosen_k).argmax(1)
    else:
        hidden = 0 if router == "linear" else 256
        for lam in lambdas:
            model = SoftmaxRouter(hidden=hidden, seed=seed).fit(xtr, label(rows["train"], lam), xdev,
                                                                label(rows["dev"], lam))
            dev_scores[point_label(lam)] = _dev_rank_score(bundle, model.predict(xdev).argmax(1))
            choices[point_label(lam)] = model.predict(xtg).argmax(1)
    ids = bundle.samples["sample_id"].to_numpy()[rows[target]]
    names = np.asarray(bundle.model_ids, dtype=object)
    frame = pd.concat([pd.DataFrame({"sample_id": ids, "model_id": names[c], "point": p})
                       for p, c in choices.items()], ignore_index=True)
    return SweepResult(router, frame, dev_scores, time.perf_counter() - t0, chosen_k)
