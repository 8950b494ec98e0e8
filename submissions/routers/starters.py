"""Starter routers as reference entries: their test prediction files are kept with the track
version (``$ROUTERBOARD_DATA_DIR/starters/<track>/<router>.csv`` plus ``<router>.json`` with how
they were made), and workers queue each one once as a ``starter`` entry of the leaderboard."""

from __future__ import annotations

import json
import os
from pathlib import Path

from evaluator.tracks import data_dir

DISPLAY = {"knn": "Starter kNN (λ sweep)", "linear": "Starter linear (λ sweep)", "mlp": "Starter MLP (λ sweep)"}


def starter_dir(track_id: str) -> Path:
    return data_dir() / "starters" / track_id.replace("@", "-")


def write_starter(track_id: str, router: str, predictions, info: dict) -> Path:
    """Store a starter's test prediction file and how it was made. The description is written first
    and the file renamed into place last, so a worker polling the folder never reads half a file."""
    out = starter_dir(track_id)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{router}.csv"
    (out / f"{router}.json").write_text(json.dumps({"router": router, "display_name": DISPLAY.get(router, router),
                                                    **info}, indent=2), encoding="utf-8")
    tmp = out / f".{router}.csv.partial"
    predictions.to_csv(tmp, index=False)
    os.replace(tmp, path)
    return path


def list_starters(track_id: str) -> list[tuple[str, Path, dict]]:
    """(display name, prediction file, info) of every stored starter of a track."""
    out = []
    for path in sorted(starter_dir(track_id).glob("*.csv")):
        meta_path = path.with_suffix(".json")
        info = json.loads(meta_path.read_text(encoding="utf-8")) if meta_path.exists() else {}
        out.append((info.get("display_name", path.stem), path, info))
    return out
