"""Train a starter router on the public split, sweep λ, and write one multi-point prediction file.

Every λ value is one operating point (labelled ``lambda=<λ>``); the file is scored as a curve
(nAUC, Ps, QNC). Training uses only train (fit) and dev (early stopping, k for kNN) — the labels
the public split carries — and predicts the test split, whose labels only the evaluator has.

Two objectives:

* ``"utility"`` (default): the router estimates ``p̂[i, j]``, the probability that model ``j``
  answers sample ``i`` correctly (its expected quality, where quality is fractional), once; each λ
  then routes sample ``i`` to ``argmax_j p̂[i, j] − λ · ĉ[i, j] / c̄``, where ``ĉ`` is the model's
  mean cost on train samples of the same dataset and ``c̄`` the mean cost of a train query over the
  whole pool (so λ is the accuracy one gives up to save one average query's cost; ``λ = inf``: the
  cheapest model). This targets the rank score: its cost term is the log of the *mean* cost, in
  which a choice weighs in linearly with its own cost, and accuracy is what the router predicts.
* ``"soft-labels"``: VL-RouterBench's recipe, one training per λ on the soft labels of
  :mod:`.labels`, routing by the argmax of the predicted label distribution. Kept to compare: a soft
  label splits a sample's mass among all the models that answer it, so its argmax is not the model
  most likely to be right, and its per-sample log-cost penalty is not the rank score's; on vlrb-sim
  it stays level with the StrongestPerDataset lookup (see the README).
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd

import evaluator
from evaluator import Bundle, Decisions
from submissions.routers.features import DEFAULT_ENCODER, compact, feature_blocks
from submissions.routers.labels import soft_labels
from submissions.routers.models import KNNRouter, NeuralRouter
from submissions.routers.unseen import estimate_unseen, known_models, unseen_costs

ROUTERS = ("knn", "linear", "mlp")
OBJECTIVES = ("utility", "soft-labels")
#: λ grid of the utility objective: dense where the rank score peaks (0.02–0.1 on vlrb-sim), then
#: down to the cheapest model, so the curve spans the whole cost range.
LAMBDAS: tuple[float, ...] = (0.0, 0.01, 0.02, 0.035, 0.05, 0.075, 0.1, 0.2, 0.5, 1.0, 2.0, math.inf)
#: λ grid of the soft-label objective (weights ∝ exp(−λ · normalised log cost)).
SOFT_LAMBDAS: tuple[float, ...] = (0.0, 0.5, 1.0, 2.0, 4.0, 6.0, 8.0, 12.0, 16.0, 24.0, 32.0, math.inf)


def point_label(lam: float) -> str:
    return "lambda=inf" if math.isinf(lam) else f"lambda={lam:g}"


@dataclass
class SweepResult:
    router: str
    predictions: pd.DataFrame       # sample_id, model_id, point — for the target split
    dev_rank_scores: dict[str, float]
    seconds: float
    chosen_k: int | None = None
    objective: str = "utility"
    #: the router's own inference measured on this machine (see :func:`measure_throughput`)
    throughput: dict | None = None


def _dev_rank_score(bundle: Bundle, choice: np.ndarray) -> float:
    report = evaluator.score_decisions(bundle, Decisions("dev", ["p"], choice[None, :]), replicates=0,
                                       breakdowns=False)
    return report.points[0].rank_score


def expected_cost(bundle: Bundle, train: np.ndarray, rows: np.ndarray, known: np.ndarray | None = None) -> np.ndarray:
    """(len(rows), m): each model's mean cost over the train samples of the row's dataset. Input tokens
    vary little within a dataset; answer length follows dataset and model, which this captures.

    A dataset train lacks (held out): the row's own input tokens at the model's prices plus the model's
    mean train output tokens (else its mean train cost) — a text-only sample has no image tokens, so
    the train datasets' costs would overstate it. Models outside ``known`` (unseen in train):
    :func:`submissions.routers.unseen.unseen_costs`, from their cards and calibration samples."""
    m = len(bundle.models)
    known = np.arange(m) if known is None else np.asarray(known)
    cost = np.asarray(bundle.cost, dtype=np.float64)
    names = bundle.samples["dataset"].to_numpy()
    out = np.zeros((len(rows), m))
    out[:, known] = cost[np.ix_(train, known)].mean(axis=0)
    if bundle.output_tokens is not None:
        tokens_in = bundle.samples["input_tokens"].to_numpy(dtype=np.float64)[rows]
        pin = np.array([bundle.models[j].input_price for j in known])
        pout = np.array([bundle.models[j].output_price for j in known])
        mean_out = np.asarray(bundle.output_tokens, dtype=np.float64)[np.ix_(train, known)].mean(axis=0)
        out[:, known] = (tokens_in[:, None] * pin + mean_out * pout) / 1e6
    for name in np.unique(names[rows]):
        fit = train[names[train] == name]
        if fit.size:
            out[np.ix_(names[rows] == name, known)] = cost[np.ix_(fit, known)].mean(axis=0)
    unseen = np.setdiff1d(np.arange(m), known)
    if unseen.size:
        out[:, unseen] = unseen_costs(bundle, known, train, rows)
    return out


def route(p_correct: np.ndarray, cost: np.ndarray, lam: float, unit: float) -> np.ndarray:
    """Per row, ``argmax_j p − λ·cost/unit``; ``λ = inf``: the cheapest model (ties: more likely correct)."""
    if math.isinf(lam):
        return np.argmax(np.where(cost == cost.min(axis=1, keepdims=True), p_correct, -np.inf), axis=1)
    return np.argmax(p_correct - lam * cost / unit, axis=1)


def _features(bundle: Bundle, rows: dict[str, np.ndarray], encoder: str, features: np.ndarray | None,
              progress: bool) -> dict[str, np.ndarray]:
    """Feature rows per split: ``features`` as given, else :func:`feature_blocks` with every wide
    embedding block :func:`compact`-ed on the train rows."""
    if features is not None:
        return {s: np.asarray(features[r], dtype=np.float32) for s, r in rows.items()}
    all_rows = np.unique(np.concatenate(list(rows.values())))
    fit = np.searchsorted(all_rows, rows["train"])
    x = np.concatenate([compact(block, fit) for block in feature_blocks(bundle, all_rows, encoder, progress=progress)],
                       axis=1)
    return {s: x[np.searchsorted(all_rows, r)] for s, r in rows.items()}


def train_sweep(bundle: Bundle, router: str, *, lambdas: tuple[float, ...] | None = None, target: str = "test",
                encoder: str = DEFAULT_ENCODER, features: np.ndarray | None = None, seed: int = 0,
                progress: bool = True, objective: str = "utility") -> SweepResult:
    """Train ``router`` ("knn" | "linear" | "mlp") and route ``target`` at every λ (default:
    :data:`LAMBDAS`, or :data:`SOFT_LAMBDAS` for ``objective="soft-labels"``).

    ``features`` (all samples × d) skips the encoder and is used as given, e.g. VL-RouterBench's
    EMBEDDINGS already reduced.
    """
    if router not in ROUTERS:
        raise ValueError(f"unknown router {router!r}; choose one of {ROUTERS}")
    if objective not in OBJECTIVES:
        raise ValueError(f"unknown objective {objective!r}; choose one of {OBJECTIVES}")
    if lambdas is None:
        lambdas = LAMBDAS if objective == "utility" else SOFT_LAMBDAS
    t0 = time.perf_counter()
    rows = {s: bundle.split_rows(s) for s in ("train", "dev", target)}
    x = _features(bundle, rows, encoder, features, progress)
    xtr, xdev, xtg = x["train"], x["dev"], x[target]
    # Models labelled on every train sample are learnt; the others (a track's unseen models, NaN in
    # train) are estimated from their cards and calibration samples (submissions.routers.unseen).
    known = known_models(bundle, rows["train"])
    unseen = np.setdiff1d(np.arange(len(bundle.models)), known)
    calib = bundle.row_index().get_indexer(list(bundle.calibration_ids)) if unseen.size else np.zeros(0, np.int64)
    calib = calib[np.isin(calib, rows["dev"])]
    at_dev = np.searchsorted(rows["dev"], calib)  # calibration samples are dev samples

    def complete(p_dev: np.ndarray, p_tg: np.ndarray) -> np.ndarray:
        """The target split's estimates over the whole pool (unseen models filled in)."""
        if not unseen.size:
            return p_tg
        return estimate_unseen(bundle, known, {target: p_tg}, rows, (calib, p_dev[at_dev]))[target]

    def pick(dev_choice: np.ndarray, tg_choice: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Dev choices index the known models (dev labels no unseen model outside the calibration
        set, so dev scores routing among the known ones); target choices index the whole pool."""
        return known[dev_choice], tg_choice

    if objective == "utility":
        # the target is the quality itself (0/1 here, fractional on some tracks): accuracy is its mean
        quality = lambda r: np.clip(np.asarray(bundle.quality[np.ix_(r, known)], dtype=np.float32), 0.0, 1.0)  # noqa: E731
        cost = {s: expected_cost(bundle, rows["train"], rows[s], known) for s in ("dev", target)}
        unit = float(np.asarray(bundle.cost[np.ix_(rows["train"], known)], dtype=np.float64).mean())

        def decide(p_dev: np.ndarray, p_tg: np.ndarray, lam: float) -> tuple[np.ndarray, np.ndarray]:
            return pick(route(p_dev, cost["dev"][:, known], lam, unit), route(complete(p_dev, p_tg), cost[target], lam, unit))
    else:
        if unseen.size:
            raise ValueError(f"the soft-label objective needs every model labelled on train; {bundle.track_id} has "
                             f"unseen models {[bundle.model_ids[j] for j in unseen]}: use objective='utility'")
        cmin, cmax = bundle.cost_bounds.cmin, bundle.cost_bounds.cmax
        label = lambda r, lam: soft_labels(bundle.quality[r], bundle.cost[r], lam, cmin, cmax)  # noqa: E731

    choices: dict[str, tuple[np.ndarray, np.ndarray]] = {}  # point → (dev choice, target choice)
    chosen_k = None
    if router == "knn":
        knn = KNNRouter().fit_index(xtr)
        nb_dev, nb_tg = knn.neighbours(xdev), knn.neighbours(xtg)
        if objective == "utility":
            y = quality(rows["train"])

            def sweep(k: int) -> dict[float, tuple[np.ndarray, np.ndarray]]:
                p_dev, p_tg = KNNRouter.predict_from(nb_dev, y, k), KNNRouter.predict_from(nb_tg, y, k)
                return {lam: decide(p_dev, p_tg, lam) for lam in lambdas}
        else:
            labels = {lam: label(rows["train"], lam) for lam in lambdas}

            def sweep(k: int) -> dict[float, tuple[np.ndarray, np.ndarray]]:
                return {lam: (KNNRouter.predict_from(nb_dev, labels[lam], k).argmax(1),
                              KNNRouter.predict_from(nb_tg, labels[lam], k).argmax(1)) for lam in lambdas}
        by_k = {k: sweep(k) for k in [k for k in knn.candidates if k <= len(xtr)] or [len(xtr)]}
        mean_dev = {k: np.mean([_dev_rank_score(bundle, d) for d, _ in per_lam.values()])
                    for k, per_lam in by_k.items()}
        chosen_k = max(mean_dev, key=lambda k: (mean_dev[k], -k))
        choices = {point_label(lam): by_k[chosen_k][lam] for lam in lambdas}
        target_y = y if objective == "utility" else labels[lambdas[0]]
        infer = lambda: KNNRouter.predict_from(knn.neighbours(xtg), target_y, chosen_k)  # noqa: E731
    elif objective == "utility":  # one training; every λ is a decision rule over its estimates
        model = NeuralRouter.starter(router, seed=seed).fit(xtr, quality(rows["train"]), xdev, quality(rows["dev"]))
        p_dev, p_tg = model.predict(xdev), model.predict(xtg)
        choices = {point_label(lam): decide(p_dev, p_tg, lam) for lam in lambdas}
        infer = lambda: model.predict(xtg)  # noqa: E731
    else:  # one training per λ
        for lam in lambdas:
            model = NeuralRouter.starter(router, "soft-labels", seed).fit(xtr, label(rows["train"], lam), xdev,
                                                                          label(rows["dev"], lam))
            choices[point_label(lam)] = (model.predict(xdev).argmax(1), model.predict(xtg).argmax(1))
        infer = lambda: model.predict(xtg)  # noqa: E731
    seconds = time.perf_counter() - t0
    throughput = measure_throughput(bundle, rows[target], infer, encoder,
                                    encode=features is None and "text" not in bundle.embeddings)
    dev_scores = {p: _dev_rank_score(bundle, d) for p, (d, _) in choices.items()}
    ids = bundle.samples["sample_id"].to_numpy()[rows[target]]
    names = np.asarray(bundle.model_ids, dtype=object)
    frame = pd.concat([pd.DataFrame({"sample_id": ids, "model_id": names[c], "point": p})
                       for p, (_, c) in choices.items()], ignore_index=True)
    return SweepResult(router, frame, dev_scores, seconds, chosen_k, objective, throughput)


def hardware() -> str:
    """This machine, as a throughput's "measured on"."""
    import platform

    cpu = platform.processor() or platform.machine() or "CPU"
    return f"{os.cpu_count()} CPU cores ({cpu}), the leaderboard's own server"


#: test queries whose encoding is timed (the rate over them is the router's rate; all are predicted)
THROUGHPUT_SAMPLE = 256


def measure_throughput(bundle: Bundle, rows: np.ndarray, infer, encoder: str, *, encode: bool) -> dict:
    """The router's inference over ``rows`` (the test questions) timed on this machine: encoding the
    questions (when the router encodes them itself; not when the track ships embeddings) and image
    statistics over the first :data:`THROUGHPUT_SAMPLE` of them, the router's prediction and one λ's
    routing over all of them, per query. Throughput is the test queries' input tokens routed per
    second, in thousands (VL-RouterBench's K tokens/s)."""
    from submissions.routers.features import encode_texts, image_statistics

    sample = rows[:THROUGHPUT_SAMPLE]
    start = time.perf_counter()
    if encode:
        encode_texts(bundle.samples["question"].to_numpy()[sample].tolist(), encoder, progress=False)
    if bundle.images is not None:
        image_statistics(np.asarray(bundle.images[sample]))
    features_per_query = (time.perf_counter() - start) / max(len(sample), 1)
    start = time.perf_counter()
    np.argmax(np.asarray(infer()), axis=1)
    routing_per_query = (time.perf_counter() - start) / max(len(rows), 1)
    elapsed = max((features_per_query + routing_per_query) * len(rows), 1e-9)
    tokens = float(np.asarray(bundle.samples["input_tokens"].to_numpy()[rows], dtype=np.float64).sum())
    return {"ktok_s": tokens / elapsed / 1000.0, "seconds": elapsed, "tokens": tokens, "queries": int(len(rows)),
            "timed_queries": int(len(sample)),
            "hardware": hardware(), "encoded_questions": bool(encode)}
