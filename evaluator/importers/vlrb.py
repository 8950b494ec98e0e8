"""VL-RouterBench step-3 layout → bundle.

Layout read (see ``shared/reference/peer-formats.md``)::

    data/matrices/Y.npz  (key 'arr_0' | 'data' | first)     data/matrices/C.npy
    data/matrices/cost_bounds.json (optional: {"cmin", "cmax"}; else min/max of C)
    data/matrices/output_tokens.npy (optional, ours: per sample and model, output tokens, same shape
                                    as C; with meta.parquet's ``input_tokens`` it makes the track re-priceable)
    data/registry/meta.parquet  (one row per matrix row: sample_id, dataset, …)
    SPLITS/train.jsonl SPLITS/dev.jsonl SPLITS/test.jsonl  (objects with "sample_id")
    config/models.yaml  ("models:" mapping, file order = matrix column order; optional aliases)
    config/pricing.yaml (optional; $ per 1M tokens per model: {input, output} or
                         {input_price, output_price} / {prompt, completion}, under "models:",
                         "pricing:" or at top level)
    BENCHMARKS/**/<dataset>_samples.jsonl (optional: sample_id, question|prompt, image|image_path)
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from evaluator.bundle import SPLITS, Bundle, CostBounds, ModelInfo, Provenance, family_of
from evaluator.errors import BundleError, ImportFormatError
from evaluator.parts import PARTS, assign_parts
from evaluator.pricing import BOUNDS_SOURCE, PriceTableError, parse_price_table


def _need(root: Path, rel: str) -> Path:
    path = root / rel
    if not path.exists():
        raise ImportFormatError(f"VL-RouterBench import: missing {rel} under {root}; "
                                "point at the repository root that holds data/, SPLITS/ and config/")
    return path


def _load_y(path: Path) -> np.ndarray:
    with np.load(path, allow_pickle=False) as npz:
        keys = list(npz.keys())
        if not keys:
            raise ImportFormatError(f"{path} holds no array")
        key = "arr_0" if "arr_0" in keys else "data" if "data" in keys else keys[0]
        return np.asarray(npz[key], dtype=np.float64)


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    out = []
    with path.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ImportFormatError(f"{path}:{lineno}: not valid JSON ({exc.msg})") from None
            if isinstance(obj, str):
                obj = {"sample_id": obj}
            if not isinstance(obj, dict):
                raise ImportFormatError(f"{path}:{lineno}: expected a JSON object naming a sample id")
            out.append(obj)
    return out


def _sample_id(obj: dict[str, Any], where: str) -> str:
    for key in ("sample_id", "id", "uid"):
        if key in obj:
            return str(obj[key])
    raise ImportFormatError(f"{where}: a line has no 'sample_id' field (keys: {sorted(obj)[:8]})")


def _models(root: Path) -> list[ModelInfo]:
    path = _need(root, "config/models.yaml")
    doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    entries = doc.get("models") if isinstance(doc, dict) else None
    if not isinstance(entries, dict) or not entries:
        raise ImportFormatError(f"{path}: expected a non-empty 'models:' mapping of canonical model ids")
    models = []
    for model_id, spec in entries.items():
        spec = spec if isinstance(spec, dict) else {}
        aliases = spec.get("aliases") or []
        if isinstance(aliases, str):
            aliases = [aliases]
        models.append(ModelInfo(
            model_id=str(model_id), display_name=str(spec.get("display_name") or spec.get("name") or model_id),
            params=str(spec.get("params", "")), input_price=float(spec.get("input_price", 0.0)),
            output_price=float(spec.get("output_price", 0.0)), aliases=tuple(str(a) for a in aliases)))
    return models


def _with_prices(root: Path, models: list[ModelInfo]) -> list[ModelInfo]:
    prices = _prices(root, models)
    return [dataclasses.replace(m, input_price=prices[m.model_id][0], output_price=prices[m.model_id][1])
            if m.model_id in prices else m for m in models]


def _prices(root: Path, models: list[ModelInfo]) -> dict[str, tuple[float, float]]:
    """Prices of ``config/pricing.yaml`` when present (read by :func:`evaluator.pricing.parse_price_table`,
    the parser every price table goes through), by model id."""
    path = root / "config" / "pricing.yaml"
    if not path.exists():
        return {}
    doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if isinstance(doc, dict) and "models" not in doc and "pricing" not in doc:
        doc = {"models": doc}  # a bare mapping of model id → prices
    try:
        table = parse_price_table(doc, models, where=str(path), complete=False)
    except PriceTableError as exc:
        raise ImportFormatError(str(exc)) from None
    return {mid: (i, o) for mid, i, o in zip(table.model_ids, table.input, table.output)}


def _benchmark_texts(root: Path) -> dict[str, tuple[str, str]]:
    out: dict[str, tuple[str, str]] = {}
    bench = root / "BENCHMARKS"
    if not bench.is_dir():
        return out
    for path in sorted(bench.rglob("*_samples.jsonl")):
        for obj in _read_jsonl(path):
            sid = _sample_id(obj, str(path))
            question = next((str(obj[k]) for k in ("question", "prompt", "text") if k in obj), "")
            image = obj.get("image") or obj.get("image_path") or obj.get("images") or ""
            if isinstance(image, list):
                image = image[0] if image else ""
            out[sid] = (question, str(image))
    return out


def _embeddings(root: Path, ids: pd.Series) -> dict[str, np.ndarray]:
    """``EMBEDDINGS/<kind>/*.parquet`` → (n, d) arrays in meta order. A file holds ``sample_id`` and
    either one list column (``embedding``/``vector``/``emb``) or numeric columns, one per dimension."""
    out: dict[str, np.ndarray] = {}
    base = root / "EMBEDDINGS"
    if not base.is_dir():
        return out
    for kind_dir in sorted(p for p in base.iterdir() if p.is_dir()):
        files = sorted(kind_dir.glob("*.parquet"))
        if not files:
            continue
        frame = pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)
        if "sample_id" not in frame.columns:
            raise ImportFormatError(f"EMBEDDINGS/{kind_dir.name}: no 'sample_id' column in {files[0].name}")
        list_col = next((c for c in ("embedding", "vector", "emb") if c in frame.columns), None)
        if list_col is not None:
            matrix = np.stack(frame[list_col].to_numpy()).astype(np.float32)
        else:
            numeric = frame.drop(columns=["sample_id"]).select_dtypes("number")
            if numeric.shape[1] == 0:
                raise ImportFormatError(f"EMBEDDINGS/{kind_dir.name}: no embedding column (an 'embedding' list or "
                                        "numeric columns)")
            matrix = numeric.to_numpy(np.float32)
        where = pd.Index(frame["sample_id"].astype(str)).get_indexer(ids)
        if (where < 0).any():
            raise ImportFormatError(f"EMBEDDINGS/{kind_dir.name}: {int((where < 0).sum())} sample(s) of meta.parquet "
                                    f"have no embedding, e.g. {list(ids[where < 0][:5])}")
        out[kind_dir.name] = matrix[where]
    return out


def import_vlrb(root: str | Path, *, name: str = "vlrb", version: str = "1.0") -> Bundle:
    """Read a VL-RouterBench checkout (after step 3) into a bundle; every sample must be in a split."""
    root = Path(root)
    if not root.is_dir():
        raise ImportFormatError(f"VL-RouterBench import: {root} is not a directory")
    Y = _load_y(_need(root, "data/matrices/Y.npz"))
    C = np.load(_need(root, "data/matrices/C.npy"), allow_pickle=False).astype(np.float64)
    meta = pd.read_parquet(_need(root, "data/registry/meta.parquet"))
    models = _models(root)
    for col in ("sample_id", "dataset"):
        if col not in meta.columns:
            raise ImportFormatError(f"data/registry/meta.parquet lacks column {col!r} (has {list(meta.columns)[:10]})")
    if Y.ndim != 2 or Y.shape != C.shape:
        raise ImportFormatError(f"shape mismatch: Y.npz is {Y.shape}, C.npy is {C.shape}; both must be (samples, models)")
    if Y.shape[0] != len(meta):
        raise ImportFormatError(f"shape mismatch: Y has {Y.shape[0]} rows but meta.parquet has {len(meta)}; "
                                "meta must have one row per matrix row, in the same order")
    if Y.shape[1] != len(models):
        raise ImportFormatError(f"shape mismatch: Y has {Y.shape[1]} model columns but config/models.yaml "
                                f"lists {len(models)} models")
    models = _with_prices(root, models)
    if not np.isfinite(Y).all() or (Y < 0).any() or (Y > 1).any():
        raise ImportFormatError("Y.npz: quality values must be finite and in [0, 1]")
    if not np.isfinite(C).all() or (C < 0).any():
        raise ImportFormatError("C.npy: costs must be finite and ≥ 0")

    ids = meta["sample_id"].astype(str)
    split = pd.Series("", index=meta.index, dtype=object)
    split_dir = _need(root, "SPLITS")
    files = sorted(p for p in split_dir.glob("*.jsonl"))
    unknown = [p.stem for p in files if p.stem not in SPLITS]
    if unknown:
        raise ImportFormatError(f"SPLITS/: unknown split(s) {unknown}; only {list(SPLITS)} are allowed")
    pos = pd.Index(ids)
    for s in SPLITS:
        path = split_dir / f"{s}.jsonl"
        if not path.exists():
            raise ImportFormatError(f"missing SPLITS/{s}.jsonl under {root}")
        sids = [_sample_id(o, str(path)) for o in _read_jsonl(path)]
        rows = pos.get_indexer(sids)
        if (rows < 0).any():
            bad = [sid for sid, r in zip(sids, rows) if r < 0][:5]
            raise ImportFormatError(f"SPLITS/{s}.jsonl names {int((rows < 0).sum())} sample id(s) not in "
                                    f"meta.parquet, e.g. {bad}")
        clash = split.iloc[rows] != ""
        if clash.any():
            raise ImportFormatError(f"SPLITS/{s}.jsonl: {int(clash.sum())} sample(s) are already in another split, "
                                    f"e.g. {list(ids.iloc[rows[clash.to_numpy()]][:5])}")
        split.iloc[rows] = s
    if (split == "").any():
        raise ImportFormatError(f"{int((split == '').sum())} sample(s) of meta.parquet are in no split, "
                                f"e.g. {list(ids[split == ''][:5])}")

    texts = _benchmark_texts(root)
    family = meta["family"].astype(str) if "family" in meta.columns else meta["dataset"].map(family_of)
    samples = pd.DataFrame({
        "sample_id": ids.to_numpy(),
        "dataset": meta["dataset"].astype(str).to_numpy(),
        "family": family.to_numpy(),
        "split": split.astype(str).to_numpy(),
        "question": [texts.get(s, ("", ""))[0] for s in ids],
        "image_ref": [texts.get(s, ("", ""))[1] for s in ids],
        "input_tokens": (meta["input_tokens"].fillna(0).astype(np.int64).to_numpy()
                         if "input_tokens" in meta.columns else np.zeros(len(meta), dtype=np.int64)),
    })
    bounds_path = root / "data" / "matrices" / "cost_bounds.json"
    if bounds_path.exists():
        try:
            raw = json.loads(bounds_path.read_text(encoding="utf-8"))
            bounds = CostBounds(float(raw["cmin"]), float(raw["cmax"]))
        except (KeyError, ValueError, TypeError, json.JSONDecodeError, BundleError) as exc:
            raise ImportFormatError(f"{bounds_path}: expected {{\"cmin\": float, \"cmax\": float}} with "
                                    f"0 < cmin < cmax ({exc})") from None
    else:
        bounds = CostBounds.from_costs(C)
    tokens_path = root / "data" / "matrices" / "output_tokens.npy"
    output_tokens = None
    if tokens_path.exists():
        output_tokens = np.load(tokens_path, allow_pickle=False).astype(np.float64)
        if output_tokens.shape != C.shape:
            raise ImportFormatError(f"{tokens_path}: shape {output_tokens.shape}, expected {C.shape} like C.npy")
        if not np.isfinite(output_tokens).all() or (output_tokens < 0).any():
            raise ImportFormatError(f"{tokens_path}: output token counts must be finite and ≥ 0")
        if "input_tokens" not in meta.columns:
            raise ImportFormatError(f"{tokens_path} is given but meta.parquet has no 'input_tokens' column; "
                                    "costs are re-priced from both")
    return Bundle(
        name=name, version=version, models=models, samples=samples, quality=Y, cost=C, output_tokens=output_tokens,
        cost_bounds=bounds,
        provenance=Provenance(source=f"VL-RouterBench step-3 outputs imported from {root.name}", version=version,
                              licence="see the source benchmark", simulated=False,
                              description="Imported with `routerboard import vlrb`.",
                              citation="VL-RouterBench, arXiv:2512.23562",
                              extra={BOUNDS_SOURCE: "file" if bounds_path.exists() else "costs"}),
        has_hidden=True, embeddings=_embeddings(root, ids), parts=_parts(meta, samples),
    )


def _parts(meta: pd.DataFrame, samples: pd.DataFrame) -> np.ndarray:
    """The source's public/private assignment (a ``part`` column of meta.parquet) where it gives one,
    else a random split stratified by dataset, from a secret seed (:func:`evaluator.parts.assign_parts`)."""
    if "part" not in meta.columns:
        return assign_parts(samples)
    is_test = samples["split"].to_numpy() == "test"
    given = meta["part"].astype(str).str.strip().str.lower().to_numpy()
    bad = is_test & ~np.isin(given, PARTS)
    if bad.any():
        raise ImportFormatError(f"meta.parquet: column 'part' must be 'public' or 'private' on test samples; "
                                f"{int(bad.sum())} are not, e.g. {list(samples['sample_id'][bad][:5])}")
    return np.where(is_test, given, "").astype(object)
