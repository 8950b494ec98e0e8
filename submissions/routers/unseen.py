"""How the starter routers handle what their training data never showed: new models and new datasets.

**New models** (a track's ``unseen`` models, e.g. ``vlrb-sim-newmodels``): train and dev label them only
on a small calibration set, so a router cannot learn them like the rest of the pool. The starters
estimate them in two steps, the way a team adopting a new release would:

1. *Model card → neighbours.* Each model's card features — log input and output price, log parameter
   count (an API model without one: the pool's largest), the strengths, weaknesses and answer length
   its card names, its reported average accuracy — place it among the labelled models; the new model's per-sample estimate starts as
   the log-odds average of its 3 nearest labelled models', weighted by ``exp(−distance)``.
2. *Calibration set → offset.* One log-odds offset per new model, fitted on its calibration samples
   (logistic likelihood with a Gaussian prior of scale 1 around 0, so 64 samples move it only as far as
   they support): it corrects the card's promise to what the model did on those samples.

The cost of a new model on a sample is its card's prices times the sample's input tokens (public) and
an output length taken from its neighbours on that dataset, rescaled by the ratio of its own output
tokens to theirs on the calibration samples.

**New datasets** (a track's ``unseen_datasets``) need no labels: the features of a sample of a dataset
train never saw still carry the text and image cues; its dataset one-hot is all zeros
(:func:`submissions.routers.features.dataset_onehot`), and its expected cost is computed from its own
input tokens (:func:`submissions.routers.sweep.expected_cost`). A text-only sample has a blank image.
"""

from __future__ import annotations

import math
import re

import numpy as np

from evaluator import Bundle

#: labelled models whose estimates a new model's starts from
NEIGHBOURS = 3
#: scale of the Gaussian prior on a new model's calibration offset (log-odds)
PRIOR_SCALE = 1.0
#: skills a card may name as strengths or weaknesses (matched in its lower-cased text)
_SKILL_WORDS = ("perception", "ocr", "math", "knowledge")
#: what a starter's description says on a track with unseen models / held-out datasets
HOW_MODELS = ("New models: estimated from the 3 labelled models nearest on their model card (prices, size, named "
              "strengths, answer length, reported accuracy), shifted by an offset fitted on their calibration samples; "
              "their costs from the card's prices.")
HOW_DATASETS = ("Held-out datasets: text and image features only (no dataset one-hot column), costs from the "
                "sample's input tokens.")


def how_text(bundle: Bundle) -> str | None:
    """What a starter's description says about unseen models and datasets, on a track that has them."""
    parts = [text for cond, text in ((bundle.unseen_models, HOW_MODELS), (bundle.unseen_datasets, HOW_DATASETS)) if cond]
    return " ".join(parts) or None


def known_models(bundle: Bundle, rows: np.ndarray) -> np.ndarray:
    """Columns labelled on every one of ``rows`` (the train split: the models a router can learn)."""
    q = np.asarray(bundle.quality[rows], dtype=np.float64)
    return np.flatnonzero(np.isfinite(q).all(axis=0)) if len(rows) else np.arange(len(bundle.models))


def _params(text: str) -> float:
    m = re.match(r"\s*([\d.]+)", text or "")  # "27.0-A-4.5" (mixture of experts: total-A-active) → 27
    return float(m.group(1)) if m else math.nan


def card_features(bundle: Bundle) -> np.ndarray:
    """(m, d) card features of every model, standardised over the pool: log prices, log size, the
    skills and answer length its card names and its reported accuracy (0 where a card is silent)."""
    params = np.array([_params(m.params) for m in bundle.models])
    params = np.where(np.isfinite(params), params, np.nanmax(params) if np.isfinite(params).any() else 1.0)
    rows = []
    for m, p in zip(bundle.models, params):
        card = (m.card or "").lower()
        strong = card.split("strong at", 1)[1].split(".", 1)[0] if "strong at" in card else ""
        weak = card.split("weaker at", 1)[1].split(".", 1)[0] if "weaker at" in card else ""
        skills = [(1.0 if w in strong else 0.0) - (1.0 if w in weak else 0.0) for w in _SKILL_WORDS]
        reported = re.search(r"about (\d+)%", card)
        rows.append([math.log(max(m.input_price, 1e-4)), math.log(max(m.output_price, 1e-4)), math.log(max(p, 0.1)),
                     *skills, 1.0 if ("long" in card or "reasoning" in card) else 0.0,
                     float(reported.group(1)) / 100 if reported else 0.0])
    x = np.array(rows, dtype=np.float64)
    sd = x.std(axis=0)
    return (x - x.mean(axis=0)) / np.where(sd > 1e-9, sd, 1.0)


def neighbour_weights(bundle: Bundle, known: np.ndarray, unseen: np.ndarray, k: int = NEIGHBOURS) -> np.ndarray:
    """(len(unseen), len(known)) weights: each new model's ``k`` nearest labelled models on the card
    features, ∝ exp(−distance), rows summing to 1."""
    x = card_features(bundle)
    d = np.linalg.norm(x[unseen][:, None, :] - x[known][None, :, :], axis=2)
    w = np.zeros_like(d)
    for r in range(len(unseen)):
        near = np.argsort(d[r], kind="stable")[:min(k, len(known))]
        w[r, near] = np.exp(-(d[r, near] - d[r, near].min()))
    return w / w.sum(axis=1, keepdims=True)


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-4, 1 - 1e-4)
    return np.log(p) - np.log1p(-p)


def calibration_offset(start_logit: np.ndarray, y: np.ndarray, prior: float = PRIOR_SCALE) -> float:
    """The MAP offset ``a`` of ``y ~ Bernoulli(sigmoid(start_logit + a))`` under ``a ~ N(0, prior²)``
    (Newton's method; 0 with no sample)."""
    if y.size == 0:
        return 0.0
    a = 0.0
    for _ in range(25):
        p = 1.0 / (1.0 + np.exp(-(start_logit + a)))
        grad = float((y - p).sum()) - a / prior ** 2
        hess = float((p * (1 - p)).sum()) + 1.0 / prior ** 2
        a += grad / hess
        if abs(grad / hess) < 1e-8:
            break
    return a


def estimate_unseen(bundle: Bundle, known: np.ndarray, p_known: dict[str, np.ndarray], rows: dict[str, np.ndarray],
                    calibration: tuple[np.ndarray, np.ndarray] | None) -> dict[str, np.ndarray]:
    """Full (n_rows, m) probability estimates per split: ``p_known`` ((n_rows, len(known)) per split)
    where the model is labelled, the card + calibration estimate elsewhere. ``calibration``: the
    calibration samples' rows and the router's (n_cal, len(known)) estimates on them."""
    m = len(bundle.models)
    unseen = np.setdiff1d(np.arange(m), known)
    out = {}
    for split, p in p_known.items():
        full = np.zeros((len(rows[split]), m), dtype=np.float32)
        full[:, known] = p
        out[split] = full
    if not unseen.size:
        return out
    w = neighbour_weights(bundle, known, unseen)
    offsets = np.zeros(len(unseen))
    if calibration is not None and len(calibration[0]):
        cal_rows, cal_p = calibration
        start = _logit(cal_p.astype(np.float64)) @ w.T  # (n_cal, len(unseen))
        y = np.asarray(bundle.quality[np.ix_(cal_rows, unseen)], dtype=np.float64)
        for r in range(len(unseen)):
            ok = np.isfinite(y[:, r])
            offsets[r] = calibration_offset(start[ok, r], np.clip(y[ok, r], 0.0, 1.0))
    for split, p in p_known.items():
        z = _logit(p.astype(np.float64)) @ w.T + offsets
        out[split][:, unseen] = (1.0 / (1.0 + np.exp(-z))).astype(np.float32)
    return out


def unseen_costs(bundle: Bundle, known: np.ndarray, train: np.ndarray, target_rows: np.ndarray) -> np.ndarray:
    """(len(target_rows), len(unseen)) expected cost of each unseen model: card prices × (input tokens,
    neighbours' mean output tokens on the sample's dataset × the model's calibration length ratio)."""
    m = len(bundle.models)
    unseen = np.setdiff1d(np.arange(m), known)
    if not unseen.size:
        return np.zeros((len(target_rows), 0))
    w = neighbour_weights(bundle, known, unseen)
    names = bundle.samples["dataset"].to_numpy()
    tokens_in = bundle.samples["input_tokens"].to_numpy(dtype=np.float64)
    if bundle.output_tokens is None:
        out_tok = np.asarray(bundle.cost, dtype=np.float64)  # no token counts: neighbours' cost stands in
        per_query = True
    else:
        out_tok = np.asarray(bundle.output_tokens, dtype=np.float64)
        per_query = False
    overall = np.nanmean(out_tok[np.ix_(train, known)], axis=0)
    neigh = np.tile(overall @ w.T, (len(target_rows), 1))  # (rows, unseen)
    for name in np.unique(names[target_rows]):
        fit = train[names[train] == name]
        if fit.size:
            neigh[names[target_rows] == name] = np.nanmean(out_tok[np.ix_(fit, known)], axis=0) @ w.T
    ratio = np.ones(len(unseen))
    public = np.flatnonzero(bundle.samples["split"].to_numpy() != "test")
    labelled = public[np.isfinite(out_tok[np.ix_(public, unseen)]).all(axis=1)]
    if labelled.size:
        own = out_tok[np.ix_(labelled, unseen)].mean(axis=0)
        theirs = (out_tok[np.ix_(labelled, known)] @ w.T).mean(axis=0)
        ratio = np.where(theirs > 0, own / np.where(theirs > 0, theirs, 1.0), 1.0)
    estimate = neigh * ratio
    if per_query:
        return estimate
    pin = np.array([bundle.models[j].input_price for j in unseen])
    pout = np.array([bundle.models[j].output_price for j in unseen])
    return (tokens_in[target_rows, None] * pin + estimate * pout) / 1e6
