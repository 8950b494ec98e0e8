"""``vlrb-sim``: the embedded default track, a deterministic simulation with VL-RouterBench's shape.

Why simulate: the real VL-RouterBench matrices are a 1+ GB download that no test machine here can
fetch, yet the leaderboard must work offline, out of the box, with a track on which routing matters.
So the generator reproduces the *shape* of the seed benchmark exactly — its 17 models and their
$/1M-token prices, its 14 datasets in 3 families, 30,540 samples, a 70/15/15 split — and fills it
with outcomes drawn from a small latent model that is documented here and labelled *simulated*
wherever the track is shown.

How outcomes are drawn (all from one seeded ``numpy.random.Generator``, so the same bytes come out
on every machine):

* Every sample ``i`` of dataset ``d`` has a latent difficulty ``b_i ~ N(δ_d, 1)`` and a latent skill
  demand ``z_i ~ N(μ_d, 0.7²)`` over four skills (perception, OCR, math, knowledge).
* Every model ``j`` has a skill profile ``s_j``; the log-odds that ``j`` answers ``i`` correctly is
  ``a_j + e_jd + z_i·(s_j − mean_j s_j) − b_i``. ``a_j`` is solved for (bisection) so that the
  model's mean accuracy hits a plausible target (bigger and API models higher); ``e_jd`` holds small
  seeded per-dataset effects plus a few named specialists (an OCR model that wins OCRBench, math
  models that win MathVista/MathVision), so the strongest model does not win every dataset.
  Centring the skill term across models means demand changes *which* model wins, not how hard the
  sample is for everyone — which is what makes per-sample routing pay.
* Quality ``Y[i, j] ~ Bernoulli(sigmoid(log-odds))``; correlated across models through ``b_i``.
* Input tokens: question tokens plus per-dataset image tokens; output tokens: per-dataset answer
  length × model verbosity × difficulty × noise — the thinking model writes ~12× longer answers.
  Cost ``C = (input·price_in + output·price_out) / 1e6`` USD.
* The question text names cues of the skill demand and the difficulty (with noise), and a 16×16 RGB
  image encodes the same latents in its channel means and texture: a router that reads text and
  image can learn whom to route to, one that ignores them cannot.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from evaluator.bundle import Bundle, CostBounds, ModelInfo, Provenance

NAME = "vlrb-sim"
VERSION = "1.0"
SEED = 20251230
N_SAMPLES = 30_540
SPLIT_FRACTIONS = (0.70, 0.15, 0.15)
SKILLS = ("perception", "ocr", "math", "knowledge")
IMAGE_SIZE = 16

# model_id, display name, params (B), $/1M in, $/1M out, HF-style alias, target accuracy,
# skill profile (perception, ocr, math, knowledge), output verbosity
_MODELS = [
    ("Janus-Pro-1B", "1.0", 0.05, 0.05, "deepseek-ai/Janus-Pro-1B", 0.36, (0.3, -0.8, -0.6, -0.4), 0.8),
    ("DeepSeek-VL2-Tiny", "27.0-A-1.0", 0.05, 0.05, "deepseek-ai/deepseek-vl2-tiny", 0.47, (0.0, 0.3, -0.5, -0.5), 0.9),
    ("SmolVLM2", "2.2", 0.06, 0.06, "HuggingFaceTB/SmolVLM2-2.2B-Instruct", 0.42, (0.1, -0.2, -0.5, -0.4), 0.9),
    ("Kimi-VL-A3B-Thinking-2506", "16.0-A-2.8", 0.20, 0.25, "moonshotai/Kimi-VL-A3B-Thinking-2506", 0.64, (-0.3, -0.2, 1.2, 0.5), 12.0),
    ("Phi-3.5-Vision", "4.2", 0.10, 0.10, "microsoft/Phi-3.5-vision-instruct", 0.51, (-0.1, 0.3, -0.2, 0.0), 1.0),
    ("DeepSeek-VL2", "27.0-A-4.5", 0.35, 0.50, "deepseek-ai/deepseek-vl2", 0.61, (0.1, 0.6, -0.2, -0.1), 1.0),
    ("Janus-Pro-7B", "7.0", 0.18, 0.25, "deepseek-ai/Janus-Pro-7B", 0.50, (0.5, -0.6, -0.3, 0.0), 0.9),
    ("MiMo-VL-7B-RL", "7.0", 0.20, 0.30, "XiaomiMiMo/MiMo-VL-7B-RL", 0.67, (0.0, 0.1, 1.0, 0.1), 4.0),
    ("LLaVA-Next-Vicuna-7B", "7.0", 0.20, 0.20, "llava-hf/llava-v1.6-vicuna-7b-hf", 0.44, (0.3, -0.8, -0.6, 0.1), 1.2),
    ("Qianfan-VL-8B", "8.0", 0.18, 0.25, "baidu/Qianfan-VL-8B", 0.63, (-0.2, 1.1, 0.1, -0.2), 1.0),
    ("Pixtral-12B", "12.0", 0.25, 0.35, "mistralai/Pixtral-12B-2409", 0.58, (0.2, 0.2, 0.0, 0.2), 1.5),
    ("Gemma3-27B", "27.0", 0.35, 0.50, "google/gemma-3-27b-it", 0.62, (0.1, -0.2, 0.0, 0.6), 1.6),
    ("Qwen2.5-VL-32B-Instruct", "32.0", 0.40, 0.60, "Qwen/Qwen2.5-VL-32B-Instruct", 0.71, (0.0, 0.5, 0.4, 0.2), 1.8),
    ("Qwen2.5-VL-72B-Instruct", "72.0", 0.80, 1.20, "Qwen/Qwen2.5-VL-72B-Instruct", 0.75, (0.1, 0.6, 0.3, 0.4), 1.3),
    ("InternVL2.5-78B", "78.0", 1.00, 1.50, "OpenGVLab/InternVL2_5-78B", 0.74, (0.3, 0.4, 0.2, 0.4), 1.2),
    ("Gemini-Flash-2.5", "-", 0.30, 2.40, "gemini-2.5-flash", 0.76, (0.2, 0.6, 0.6, 0.6), 4.0),
    ("GPT-4o", "-", 2.50, 10.00, "gpt-4o", 0.73, (0.5, 0.2, 0.1, 0.9), 1.5),
]

# dataset, family, size, difficulty offset δ_d, skill demand μ_d, answer style, image tokens
_DATASETS = [
    ("MMBench", "General", 4329, -0.9, (0.8, -0.3, -0.3, 0.3), "choice", 576),
    ("MMStar", "General", 1500, 0.4, (0.6, -0.2, 0.2, 0.3), "choice", 576),
    ("MMMU", "General", 900, 1.0, (-0.2, -0.2, 0.4, 1.0), "choice", 1024),
    ("RealWorldQA", "General", 765, 0.0, (1.0, -0.1, -0.3, 0.0), "choice", 1280),
    ("InfoVQA", "General", 2801, 0.3, (-0.1, 0.9, 0.1, 0.2), "short", 2304),
    ("HallusionBench", "General", 951, 0.5, (0.9, -0.1, 0.0, 0.2), "yesno", 768),
    ("MathVista", "STEM", 1000, 0.3, (0.0, 0.0, 1.0, 0.2), "math", 768),
    ("MathVision", "STEM", 3040, 1.8, (-0.2, -0.1, 1.3, 0.3), "math", 768),
    ("MathVerse", "STEM", 788, 1.0, (-0.1, -0.1, 1.2, 0.1), "math", 1024),
    ("AI2D", "STEM", 3088, -0.6, (0.3, 0.2, 0.2, 0.6), "choice", 768),
    ("ChartQA", "Charts & OCR/Document", 2500, -0.3, (-0.1, 0.7, 0.5, -0.2), "short", 1024),
    ("DocVQA", "Charts & OCR/Document", 4878, -0.8, (-0.3, 1.2, -0.2, -0.1), "short", 1792),
    ("TextVQA", "Charts & OCR/Document", 3000, -0.6, (0.3, 1.0, -0.4, -0.2), "short", 1024),
    ("OCRBench", "Charts & OCR/Document", 1000, -0.2, (-0.1, 1.3, -0.2, -0.2), "short", 768),
]
# Named specialists: (model, dataset, log-odds bonus) — so the best single model does not win everything.
_SPECIALISTS = [
    ("Qianfan-VL-8B", "OCRBench", 1.4), ("Qianfan-VL-8B", "DocVQA", 0.6),
    ("MiMo-VL-7B-RL", "MathVista", 1.0), ("Kimi-VL-A3B-Thinking-2506", "MathVision", 1.1),
    ("GPT-4o", "MMMU", 0.6), ("GPT-4o", "HallusionBench", 0.5), ("InternVL2.5-78B", "AI2D", 0.5),
    ("Qwen2.5-VL-72B-Instruct", "ChartQA", 0.5), ("Gemini-Flash-2.5", "InfoVQA", 0.4),
]
_ANSWER_TOKENS = {"choice": 6.0, "yesno": 4.0, "short": 10.0, "math": 140.0}
#: the seed's pool, datasets and specialists, as the generalisation tracks reuse them
#: (:mod:`evaluator.vlrb_sim_tracks`); rows in the shapes documented above
MODELS: list[tuple] = _MODELS
DATASETS: list[tuple] = _DATASETS
SPECIALISTS: list[tuple[str, str, float]] = _SPECIALISTS

_STEMS = {
    "MMBench": ["Look at the picture and choose the correct option.", "Which option best describes the image?"],
    "MMStar": ["Answer the multiple-choice question about the image.", "Pick the correct answer based on the scene."],
    "MMMU": ["This is a college-level exam question with a figure.", "Using the diagram from the textbook, answer the question."],
    "RealWorldQA": ["Looking at this real-world photo, answer the question.", "From the driving scene shown, decide."],
    "InfoVQA": ["Read the infographic and answer.", "According to the infographic, what is asked?"],
    "HallusionBench": ["Answer yes or no about the image.", "Is the following statement about the figure true?"],
    "MathVista": ["Solve the math problem shown in the figure.", "Use the plot to compute the answer."],
    "MathVision": ["Solve this competition math problem with a diagram.", "Find the value using the geometric figure."],
    "MathVerse": ["Solve the problem; the key information is in the diagram.", "Compute the requested quantity from the figure."],
    "AI2D": ["Answer the question about the science diagram.", "Based on the labelled diagram, choose an option."],
    "ChartQA": ["Read the chart and answer the question.", "According to the bar chart, what is the value?"],
    "DocVQA": ["Read the scanned document and answer.", "What does the form say?"],
    "TextVQA": ["Read the text in the photo and answer.", "What is written on the sign?"],
    "OCRBench": ["Recognise the text in the image.", "Transcribe the characters shown."],
}
_CUES = {
    "perception": ["count the objects", "spatial relation between items", "colour of the object", "what is the person doing",
                   "scene layout", "fine visual detail", "compare the two regions", "object position"],
    "ocr": ["small printed text", "handwritten words", "table cell value", "read the label", "dense paragraph",
            "serial number", "tiny font in the corner", "multi-column layout"],
    "math": ["compute the angle", "solve the equation", "area of the shape", "function value on the graph",
             "probability calculation", "algebraic expression", "derivative at the point", "ratio of lengths"],
    "knowledge": ["historical context", "biology fact", "domain terminology", "world knowledge", "chemistry notation",
                  "legal or economic concept", "famous landmark", "art style"],
}
_EASY = ["simple", "at a glance", "obvious", "single step", "basic"]
_HARD = ["requires several reasoning steps", "tricky and ambiguous", "carefully justify each step",
         "subtle detail that is easy to miss", "expert-level"]


def _logit(p: np.ndarray) -> np.ndarray:
    return np.log(p) - np.log1p(-p)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


@dataclass(frozen=True)
class Simulated:
    """One draw of the latent model over a list of datasets and a pool of models: everything a track
    needs except its split. Tracks built on it (``vlrb-sim``, :mod:`evaluator.vlrb_sim_tracks`) draw
    their split from the same generator afterwards."""

    ds_idx: np.ndarray          # (n,) dataset index of each sample, datasets in list order
    counters: np.ndarray        # (n,) running number of the sample within its dataset
    quality: np.ndarray         # (n, m) 0/1
    questions: list[str]
    images: np.ndarray          # (n, 16, 16, 3) uint8
    input_tokens: np.ndarray    # (n,) int64
    output_tokens: np.ndarray   # (n, m)
    cost: np.ndarray            # (n, m) USD


def simulate(rng: np.random.Generator, models: list[tuple], datasets: list[tuple],
             specialists: list[tuple[str, str, float]], stems: dict[str, list[str]] | None = None) -> Simulated:
    """Draw outcomes, texts, images, tokens and costs for ``datasets`` (rows of :data:`_DATASETS`'s
    shape) and ``models`` (rows of :data:`_MODELS`'s shape) from ``rng``, in a fixed order of draws
    (``vlrb-sim``'s bytes depend on it: do not reorder). ``stems``: question openings of datasets
    that :data:`_STEMS` does not know (two per dataset)."""
    stems = {**_STEMS, **(stems or {})}
    m = len(models)
    sizes = np.array([d[2] for d in datasets])
    n = int(sizes.sum())
    ds_idx = np.repeat(np.arange(len(datasets)), sizes)
    delta = np.array([d[3] for d in datasets])[ds_idx]
    mu = np.array([d[4] for d in datasets])[ds_idx]
    b = delta + rng.standard_normal(n)
    z = mu + 0.7 * rng.standard_normal((n, len(SKILLS)))

    skills = np.array([mm[6] for mm in models])
    centred = skills - skills.mean(axis=0, keepdims=True)
    effects = 0.25 * rng.standard_normal((m, len(datasets)))
    ids = [mm[0] for mm in models]
    dnames = [d[0] for d in datasets]
    for model, dataset, bonus in specialists:
        if model in ids and dataset in dnames:
            effects[ids.index(model), dnames.index(dataset)] += bonus
    base = z @ centred.T + effects.T[ds_idx] - b[:, None]  # (n, m) without a_j
    target = np.array([mm[5] for mm in models])
    lo, hi = np.full(m, -10.0), np.full(m, 10.0)
    for _ in range(50):  # bisection on a_j: mean accuracy is increasing in a_j
        mid = (lo + hi) / 2
        too_high = _sigmoid(base + mid).mean(axis=0) > target
        hi = np.where(too_high, mid, hi)
        lo = np.where(too_high, lo, mid)
    prob = _sigmoid(base + (lo + hi) / 2)
    quality = (rng.random((n, m)) < prob).astype(np.float64)

    # Text and image carry noisy views of (z, b).
    z_seen = z + 0.5 * rng.standard_normal(z.shape)
    b_seen = b + 0.6 * rng.standard_normal(n)
    cue_counts = np.clip(np.rint(z_seen), 0, 3).astype(int)
    stem_pick = rng.integers(0, 2, n)
    cue_picks = rng.integers(0, 8, (n, len(SKILLS), 3))
    diff_pick = rng.integers(0, 5, n)
    questions = []
    for i in range(n):  # one-time generation, not a scoring path
        parts = [stems[dnames[ds_idx[i]]][stem_pick[i]]]
        for k, skill in enumerate(SKILLS):
            parts.extend(_CUES[skill][c] for c in cue_picks[i, k, :cue_counts[i, k]])
        if b_seen[i] > 0.8:
            parts.append(_HARD[diff_pick[i]])
        elif b_seen[i] < -0.8:
            parts.append(_EASY[diff_pick[i]])
        questions.append(" ".join(parts[:1]) + (" Focus: " + "; ".join(parts[1:]) + "." if len(parts) > 1 else ""))
    images = _images(rng, z_seen, b_seen)

    q_tokens = np.array([len(q.split()) for q in questions]) * 1.3
    img_tokens = np.array([d[6] for d in datasets])[ds_idx] * np.exp(0.15 * rng.standard_normal(n))
    input_tokens = np.rint(q_tokens + img_tokens).astype(np.int64)
    style = np.array([_ANSWER_TOKENS[d[5]] for d in datasets])[ds_idx]
    verbosity = np.array([mm[7] for mm in models])
    out = style[:, None] * verbosity[None, :] * np.exp(0.3 * b)[:, None] * np.exp(0.4 * rng.standard_normal((n, m)))
    output_tokens = np.maximum(1.0, np.rint(out))
    pin = np.array([mm[2] for mm in models])
    pout = np.array([mm[3] for mm in models])
    cost = (input_tokens[:, None] * pin[None, :] + output_tokens * pout[None, :]) / 1e6
    counters = np.concatenate([np.arange(s) for s in sizes])
    return Simulated(ds_idx, counters, quality, questions, images, input_tokens, output_tokens, cost)


def stratified_split(rng: np.random.Generator, ds_idx: np.ndarray, n_datasets: int,
                     test_only: frozenset[int] = frozenset()) -> tuple[np.ndarray, np.ndarray]:
    """Per dataset, a :data:`SPLIT_FRACTIONS` split drawn from ``rng`` (datasets in ``test_only``:
    every sample in test), and each test sample in the public or private half. Returns (split, part)."""
    n = ds_idx.size
    split = np.empty(n, dtype=object)
    part = np.full(n, "", dtype=object)
    for d in range(n_datasets):
        rows = np.flatnonzero(ds_idx == d)
        perm = rng.permutation(rows)
        if d in test_only:
            n_train = n_dev = 0
        else:
            n_train = int(round(SPLIT_FRACTIONS[0] * rows.size))
            n_dev = int(round(SPLIT_FRACTIONS[1] * rows.size))
        split[perm[:n_train]] = "train"
        split[perm[n_train:n_train + n_dev]] = "dev"
        test_rows = perm[n_train + n_dev:]
        split[test_rows] = "test"
        part[test_rows] = np.where(rng.random(test_rows.size) < 0.5, "public", "private")
    return split, part


def samples_frame(sim: Simulated, datasets: list[tuple], split: np.ndarray,
                  text_only: frozenset[int] = frozenset()) -> pd.DataFrame:
    """The samples table of a simulated track (samples of ``text_only`` datasets have no image:
    an empty ``image_ref``)."""
    dnames = [d[0] for d in datasets]
    return pd.DataFrame({
        "sample_id": [f"{dnames[d]}-{c:05d}" for d, c in zip(sim.ds_idx, sim.counters)],
        "dataset": [dnames[d] for d in sim.ds_idx],
        "family": [datasets[d][1] for d in sim.ds_idx],
        "split": split.astype(str),
        "question": sim.questions,
        "image_ref": ["" if d in text_only else f"images.npy#{i}" for i, d in enumerate(sim.ds_idx)],
        "input_tokens": sim.input_tokens,
    })


def model_infos(models: list[tuple]) -> list[ModelInfo]:
    """The pool as :class:`ModelInfo` (aliases: the HF-style name and a snake_case id)."""
    return [ModelInfo(model_id=mid, display_name=mid, params=params, input_price=pi, output_price=po,
                      aliases=(alias, mid.lower().replace("-", "_")))
            for mid, params, pi, po, alias, *_ in models]


CITATION = ("@misc{huang2025vlrouterbench, title={VL-RouterBench: A Benchmark for Vision-Language Model "
            "Routing}, author={Huang, Zhehao and others}, year={2025}, eprint={2512.23562}, "
            "archivePrefix={arXiv}}")


def generate(seed: int = SEED) -> Bundle:
    """Build the whole track in memory (a few seconds); same seed → same arrays and texts."""
    rng = np.random.default_rng(seed)
    assert sum(d[2] for d in _DATASETS) == N_SAMPLES
    sim = simulate(rng, _MODELS, _DATASETS, _SPECIALISTS)
    split, part = stratified_split(rng, sim.ds_idx, len(_DATASETS))
    samples = samples_frame(sim, _DATASETS, split)
    provenance = Provenance(
        source="simulated: evaluator.vlrb_sim.generate (documented in its module docstring)",
        version=VERSION, licence="CC-BY-4.0", simulated=True,
        description=("Simulated track with the exact shape of VL-RouterBench (17 models with the seed's "
                     "$/1M-token prices, 14 datasets in 3 families, 30,540 samples, 70/15/15 split). "
                     "Outcomes are drawn from a seeded latent-skill model, not measured."),
        citation=CITATION,
        extra={"seed": seed, "based_on": "VL-RouterBench (arXiv:2512.23562)"},
    )
    return Bundle(name=NAME, version=VERSION, models=model_infos(_MODELS), samples=samples, quality=sim.quality,
                  cost=sim.cost, output_tokens=sim.output_tokens, cost_bounds=CostBounds.from_costs(sim.cost),
                  provenance=provenance, has_hidden=True, images=sim.images, parts=part)


def _images(rng: np.random.Generator, z_seen: np.ndarray, b_seen: np.ndarray) -> np.ndarray:
    """16×16 RGB images: channel means follow perception/OCR/math demand, stripe frequency follows
    knowledge demand, contrast follows difficulty; pixel noise on top."""
    n = z_seen.shape[0]
    yy, xx = np.mgrid[0:IMAGE_SIZE, 0:IMAGE_SIZE]
    freq = np.clip(1.0 + z_seen[:, 3], 0.2, 4.0)
    stripes = np.sin(xx[None] * freq[:, None, None] * np.pi / 8 + yy[None] * 0.3)
    contrast = 20.0 + 15.0 * np.clip(b_seen, -2, 3)
    img = 128.0 + 35.0 * z_seen[:, None, None, :3] + (contrast[:, None, None] * stripes)[..., None]
    img += 18.0 * rng.standard_normal((n, IMAGE_SIZE, IMAGE_SIZE, 3))
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)
