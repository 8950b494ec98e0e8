"""The generalisation tracks ``vlrb-sim-heldout`` and ``vlrb-sim-newmodels``: routing under change.

Why: MMR-Bench's central claim is that a router fitted on some models and tasks carries over, without
retuning, to new datasets (text-only ones included) and to new models. That is routing's real
problem — new workloads and new models arrive every month — and ``vlrb-sim`` cannot measure it,
because its train, dev and test splits hold the same datasets and the same pool. Both tracks are
drawn by ``vlrb-sim``'s own latent model (:func:`evaluator.vlrb_sim.simulate`: same skills, same
specialists, same answer lengths, the seed's 17 models at the seed's prices), each from its own seed,
so they are deterministic to the byte and, like ``vlrb-sim``, badged *simulated*.

* **``vlrb-sim-heldout`` — new workloads.** The 14 VL-RouterBench datasets at half their size plus a
  text-only dataset (``MMLU-Pro``: no image, no image tokens, an empty ``image_ref``). Four datasets —
  one per family and the text-only one, :data:`HELDOUT_DATASETS` — are *held out*: every sample of
  theirs is in test, and train and dev hold only the other eleven (70/15/15 as in ``vlrb-sim``).
  The bundle lists them in ``unseen_datasets``; the board reports accuracy on the held-out and on the
  in-distribution datasets of the test split apart (:mod:`evaluator.generalisation`).
* **``vlrb-sim-newmodels`` — a growing pool.** The 14 datasets at a third of their size; the pool is
  the seed's 17 models plus four released "later" (:data:`NEW_MODELS`, from a 2B model at $0.04 per 1M
  tokens to an API model at $2 / $8), drawn by the same latent model. Train and dev label only the
  17: the new models' quality, cost and output tokens are NaN there, except on a calibration set of
  :data:`CALIBRATION_SIZE` dev samples (stratified by dataset) on which all four are labelled — what a
  team can afford to run on a new release. Each new model comes with its card: parameters, prices and
  a short capability description (:attr:`ModelInfo.card`), written from its simulated skills the way a
  vendor would describe them (strengths and weaknesses, answer length, a rounded headline accuracy).

Sizes are smaller than ``vlrb-sim``'s because the starter routers encode every question once per
track (about 11 ms a question on 2 cores); generation itself takes a few seconds.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from evaluator import vlrb_sim
from evaluator.bundle import Bundle, CostBounds, Provenance
from evaluator.vlrb_sim import DATASETS, MODELS, SKILLS, SPECIALISTS

HELDOUT = "vlrb-sim-heldout"
NEWMODELS = "vlrb-sim-newmodels"
VERSION = "1.0"
HELDOUT_SEED = vlrb_sim.SEED + 1
NEWMODELS_SEED = vlrb_sim.SEED + 2
#: each VL-RouterBench dataset at 1/HELDOUT_SCALE (1/NEWMODELS_SCALE) of its size in vlrb-sim
HELDOUT_SCALE = 2
NEWMODELS_SCALE = 3

TEXT_ONLY_FAMILY = "Text-only"
#: a text-only dataset (dataset, family, size, δ, skill demand, answer style, image tokens = 0):
#: knowledge and reasoning questions with no image, so perception and OCR skill count for little
TEXT_ONLY_DATASETS: list[tuple] = [
    ("MMLU-Pro", TEXT_ONLY_FAMILY, 900, 0.8, (-1.2, -1.2, 0.5, 1.4), "choice", 0),
]
_TEXT_STEMS = {"MMLU-Pro": ["Answer the multiple-choice question (no image).",
                            "Choose the correct option; the question is text only."]}
#: test-only datasets of vlrb-sim-heldout: one per family, and the text-only one
HELDOUT_DATASETS: tuple[str, ...] = ("MMMU", "MathVerse", "OCRBench", "MMLU-Pro")

#: new models of vlrb-sim-newmodels, in vlrb_sim.MODELS's shape: model_id, params (B), $/1M in,
#: $/1M out, alias, target accuracy, skill profile (perception, ocr, math, knowledge), verbosity
NEW_MODELS: list[tuple] = [
    ("Atlas-VL-2B", "2.0", 0.04, 0.04, "atlas-ai/Atlas-VL-2B", 0.56, (0.2, 0.7, -0.5, -0.4), 0.9),
    ("Atlas-VL-14B-Reasoner", "14.0", 0.15, 0.60, "atlas-ai/Atlas-VL-14B-Reasoner", 0.72, (-0.2, 0.0, 1.4, 0.4), 7.0),
    ("Borealis-VL-38B", "38.0", 0.45, 0.70, "borealis/Borealis-VL-38B", 0.75, (0.7, 0.3, 0.1, 0.6), 1.2),
    ("Frontier-VL-Pro", "-", 2.00, 8.00, "frontier-vl-pro", 0.81, (0.5, 0.6, 0.6, 0.8), 2.0),
]
#: dev samples labelled for every new model (their calibration set), stratified by dataset
CALIBRATION_SIZE = 64


def scaled(datasets: list[tuple], scale: int) -> list[tuple]:
    """The datasets at 1/``scale`` of their size (rounded, at least 40 samples)."""
    return [(d[0], d[1], max(40, int(round(d[2] / scale))), *d[3:]) for d in datasets]


_SKILL_WORDS = {"perception": "visual perception", "ocr": "reading text (OCR, documents)", "math": "math",
                "knowledge": "world knowledge"}


def _size_words(params: str) -> str:
    if params in ("-", ""):
        return "API model (size not disclosed)"
    if "-A-" in params:  # mixture of experts: total-A-active
        total, active = params.split("-A-")
        return f"{float(total):g}B-parameter mixture-of-experts open model ({float(active):g}B active)"
    return f"{float(params):g}B-parameter open model"


def card_text(model: tuple, new: bool = True) -> str:
    """A model's card text from its simulated profile, in a vendor's words: size, strengths and
    weaknesses (skills well above or below the pool's), answer length and a headline accuracy rounded
    to 5 points. What a router may read about a model it never saw labelled (every model of
    ``vlrb-sim-newmodels`` has one, so that new and known models can be compared on their cards)."""
    mid, params, pin, pout, _alias, target, skills, verbosity = model
    size = _size_words(params)
    strong = [_SKILL_WORDS[s] for s, v in zip(SKILLS, skills) if v >= 0.4]
    weak = [_SKILL_WORDS[s] for s, v in zip(SKILLS, skills) if v <= -0.3]
    length = ("long step-by-step (reasoning) answers" if verbosity >= 4
              else "concise answers" if verbosity <= 1.0 else "medium-length answers")
    parts = [f"{mid}: {size}" + (", released after the training data was collected." if new else "."),
             f"Strong at {', '.join(strong)}." if strong else "No stand-out skill.",
             f"Weaker at {', '.join(weak)}." if weak else "",
             f"Writes {length}.",
             f"Vendor-reported average accuracy on public VLM benchmarks: about {5 * round(20 * target)}%.",
             f"Price: ${pin:.2f} input / ${pout:.2f} output per 1M tokens."]
    return " ".join(p for p in parts if p)


def _provenance(name: str, seed: int, description: str, source: str) -> Provenance:
    return Provenance(source=f"simulated: {source} (documented in its module docstring)", version=VERSION,
                      licence="CC-BY-4.0", simulated=True, description=description, citation=vlrb_sim.CITATION,
                      extra={"seed": seed, "based_on": "VL-RouterBench (arXiv:2512.23562), vlrb-sim's latent model",
                             "track": name})


def generate_heldout(seed: int = HELDOUT_SEED) -> Bundle:
    """``vlrb-sim-heldout`` in memory: held-out datasets only in test (see the module docstring)."""
    datasets = scaled(DATASETS, HELDOUT_SCALE) + TEXT_ONLY_DATASETS
    names = [d[0] for d in datasets]
    rng = np.random.default_rng(seed)
    sim = vlrb_sim.simulate(rng, MODELS, datasets, SPECIALISTS, stems=_TEXT_STEMS)
    text_only = frozenset(k for k, d in enumerate(datasets) if d[6] == 0)
    held = frozenset(names.index(d) for d in HELDOUT_DATASETS)
    split, part = vlrb_sim.stratified_split(rng, sim.ds_idx, len(datasets), test_only=held)
    images = sim.images.copy()
    images[np.isin(sim.ds_idx, list(text_only))] = 0  # no image: a blank array keeps images.npy rectangular
    samples = vlrb_sim.samples_frame(sim, datasets, split, text_only=text_only)
    description = (f"Simulated generalisation track (new workloads), drawn by vlrb-sim's latent model: the 14 "
                   f"VL-RouterBench datasets at 1/{HELDOUT_SCALE} size plus the text-only MMLU-Pro "
                   f"({len(samples):,} samples, the seed's 17 models and prices). Held out — test only, never in "
                   f"train or dev: {', '.join(HELDOUT_DATASETS)}. Outcomes are drawn, not measured.")
    return Bundle(name=HELDOUT, version=VERSION, models=vlrb_sim.model_infos(MODELS), samples=samples,
                  quality=sim.quality, cost=sim.cost, output_tokens=sim.output_tokens,
                  cost_bounds=CostBounds.from_costs(sim.cost),
                  provenance=_provenance(HELDOUT, seed, description, "evaluator.vlrb_sim_tracks.generate_heldout"),
                  has_hidden=True, images=images, parts=part, unseen_datasets=HELDOUT_DATASETS)


def calibration_rows(rng: np.random.Generator, ds_idx: np.ndarray, split: np.ndarray, size: int) -> np.ndarray:
    """``size`` dev rows, stratified by dataset: an equal share each, the remainder to the datasets
    with the most dev samples; drawn from ``rng``, returned sorted."""
    datasets = np.unique(ds_idx)
    dev = {d: np.flatnonzero((ds_idx == d) & (split == "dev")) for d in datasets}
    share = {d: size // len(datasets) for d in datasets}
    for d in sorted(datasets, key=lambda d: (-dev[d].size, d))[:size % len(datasets)]:
        share[d] += 1
    picked = [rng.choice(dev[d], min(share[d], dev[d].size), replace=False) for d in datasets]
    return np.sort(np.concatenate(picked))


def generate_newmodels(seed: int = NEWMODELS_SEED) -> Bundle:
    """``vlrb-sim-newmodels`` in memory: four unseen models, labelled in train/dev only on the
    calibration set (see the module docstring)."""
    datasets = scaled(DATASETS, NEWMODELS_SCALE)
    pool = list(MODELS) + NEW_MODELS
    rng = np.random.default_rng(seed)
    sim = vlrb_sim.simulate(rng, pool, datasets, SPECIALISTS)
    split, part = vlrb_sim.stratified_split(rng, sim.ds_idx, len(datasets))
    calib = calibration_rows(rng, sim.ds_idx, split, CALIBRATION_SIZE)
    unseen = np.arange(len(MODELS), len(pool))
    public_unlabelled = np.setdiff1d(np.flatnonzero(split != "test"), calib)
    quality, cost, tokens = sim.quality.copy(), sim.cost.copy(), sim.output_tokens.copy()
    for arr in (quality, cost, tokens):  # train/dev never label a new model beyond its calibration set
        arr[np.ix_(public_unlabelled, unseen)] = np.nan
    samples = vlrb_sim.samples_frame(sim, datasets, split)
    models = [dataclasses.replace(info, unseen=j >= len(MODELS), card=card_text(m, new=j >= len(MODELS)))
              for j, (info, m) in enumerate(zip(vlrb_sim.model_infos(pool), pool))]
    description = (f"Simulated generalisation track (new models), drawn by vlrb-sim's latent model: the 14 "
                   f"VL-RouterBench datasets at 1/{NEWMODELS_SCALE} size ({len(samples):,} samples); the pool is the "
                   f"seed's 17 models at the seed's prices plus {len(NEW_MODELS)} new ones "
                   f"({', '.join(m[0] for m in NEW_MODELS)}) that train and dev label only on a calibration set of "
                   f"{CALIBRATION_SIZE} dev samples; each comes with a model card. Outcomes are drawn, not measured.")
    return Bundle(name=NEWMODELS, version=VERSION, models=models, samples=samples, quality=quality, cost=cost,
                  output_tokens=tokens, cost_bounds=CostBounds.from_costs(cost),  # the masked matrix: no hidden cell
                  provenance=_provenance(NEWMODELS, seed, description, "evaluator.vlrb_sim_tracks.generate_newmodels"),
                  has_hidden=True, images=sim.images, parts=part,
                  calibration_ids=tuple(samples["sample_id"].iloc[calib].astype(str)))
