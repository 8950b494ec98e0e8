"""MMR-Bench CSV → bundle.

One row per sample: ``question``, ``img_path`` or ``dataset_idx``, optionally ``dataset``, then a
``<model>_correct`` (0/1) and a ``<model>_cost`` (float, USD per query) column per model. MMR-Bench
ships no split, so a seeded 70/15/15 one (stratified by dataset) is made. The dataset of a row is
its ``dataset`` column, else the ``dataset_idx`` prefix before the last ``_`` (``"mathvista_17"`` →
``"mathvista"``), else ``"MMR"``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from evaluator.bundle import Bundle, CostBounds, ModelInfo, Provenance, family_of
from evaluator.errors import ImportFormatError
from evaluator.importers._common import seeded_split

CORRECT = "_correct"
COST = "_cost"


def import_mmr(csv_path: str | Path, *, split_seed: int = 0, name: str = "mmr", version: str = "1.0") -> Bundle:
    path = Path(csv_path)
    if not path.is_file():
        raise ImportFormatError(f"MMR-Bench import: no file at {path}")
    try:
        frame = pd.read_csv(path, encoding="utf-8")
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise ImportFormatError(f"{path}: not a readable UTF-8 CSV ({exc})") from None
    models = [c[: -len(CORRECT)] for c in frame.columns if c.endswith(CORRECT)]
    if not models:
        raise ImportFormatError(f"{path}: no '<model>_correct' columns; MMR-Bench CSVs have one per model "
                                f"(found columns {list(frame.columns)[:10]})")
    lacking = [m for m in models if f"{m}{COST}" not in frame.columns]
    if lacking:
        raise ImportFormatError(f"{path}: model(s) {lacking} have a _correct column but no matching _cost column")
    if len(frame) == 0:
        raise ImportFormatError(f"{path}: no rows")
    try:
        Y = frame[[f"{m}{CORRECT}" for m in models]].apply(pd.to_numeric, errors="raise").to_numpy(np.float64)
        C = frame[[f"{m}{COST}" for m in models]].apply(pd.to_numeric, errors="raise").to_numpy(np.float64)
    except (ValueError, TypeError) as exc:
        raise ImportFormatError(f"{path}: a _correct or _cost cell is not a number ({exc})") from None
    if not np.isfinite(Y).all() or (Y < 0).any() or (Y > 1).any():
        raise ImportFormatError(f"{path}: _correct values must be in [0, 1] with no empty cells")
    if not np.isfinite(C).all() or (C < 0).any():
        raise ImportFormatError(f"{path}: _cost values must be ≥ 0 with no empty cells")

    if "dataset_idx" in frame.columns:
        ids = frame["dataset_idx"].astype(str)
    else:
        ids = pd.Series([f"mmr-{i:06d}" for i in range(len(frame))])
    if ids.duplicated().any():
        raise ImportFormatError(f"{path}: dataset_idx values repeat, e.g. {list(ids[ids.duplicated()][:5])}")
    if "dataset" in frame.columns:
        datasets = frame["dataset"].astype(str)
    elif "dataset_idx" in frame.columns:
        datasets = ids.str.rsplit("_", n=1).str[0]
    else:
        datasets = pd.Series("MMR", index=frame.index)
    split = seeded_split(datasets, split_seed)
    image = frame["img_path"].astype(str) if "img_path" in frame.columns else pd.Series("", index=frame.index)
    samples = pd.DataFrame({
        "sample_id": ids.to_numpy(),
        "dataset": datasets.to_numpy(),
        "family": datasets.map(family_of).to_numpy(),
        "split": split,
        "question": frame["question"].astype(str).to_numpy() if "question" in frame.columns else "",
        "image_ref": image.to_numpy(),
        "input_tokens": np.zeros(len(frame), dtype=np.int64),
    })
    return Bundle(
        name=name, version=version, models=[ModelInfo(m, m) for m in models], samples=samples,
        quality=Y, cost=C, output_tokens=None, cost_bounds=CostBounds.from_costs(C),
        provenance=Provenance(source=f"MMR-Bench CSV imported from {path.name}", version=version,
                              licence="see the source benchmark", simulated=False,
                              description=f"Imported with `routerboard import mmr` (split seed {split_seed}).",
                              extra={"split_seed": split_seed}),
        has_hidden=True,
    )
