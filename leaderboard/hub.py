"""Hugging Face Hub I/O: the public split and the leaderboard results as dataset repos.

Layout of a published public split (what ``publish_folder`` writes and ``load_dataset`` reads)::

    README.md                          dataset card with YAML: configs, licence, task categories, citation
    samples/train-00000-of-00001.parquet   sample_id, dataset, family, split, question, image,
    samples/dev-00000-of-00001.parquet     image_ref, input_tokens, quality[m], cost[m], output_tokens[m]
    samples/test-00000-of-00001.parquet    (test: quality, cost and output_tokens are null — always)
    models/train-00000-of-00001.parquet    model_id, display_name, params, input_price, output_price, aliases
                                           (+ unseen, card on a track with new models)

``datasets.load_dataset("<org>/<name>", "samples")`` gives train/dev/test; :func:`read_config` and
:func:`bundle_from_folder` read a local folder's Parquet files directly (see :func:`read_config` for
why not ``load_dataset`` on a folder). The per-model lists follow the order of the ``models`` config.

The Hub calls themselves (``create_repo``, ``upload_folder``, ``snapshot_download``) are thin
wrappers: no machine here reaches the Hub, so tests exercise everything up to them on local
folders laid out exactly as the repo is.
"""

from __future__ import annotations

import io
import json
import os
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from evaluator import Bundle
from evaluator.bundle import SAMPLE_COLUMNS, CostBounds, Provenance, models_table, models_from_frame
from evaluator.tracks import data_dir

SAMPLES, MODELS = "samples", "models"
#: the pixels of a sample without an image, as bundles store them (16×16 RGB zeros)
_BLANK = np.zeros((16, 16, 3), dtype=np.uint8)
SPLIT_FILE = "{split}-00000-of-00001.parquet"


def _png(pixels: np.ndarray) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.asarray(pixels, dtype=np.uint8)).save(buf, format="PNG", optimize=False)
    return buf.getvalue()


def samples_dataset(bundle: Bundle, split: str):
    """One split of the ``samples`` config as a ``datasets.Dataset``. Test rows never carry labels."""
    import datasets
    from tqdm.auto import tqdm

    rows = bundle.split_rows(split)
    s = bundle.samples.iloc[rows]
    labelled = split != "test"
    m = len(bundle.models)

    def lists(matrix):
        if matrix is None or not labelled:
            return [None] * len(rows)
        return [list(map(float, r)) for r in np.asarray(matrix[rows], dtype=np.float64)]

    data: dict[str, Any] = {
        "sample_id": s["sample_id"].astype(str).tolist(), "dataset": s["dataset"].astype(str).tolist(),
        "family": s["family"].astype(str).tolist(), "split": s["split"].astype(str).tolist(),
        "question": s["question"].astype(str).tolist(),
        "image_ref": s["image_ref"].astype(str).tolist(), "input_tokens": s["input_tokens"].astype(int).tolist(),
        "quality": lists(bundle.quality), "cost": lists(bundle.cost), "output_tokens": lists(bundle.output_tokens),
    }
    features = {
        "sample_id": datasets.Value("string"), "dataset": datasets.Value("string"), "family": datasets.Value("string"),
        "split": datasets.Value("string"), "question": datasets.Value("string"),
        "image_ref": datasets.Value("string"), "input_tokens": datasets.Value("int64"),
        "quality": datasets.Sequence(datasets.Value("float64"), length=m),
        "cost": datasets.Sequence(datasets.Value("float64"), length=m),
        "output_tokens": datasets.Sequence(datasets.Value("float64"), length=m),
    }
    if bundle.images is not None:  # a sample without an image (text-only: empty image_ref) has none here either
        refs = s["image_ref"].astype(str).to_numpy()
        data["image"] = [{"bytes": _png(bundle.images[r]), "path": None} if ref else None
                         for r, ref in tqdm(zip(rows, refs), total=len(rows), desc=f"images ({split})", unit="img",
                                            leave=False)]
        features["image"] = datasets.Image()
    return datasets.Dataset.from_dict(data, features=datasets.Features(features))


def models_frame(bundle: Bundle) -> pd.DataFrame:
    """The ``models`` config: the bundle's models.parquet columns (``unseen`` and ``card`` where a model
    is unseen in train/dev)."""
    return models_table(bundle.models)


def dataset_card(bundle: Bundle, counts: dict[str, int]) -> str:
    prov = bundle.provenance
    yaml_configs = "\n".join(
        [f"- config_name: {SAMPLES}", "  default: true", "  data_files:"]
        + [f"  - split: {s}\n    path: {SAMPLES}/{SPLIT_FILE.format(split=s)}" for s in counts]
        + [f"- config_name: {MODELS}", "  data_files:", f"  - split: train\n    path: {MODELS}/{SPLIT_FILE.format(split='train')}"])
    pool = "\n".join(f"| {x.display_name} | {x.params or '-'} | {x.input_price:.2f} | {x.output_price:.2f} |"
                     for x in bundle.models)
    sizes = "\n".join(f"| {s} | {n:,} |" for s, n in counts.items())
    notice = ("\n> **Simulated data.** Every quality and cost value in this dataset is drawn from a documented "
              "latent model (see *Provenance*), not measured on real models.\n" if prov.simulated else "")
    meta = {"track": bundle.track_id, "cost_bounds": [bundle.cost_bounds.cmin, bundle.cost_bounds.cmax],
            "simulated": prov.simulated, "models": bundle.model_ids}
    if bundle.generalisation:
        meta.update(unseen_datasets=list(bundle.unseen_datasets), unseen_models=bundle.unseen_models,
                    calibration_ids=list(bundle.calibration_ids))
    return f"""---
license: {prov.licence.lower() if prov.licence and ' ' not in prov.licence else 'other'}
task_categories:
- visual-question-answering
- text-classification
tags:
- routing
- llm-routing
- vision-language-models
- leaderboard{chr(10) + '- simulated' if prov.simulated else ''}
pretty_name: {bundle.name} {bundle.version} public split
configs:
{yaml_configs}
---

# {bundle.name} {bundle.version} — public split
{notice}
Router benchmark track **{bundle.track_id}**: for every sample, the question (and image) and — on the
train and dev splits — the quality `quality[j]` and cost `cost[j]` (USD per query) of every model `j`
of the pool (list order = the `models` config). The test split carries **no** quality or cost: those
stay with the leaderboard's evaluator, which scores uploaded routing decisions against them.

```python
from datasets import load_dataset
samples = load_dataset("<org>/<this-repo>", "samples")   # train / dev / test
models = load_dataset("<org>/<this-repo>", "models")["train"]
```

## Split sizes
| split | samples |
|---|---|
{sizes}

## Model pool ($ per 1M tokens)
| model | params (B) | input | output |
|---|---|---|---|
{pool}

{_generalisation_section(bundle)}## Provenance
{prov.description}

Source: {prov.source} · version {prov.version} · licence {prov.licence}

## Citation
```bibtex
{prov.citation}
```

<!-- routerboard: {json.dumps(meta)} -->
"""


def _generalisation_section(bundle: Bundle) -> str:
    """The card's section on what train and dev never show (empty for a track without it)."""
    if not bundle.generalisation:
        return ""
    lines = ["## Generalisation: unseen in train and dev", ""]
    if bundle.unseen_datasets:
        lines.append(f"- **Held-out datasets** (test split only): {', '.join(bundle.unseen_datasets)}. Samples with an "
                     "empty `image_ref` are text-only: no image.")
    if bundle.unseen_models:
        lines.append(f"- **New models** (test pool; `unseen` in the `models` config, with their `card`): "
                     f"{', '.join(bundle.unseen_models)}. In train and dev their `quality`, `cost` and `output_tokens` "
                     f"entries are NaN (unknown) except on the {len(bundle.calibration_ids)} calibration samples (dev), listed "
                     "in the metadata comment at the end of this card (`calibration_ids`).")
    return "\n".join(lines) + "\n\n"


def publish_folder(bundle: Bundle, out: str | os.PathLike[str]) -> Path:
    """Write the public split of ``bundle`` as a dataset repo folder (see the module docstring)."""
    out = Path(out)
    (out / SAMPLES).mkdir(parents=True, exist_ok=True)
    (out / MODELS).mkdir(parents=True, exist_ok=True)
    counts = {}
    for split in ("train", "dev", "test"):
        ds = samples_dataset(bundle, split)
        ds.to_parquet(str(out / SAMPLES / SPLIT_FILE.format(split=split)))
        counts[split] = len(ds)
    models_frame(bundle).to_parquet(out / MODELS / SPLIT_FILE.format(split="train"), index=False)
    (out / "README.md").write_text(dataset_card(bundle, counts), encoding="utf-8")
    return out


def _card_text(source: str, token: str | None = None) -> str:
    """The dataset card (README.md) of a local folder or, for anything else, of a Hub dataset repo."""
    if Path(source).is_dir():
        return Path(source, "README.md").read_text(encoding="utf-8")
    from huggingface_hub import hf_hub_download

    return Path(hf_hub_download(source, "README.md", repo_type="dataset", token=token)).read_text(encoding="utf-8")


def _config_files(folder: Path, config: str) -> dict[str, list[Path]]:
    """{split: Parquet files} of ``config``, from the card's YAML ``configs`` (paths may be globs),
    else from the layout ``<config>/<split>-*.parquet``."""
    import yaml

    card = (folder / "README.md").read_text(encoding="utf-8") if (folder / "README.md").exists() else ""
    front = yaml.safe_load(card.split("---", 2)[1]) if card.startswith("---") else None
    entries = [c for c in (front or {}).get("configs", []) if c.get("config_name") == config]
    out: dict[str, list[Path]] = {}
    if entries:
        for item in entries[0].get("data_files", []):
            patterns = item["path"] if isinstance(item["path"], list) else [item["path"]]
            out[item["split"]] = sorted(p for pattern in patterns for p in folder.glob(pattern))
    else:
        for path in sorted((folder / config).glob("*.parquet")):
            out.setdefault(path.name.split("-", 1)[0], []).append(path)
    return out


def read_config(source: str | os.PathLike[str], config: str, token: str | None = None) -> dict[str, pd.DataFrame]:
    """{split: frame} of one config of a published split: a local folder or a Hub dataset repo id.

    A local folder is read from its Parquet files with pyarrow, as they are on disk, and nothing is
    cached. ``datasets.load_dataset(folder)`` is not used for folders: its cache keys a local folder
    by its *name* (huggingface/datasets#2956), so after one folder called ``repo`` was loaded, every
    other folder called ``repo`` read back as the first — a 30,540-sample split came back as 30
    samples, silently. Reading the few Parquet files directly is also faster than building an Arrow
    cache. A Hub repo id goes through ``datasets.load_dataset``, whose cache is keyed by the repo's
    commit, so it stays exact. Image columns keep their stored ``{"bytes", "path"}`` cells.
    """
    folder = Path(source)
    if folder.is_dir():
        import pyarrow as pa
        import pyarrow.parquet as pq

        files = _config_files(folder, config)
        if not files or not all(files.values()):
            raise FileNotFoundError(f"{folder} has no Parquet files for the {config!r} config")
        return {split: pa.concat_tables([pq.read_table(f) for f in paths]).to_pandas()
                for split, paths in files.items()}
    import datasets

    return {split: part.to_pandas() for split, part in datasets.load_dataset(str(source), config, token=token).items()}


def _decode_image(cell: Any, folder: Path) -> np.ndarray:
    from PIL import Image

    if isinstance(cell, dict):  # the stored {"bytes", "path"} of a datasets Image column
        stored = cell.get("bytes")
        cell = Image.open(io.BytesIO(stored)) if stored is not None else Image.open(folder / cell["path"])
    return np.asarray(cell.convert("RGB"))


def bundle_from_folder(folder: str | os.PathLike[str], name: str | None = None, token: str | None = None) -> Bundle:
    """A public-only bundle from a published (or pulled) folder — or a Hub dataset repo id — read
    with :func:`read_config`: what a researcher trains on. Test labels are absent (NaN), as they are
    in the dataset."""
    folder = str(folder)
    ds = read_config(folder, SAMPLES, token)
    models = read_config(folder, MODELS, token)["train"]
    card = _card_text(folder, token)
    meta = json.loads(card.rsplit("<!-- routerboard: ", 1)[1].split(" -->", 1)[0])
    frames, q, c, images = [], [], [], []
    m = len(models)
    for split in ("train", "dev", "test"):
        cols = ds[split]
        frames.append(cols.drop(columns=[k for k in ("image",) if k in cols.columns]))
        for key, acc in (("quality", q), ("cost", c)):
            vals = cols[key].tolist()
            acc.append(np.array([v if v is not None else [np.nan] * m for v in vals], dtype=np.float64).reshape(-1, m))
        if "image" in cols.columns:  # a sample without an image (text-only) gets a blank one, as in the bundle
            images.append(np.stack([_decode_image(cell, Path(folder)) if cell is not None else _BLANK
                                    for cell in cols["image"]]) if len(cols) else np.zeros((0, *_BLANK.shape), np.uint8))
    samples = pd.concat(frames, ignore_index=True)
    track_name, track_version = meta["track"].split("@", 1)
    return Bundle(
        name=name or track_name, version=track_version,
        models=models_from_frame(models),
        samples=samples[list(SAMPLE_COLUMNS)],
        quality=np.concatenate(q), cost=np.concatenate(c), output_tokens=None,
        cost_bounds=CostBounds(*meta["cost_bounds"]),
        provenance=Provenance(source=f"pulled from {folder}", version=track_version, simulated=meta["simulated"]),
        has_hidden=False, images=np.concatenate(images) if images else None,
        unseen_datasets=tuple(meta.get("unseen_datasets", ())), calibration_ids=tuple(meta.get("calibration_ids", ())))


def push_folder(folder: str | os.PathLike[str], repo_id: str, token: str | None = None, private: bool = False) -> str:
    """Create (if needed) the dataset repo and upload the folder. Token: argument, ``HF_TOKEN`` or the
    stored login, as ``huggingface_hub`` resolves it."""
    from huggingface_hub import HfApi

    api = HfApi(token=token)
    api.create_repo(repo_id, repo_type="dataset", exist_ok=True, private=private)
    info = api.upload_folder(folder_path=str(folder), repo_id=repo_id, repo_type="dataset",
                             commit_message="Publish from routerboard")
    return str(getattr(info, "commit_url", info))


def pull(source: str, dest: str | os.PathLike[str] | None = None, token: str | None = None) -> Path:
    """Copy a local published folder, or download a Hub dataset repo, into the local cache."""
    dest = Path(dest) if dest else data_dir() / "hub" / source.strip("/").replace("/", "--")
    src = Path(source)
    if src.is_dir():
        if dest.exists():
            shutil.rmtree(dest)
        shutil.copytree(src, dest)
        return dest
    from huggingface_hub import snapshot_download

    return Path(snapshot_download(repo_id=source, repo_type="dataset", local_dir=str(dest), token=token))


# ------------------------------------------------------------------------------ results dataset
RESULT_COLUMNS = ("track", "submission_id", "router", "team", "type", "kind", "paper_url", "code_url", "uses_images",
                  "description", "submitted", "point", "accuracy", "cost", "total_cost", "rank_score", "is_best_point",
                  "rank_score_lo", "rank_score_hi", "nauc", "ps", "qnc", "gap_closed")


def results_frame(rows: list[dict[str, Any]], track: str) -> pd.DataFrame:
    """One row per entry and point, with the entry's metadata (aggregates only)."""
    out = []
    for r in rows:
        for p in r["points"]:
            best = p["point"] == r["point"]
            out.append({"track": track, "submission_id": r["submission_id"], "router": r["router"], "team": r["team"],
                        "type": r["type"], "kind": r["kind"], "paper_url": r["paper_url"], "code_url": r["code_url"],
                        "uses_images": bool(r["uses_images"]), "description": r.get("description", ""),
                        "submitted": r["submitted"], "point": p["point"], "accuracy": p["accuracy"],
                        "cost": p["cost"], "total_cost": p["total_cost"], "rank_score": p["rank_score"],
                        "is_best_point": best,
                        "rank_score_lo": r["rank_score_lo"] if best else None,
                        "rank_score_hi": r["rank_score_hi"] if best else None,
                        "nauc": r["nauc"], "ps": r["ps"], "qnc": r["qnc"], "gap_closed": r["gap_closed"]})
    return pd.DataFrame(out, columns=list(RESULT_COLUMNS))


def write_results_folder(frame: pd.DataFrame, out: str | os.PathLike[str], track: str) -> Path:
    out = Path(out)
    (out / "results").mkdir(parents=True, exist_ok=True)
    frame.to_parquet(out / "results" / SPLIT_FILE.format(split="train"), index=False)
    (out / "README.md").write_text(f"""---
license: cc-by-4.0
configs:
- config_name: default
  data_files:
  - split: train
    path: results/{SPLIT_FILE.format(split='train')}
tags:
- leaderboard
- routing
---

# Router leaderboard results — {track}

One row per leaderboard entry and operating point (aggregates over the hidden test split only):
accuracy, cost (USD per query) and total cost, rank score, the interval of the headline point, curve metrics.
{len(frame):,} rows, {frame['submission_id'].nunique() if len(frame) else 0:,} entries.
""", encoding="utf-8")
    return out
