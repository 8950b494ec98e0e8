"""Small bundles built from explicit arrays, for tests worked out by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd

from evaluator.bundle import Bundle, CostBounds, ModelInfo, Provenance, family_of


def make_bundle(quality, cost, *, splits=None, datasets=None, model_ids=None, bounds=(0.001, 1.0),
                aliases=None, parts=None) -> Bundle:
    Y = np.asarray(quality, dtype=np.float64)
    C = np.asarray(cost, dtype=np.float64)
    n, m = Y.shape
    splits = list(splits) if splits is not None else ["dev"] * n
    datasets = list(datasets) if datasets is not None else ["MMBench"] * n
    model_ids = list(model_ids) if model_ids is not None else [f"model-{j}" for j in range(m)]
    aliases = aliases or {}
    samples = pd.DataFrame({
        "sample_id": [f"s{i:03d}" for i in range(n)],
        "dataset": datasets,
        "family": [family_of(d) for d in datasets],
        "split": splits,
        "question": [f"question {i}" for i in range(n)],
        "image_ref": ["" for _ in range(n)],
        "input_tokens": np.zeros(n, dtype=np.int64),
    })
    models = [ModelInfo(mid, mid.upper(), "", 0.1, 0.2, tuple(aliases.get(mid, ()))) for mid in model_ids]
    return Bundle(name="tiny", version="0", models=models, samples=samples, quality=Y, cost=C, output_tokens=None,
                  cost_bounds=CostBounds(*bounds), provenance=Provenance(source="test", version="0"), has_hidden=True,
                  parts=None if parts is None else np.asarray(parts, dtype=object))


def predictions(bundle: Bundle, choice, split: str = "dev", point: str | None = None) -> pd.DataFrame:
    """A prediction table routing the split's samples to model columns ``choice``."""
    ids = bundle.samples.loc[bundle.samples["split"] == split, "sample_id"].to_numpy()
    choice = np.broadcast_to(np.asarray(choice), ids.shape)
    frame = pd.DataFrame({"sample_id": ids, "model_id": [bundle.model_ids[j] for j in choice]})
    if point is not None:
        frame["point"] = point
    return frame


def track_slice(bundle: Bundle, seed: int, **sizes: int) -> Bundle:
    """A realistic slice of a track: ``train=…, dev=…, test=…`` samples drawn at random per split."""
    rng = np.random.default_rng(seed)
    split = bundle.samples["split"].to_numpy()
    rows = np.concatenate([rng.choice(np.flatnonzero(split == sp), k, replace=False) for sp, k in sizes.items()])
    return bundle.subset(rows)


def routable_bundle(n: int, test: int, seed: int = 3) -> Bundle:
    """A tiny three-model track with questions, for routers trained end to end in seconds:
    ``n`` samples, ``test`` of them in the test split, the rest 75/25 train/dev."""
    rng = np.random.default_rng(seed)
    train = (n - test) * 3 // 4
    b = make_bundle((rng.random((n, 3)) < [0.4, 0.6, 0.8]).astype(float), np.tile([0.01, 0.05, 0.3], (n, 1)),
                    splits=["train"] * train + ["dev"] * (n - test - train) + ["test"] * test,
                    datasets=["ChartQA", "MMBench"] * (n // 2), bounds=(0.01, 0.3))
    b.samples["question"] = [f"question {i} about {'charts' if i % 2 else 'scenes'}" for i in range(n)]
    return b
