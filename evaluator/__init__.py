"""The evaluator: benchmark bundles and the pure scoring core.

It owns the in-memory and on-disk model of a track (:mod:`evaluator.bundle`), the embedded simulated
tracks (:mod:`evaluator.vlrb_sim`; the generalisation tracks in :mod:`evaluator.vlrb_sim_tracks`, with
their held-out vs in-distribution breakdown in :mod:`evaluator.generalisation`), importers of the
peers' formats (:mod:`evaluator.importers`), and every metric (:mod:`evaluator.metrics`,
:mod:`evaluator.frontier`, :mod:`evaluator.bootstrap`).
It knows nothing of the web, the database or the queue, and imports neither ``submissions`` nor
``leaderboard``; the same :func:`score` scores a local dev file and a hidden test file.

>>> import evaluator, pandas as pd
>>> bundle = evaluator.load_bundle("vlrb-sim")                       # doctest: +SKIP
>>> dev = bundle.samples[bundle.samples.split == "dev"]              # doctest: +SKIP
>>> preds = pd.DataFrame({"sample_id": dev.sample_id, "model_id": "GPT-4o"})  # doctest: +SKIP
>>> evaluator.score(bundle, preds, split="dev").to_dict()["points"][0]["accuracy"]  # doctest: +SKIP
"""

from evaluator.baselines import reference_entries, score_references, split_oracle_curve
from evaluator.bundle import Bundle, CostBounds, ModelInfo, Provenance
from evaluator.errors import BundleError, EvaluatorError, HiddenPartMissing, ImportFormatError, PredictionError
from evaluator.predictions import Decisions, Problem, decisions_from_frame, find_problems_and_decisions
from evaluator.report import ScoreReport, score, score_decisions
from evaluator.tracks import DEFAULT_TRACK, load_bundle

__all__ = [
    "Bundle", "BundleError", "CostBounds", "DEFAULT_TRACK", "Decisions", "EvaluatorError", "HiddenPartMissing",
    "ImportFormatError", "ModelInfo", "PredictionError", "Problem", "Provenance", "ScoreReport",
    "decisions_from_frame", "find_problems_and_decisions", "load_bundle", "reference_entries", "score",
    "score_decisions", "score_references", "split_oracle_curve",
]
