"""The benchmark bundle: one versioned track (models, samples, oracle matrices) in memory and on disk.

On disk a bundle is a directory with two parts kept apart on purpose::

    <bundle>/public/  bundle.json  models.parquet  samples.parquet
                      quality.npy  cost.npy  output_tokens.npy    (train+dev rows only)
                      images.npy                                   (optional, synthetic tracks)
    <bundle>/hidden/  manifest.json quality.npy cost.npy output_tokens.npy  (test rows only)
                      parts.parquet                                (which test row is public/private)

Only a process that is handed the hidden directory can score the test split; everything that serves
the public (web app, Hub publishing) loads bundles with ``hidden=False``.

In memory, the matrices always have one row per sample in ``samples`` order; the rows of a part that
was not loaded are NaN, and ``has_hidden`` says whether the test rows are real.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterable

import numpy as np
import pandas as pd

from evaluator.errors import BundleError, HiddenPartMissing
from evaluator.parts import PARTS, TEST, assign_parts, check_parts, parse_split

#: 2: the public/private assignment of test rows moved from public/samples.parquet to hidden/.
#: 3: format 2 plus what train/dev never show (held-out datasets; new models with a card and a labelled
#:    calibration set): ``unseen_datasets`` and ``calibration_ids`` in bundle.json, ``unseen`` and
#:    ``card`` columns in models.parquet. Written only by bundles that have such things, so that every
#:    other bundle (``vlrb-sim`` included) keeps its format-2 bytes and older readers refuse, with a
#:    message, only the bundles they would misread.
FORMAT_VERSION = 3
#: the format a bundle without unseen datasets or models is written in
BASE_FORMAT_VERSION = 2
READABLE_FORMATS: tuple[int, ...] = (2, 3)
SPLITS: tuple[str, ...] = ("train", "dev", "test")
SAMPLE_COLUMNS: tuple[str, ...] = (
    "sample_id", "dataset", "family", "split", "question", "image_ref", "input_tokens",
)
#: VL-RouterBench's task families, by dataset name.
VLRB_FAMILIES: dict[str, str] = {
    **{d: "General" for d in ("MMBench", "MMStar", "MMMU", "RealWorldQA", "InfoVQA", "HallusionBench")},
    **{d: "STEM" for d in ("MathVista", "MathVision", "MathVerse", "AI2D")},
    **{d: "Charts & OCR/Document" for d in ("ChartQA", "DocVQA", "TextVQA", "OCRBench")},
}
OTHER_FAMILY = "Other"


def family_of(dataset: str) -> str:
    """The VL-RouterBench family of a dataset name (case-insensitive), else ``"Other"``."""
    lowered = {k.lower(): v for k, v in VLRB_FAMILIES.items()}
    return lowered.get(str(dataset).lower(), OTHER_FAMILY)


@dataclass(frozen=True)
class ModelInfo:
    """One model of the pool. Prices are USD per 1M tokens, as the peers publish them."""

    model_id: str
    display_name: str
    params: str = ""
    input_price: float = 0.0
    output_price: float = 0.0
    aliases: tuple[str, ...] = ()
    #: True for a model of the test pool that train and dev never label (beyond the calibration set)
    unseen: bool = False
    #: a short capability description, as a new model arrives with (its card; params and prices are above)
    card: str = ""

    def names(self) -> tuple[str, ...]:
        return (self.model_id, self.display_name, *self.aliases)


@dataclass(frozen=True)
class CostBounds:
    """The rank-score cost bounds (USD per query): the cheapest and the dearest cost that count."""

    cmin: float
    cmax: float

    def __post_init__(self) -> None:
        if not (np.isfinite(self.cmin) and np.isfinite(self.cmax)) or not 0 < self.cmin < self.cmax:
            raise BundleError(
                f"cost bounds must satisfy 0 < cmin < cmax, got cmin={self.cmin!r}, cmax={self.cmax!r}; "
                "fix cost_bounds.json or let them default to the cost matrix's positive min and max"
            )

    @classmethod
    def from_costs(cls, cost: np.ndarray) -> "CostBounds":
        """The peers' fallback: min and max of the cost matrix (ours: of its positive finite values)."""
        finite = cost[np.isfinite(cost) & (cost > 0)]
        if finite.size == 0:
            raise BundleError("cannot derive cost bounds: the cost matrix has no positive finite value")
        lo, hi = float(finite.min()), float(finite.max())
        if lo == hi:
            hi = lo * 2.0
        return cls(lo, hi)


@dataclass(frozen=True)
class Provenance:
    """Where a track came from. ``simulated`` is shown wherever the track is shown."""

    source: str
    version: str
    licence: str = "unknown"
    simulated: bool = False
    description: str = ""
    citation: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Bundle:
    """A track in memory. Build with :func:`evaluator.load_bundle` or the importers/generator."""

    name: str
    version: str
    models: list[ModelInfo]
    samples: pd.DataFrame
    quality: np.ndarray
    cost: np.ndarray
    output_tokens: np.ndarray | None
    cost_bounds: CostBounds
    provenance: Provenance
    has_hidden: bool = True
    images: np.ndarray | None = None
    #: precomputed input embeddings shipped with a track (e.g. VL-RouterBench's EMBEDDINGS/text and
    #: /vision), name → (n, d) float32 in sample order. Inputs, not labels: part of the public part.
    embeddings: dict[str, np.ndarray] = field(default_factory=dict)
    #: per sample, ``"public"`` or ``"private"`` for test rows and ``""`` elsewhere — hidden data,
    #: known only when the hidden part is loaded (None otherwise). A bundle built with its hidden
    #: part but no partition gets a random one from a secret seed (:func:`evaluator.parts.assign_parts`).
    parts: np.ndarray | None = None
    #: datasets whose samples are all in the test split (new workloads a router never trained on)
    unseen_datasets: tuple[str, ...] = ()
    #: public (dev) samples on which the unseen models are labelled: their calibration set. Elsewhere in
    #: train and dev, an unseen model's quality, cost and output tokens are NaN (unknown).
    calibration_ids: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        missing = [c for c in SAMPLE_COLUMNS if c not in self.samples.columns]
        if missing:
            raise BundleError(f"samples table lacks column(s) {missing}; expected {list(SAMPLE_COLUMNS)}")
        if "part" in self.samples.columns:
            raise BundleError("the samples table carries a 'part' column; which test row is public or private is "
                              "hidden data: pass it as Bundle(parts=...) so that it is stored with the hidden part")
        n, m = len(self.samples), len(self.models)
        for name, emb in self.embeddings.items():
            if emb.ndim != 2 or emb.shape[0] != n:
                raise BundleError(f"embeddings {name!r} have shape {emb.shape}, expected ({n}, d)")
        for label, arr in (("quality", self.quality), ("cost", self.cost), ("output_tokens", self.output_tokens)):
            if arr is not None and arr.shape != (n, m):
                raise BundleError(f"{label} matrix has shape {arr.shape}, expected ({n}, {m}) = (samples, models)")
        bad_splits = sorted(set(self.samples["split"].unique()) - set(SPLITS))
        if bad_splits:
            raise BundleError(f"unknown split name(s) {bad_splits}; a sample's split must be one of {list(SPLITS)}")
        if self.samples["sample_id"].duplicated().any():
            dup = self.samples.loc[self.samples["sample_id"].duplicated(), "sample_id"].head(5).tolist()
            raise BundleError(f"sample ids must be unique; repeated: {dup}")
        self.samples = self.samples.reset_index(drop=True)
        self._alias_map: dict[str, int] | None = None
        self._row_index: pd.Index | None = None
        self.unseen_datasets = tuple(str(d) for d in self.unseen_datasets)
        self.calibration_ids = tuple(str(i) for i in self.calibration_ids)
        problems = self._unseen_problems()
        if problems:
            raise BundleError("bad generalisation fields: " + "; ".join(problems))
        if not self.has_hidden:
            self.parts = None
        else:
            if self.parts is None:
                self.parts = assign_parts(self.samples)
            self.parts = np.asarray(self.parts, dtype=object)
            if self.parts.shape != (n,):
                raise BundleError(f"parts has shape {self.parts.shape}, expected ({n},): one label per sample")
            problems = check_parts(self.samples["split"].to_numpy(), self.parts)
            if problems:
                raise BundleError("bad public/private partition of the test split: " + "; ".join(problems))

    def _unseen_problems(self) -> list[str]:
        """What is wrong with ``unseen_datasets``, the unseen models and ``calibration_ids`` (empty when
        all is well): unseen datasets exist and have no train/dev sample; calibration samples are
        public and labelled for every model; an unseen model has no public label outside them."""
        out: list[str] = []
        split = self.samples["split"].to_numpy()
        names = self.samples["dataset"].to_numpy()
        missing = sorted(set(self.unseen_datasets) - set(names))
        if missing:
            out.append(f"unseen dataset(s) {missing} have no samples")
        seen_in_public = sorted(set(self.unseen_datasets) & set(names[split != "test"]))
        if seen_in_public:
            out.append(f"unseen dataset(s) {seen_in_public} have train/dev samples; an unseen dataset is test-only")
        unseen = [j for j, m in enumerate(self.models) if m.unseen]
        if self.calibration_ids and not unseen:
            out.append("calibration_ids are given but no model is unseen")
        if not unseen:
            return out
        at = self.row_index().get_indexer(list(self.calibration_ids))
        if (at < 0).any():
            out.append(f"calibration ids not among the samples: {[i for i, k in zip(self.calibration_ids, at) if k < 0][:5]}")
            return out
        if (split[at] == "test").any():
            out.append("calibration samples must be public (train or dev), not test")
        public = np.flatnonzero(split != "test")
        calib = np.isin(public, at)
        for label, arr in (("quality", self.quality), ("cost", self.cost), ("output_tokens", self.output_tokens)):
            if arr is None:
                continue
            cells = np.asarray(arr[np.ix_(public, unseen)], dtype=np.float64)  # only those columns
            if np.isfinite(cells[~calib]).any():
                out.append(f"{label} of an unseen model is known on train/dev samples outside the calibration set; "
                           "set it to NaN there (train and dev must not label unseen models)")
            if calib.any() and not np.isfinite(cells[calib]).all():
                out.append(f"{label} of an unseen model is missing on a calibration sample")
        return out

    # ----------------------------------------------------------------- identity
    @property
    def unseen_models(self) -> list[str]:
        """Ids of the models train and dev do not label (beyond the calibration set), in pool order."""
        return [m.model_id for m in self.models if m.unseen]

    @property
    def generalisation(self) -> bool:
        """Whether the track holds anything unseen in train/dev (then it is written in format 3)."""
        return bool(self.unseen_datasets or self.unseen_models)

    @property
    def model_ids(self) -> list[str]:
        return [m.model_id for m in self.models]

    @property
    def track_id(self) -> str:
        return f"{self.name}@{self.version}"

    def alias_map(self) -> dict[str, int]:
        """Lower-cased model id, display name or alias → column; the first model to claim a name wins."""
        if self._alias_map is None:
            mapping: dict[str, int] = {}
            for j, model in enumerate(self.models):
                for name in model.names():
                    mapping.setdefault(str(name).strip().lower(), j)
            self._alias_map = mapping
        return self._alias_map

    def resolve_models(self, names: Iterable[Any]) -> np.ndarray:
        """Column of each model name (aliases, any case); -1 where the name is unknown.

        Works on the distinct names only, so a 3M-row file costs one hash lookup per distinct name.
        """
        series = pd.Series(names, dtype=object) if not isinstance(names, pd.Series) else names
        codes, uniques = pd.factorize(series, use_na_sentinel=True)
        amap = self.alias_map()
        table = np.array([amap.get(str(u).strip().lower(), -1) for u in uniques] + [-1], dtype=np.int64)
        return table[codes]  # code -1 (missing) picks the trailing -1

    def row_index(self) -> pd.Index:
        if self._row_index is None:
            self._row_index = pd.Index(self.samples["sample_id"].astype(str).to_numpy(dtype=object))
        return self._row_index

    # ------------------------------------------------------------------ splits
    def split_rows(self, split: str) -> np.ndarray:
        """Rows of a split, or of a part of the test split (``"test:public"``, ``"test:private"``)."""
        base, part = parse_split(split)
        if base not in SPLITS or (part is not None and base != TEST):
            raise BundleError(f"unknown split {split!r}; choose one of {list(SPLITS)} (or test:public, test:private)")
        mask = (self.samples["split"] == base).to_numpy(dtype=bool)
        if part is not None:
            self.require_labels(split)
            assert self.parts is not None
            mask = mask & (self.parts == part)
        return np.flatnonzero(mask)

    def labelled(self, split: str) -> bool:
        return parse_split(split)[0] != TEST or self.has_hidden

    def require_labels(self, split: str) -> None:
        if not self.labelled(split):
            raise HiddenPartMissing(
                f"scoring split 'test' of track {self.track_id} needs its hidden part (test matrices), "
                "which this process was not given. Score 'dev' locally, or run this where the bundle's "
                "hidden/ directory is present (pass --hidden DIR / hidden=PATH)."
            )

    def subset(self, rows: np.ndarray) -> "Bundle":
        """A bundle of only ``rows`` (same models and bounds), versioned by the ids it keeps — for
        fast experiments and tests on a realistic slice of a track."""
        rows = np.sort(np.asarray(rows))
        digest = _ids_digest(self.samples["sample_id"].iloc[rows])[:10]
        take = lambda a: None if a is None else np.asarray(a[rows])  # noqa: E731
        kept_datasets = set(self.samples["dataset"].iloc[rows])
        kept_ids = set(self.samples["sample_id"].iloc[rows].astype(str))
        return Bundle(name=self.name, version=f"{self.version}+subset-{digest}", models=self.models,
                      samples=self.samples.iloc[rows].reset_index(drop=True), quality=take(self.quality),
                      cost=take(self.cost), output_tokens=take(self.output_tokens), cost_bounds=self.cost_bounds,
                      provenance=self.provenance, has_hidden=self.has_hidden, images=take(self.images),
                      embeddings={k: v[rows] for k, v in self.embeddings.items()}, parts=take(self.parts),
                      unseen_datasets=tuple(d for d in self.unseen_datasets if d in kept_datasets),
                      calibration_ids=tuple(i for i in self.calibration_ids if i in kept_ids))

    def summary(self) -> dict[str, Any]:
        counts = self.samples["split"].value_counts()
        return {
            "track": self.track_id,
            "models": len(self.models),
            "samples": len(self.samples),
            "datasets": int(self.samples["dataset"].nunique()),
            "families": int(self.samples["family"].nunique()),
            "splits": {s: int(counts.get(s, 0)) for s in SPLITS},
            "unseen_datasets": list(self.unseen_datasets),
            "unseen_models": self.unseen_models,
            "calibration_samples": len(self.calibration_ids),
            "simulated": self.provenance.simulated,
            "hidden_part_loaded": self.has_hidden,
        }

    # --------------------------------------------------------------- disk I/O
    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the bundle as ``<path>/public`` and (when loaded) ``<path>/hidden``, atomically.

        The directory is assembled beside its destination and renamed into place, so a crash never
        leaves a half-written bundle that a later load would take for a whole one.
        """
        dest = Path(path)
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", dir=dest.parent))
        try:
            self._write_public(tmp / "public")
            if self.has_hidden:
                self._write_hidden(tmp / "hidden")
            if dest.exists():
                shutil.rmtree(dest)
            os.replace(tmp, dest)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return dest

    def _write_public(self, out: Path) -> None:
        out.mkdir(parents=True)
        public = self.samples["split"].to_numpy() != "test"
        meta = {
            "format_version": FORMAT_VERSION if self.generalisation else BASE_FORMAT_VERSION,
            "name": self.name,
            "version": self.version,
            "cost_bounds": asdict(self.cost_bounds),
            "provenance": asdict(self.provenance),
            "has_output_tokens": self.output_tokens is not None,
            "has_images": self.images is not None,
            "embeddings": sorted(self.embeddings),
        }
        if self.generalisation:  # format 3 only: a format-2 bundle's bundle.json keeps its bytes
            meta["unseen_datasets"] = list(self.unseen_datasets)
            meta["calibration_ids"] = list(self.calibration_ids)
        (out / "bundle.json").write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        _write_parquet(models_table(self.models), out / "models.parquet")
        _write_parquet(self.samples.loc[:, list(SAMPLE_COLUMNS)], out / "samples.parquet")
        np.save(out / "quality.npy", np.ascontiguousarray(self.quality[public]))
        np.save(out / "cost.npy", np.ascontiguousarray(self.cost[public]))
        if self.output_tokens is not None:
            np.save(out / "output_tokens.npy", np.ascontiguousarray(self.output_tokens[public]))
        if self.images is not None:
            np.save(out / "images.npy", self.images)
        for name, emb in self.embeddings.items():
            np.save(out / f"embeddings_{name}.npy", np.asarray(emb, dtype=np.float32))

    def _write_hidden(self, out: Path) -> None:
        out.mkdir(parents=True)
        test = self.samples["split"].to_numpy() == "test"
        np.save(out / "quality.npy", np.ascontiguousarray(self.quality[test]))
        np.save(out / "cost.npy", np.ascontiguousarray(self.cost[test]))
        if self.output_tokens is not None:
            np.save(out / "output_tokens.npy", np.ascontiguousarray(self.output_tokens[test]))
        assert self.parts is not None
        _write_parts(self.samples, self.parts, out)
        manifest = {"track": self.track_id, "n_test": int(test.sum()),
                    "test_ids_sha256": _ids_digest(self.samples.loc[test, "sample_id"])}
        (out / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def _write_parquet(frame: pd.DataFrame, path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(frame, preserve_index=False)
    # No pandas metadata blob: the bytes then depend only on the data, not on the pandas version.
    table = table.replace_schema_metadata(None)
    pq.write_table(table, path, compression="zstd")


def models_table(models: list[ModelInfo]) -> pd.DataFrame:
    """models.parquet; the ``unseen`` and ``card`` columns only when a model is unseen (format 3)."""
    frame = pd.DataFrame({
        "model_id": [m.model_id for m in models],
        "display_name": [m.display_name for m in models],
        "params": [m.params for m in models],
        "input_price": [float(m.input_price) for m in models],
        "output_price": [float(m.output_price) for m in models],
        "aliases": [list(m.aliases) for m in models],
    })
    if any(m.unseen for m in models):
        frame["unseen"] = [bool(m.unseen) for m in models]
        frame["card"] = [m.card for m in models]
    return frame


def models_from_frame(mf: pd.DataFrame) -> list[ModelInfo]:
    """The inverse of :func:`models_table` (a format-2 frame has no ``unseen``/``card``: all seen)."""
    unseen = mf["unseen"].astype(bool).tolist() if "unseen" in mf.columns else [False] * len(mf)
    cards = mf["card"].fillna("").astype(str).tolist() if "card" in mf.columns else [""] * len(mf)
    return [ModelInfo(model_id=str(r.model_id), display_name=str(r.display_name), params=str(r.params),
                      input_price=float(r.input_price), output_price=float(r.output_price),
                      aliases=tuple(str(a) for a in r.aliases), unseen=u, card=c)
            for r, u, c in zip(mf.itertuples(index=False), unseen, cards)]


def _ids_digest(ids: pd.Series) -> str:
    return hashlib.sha256("\n".join(ids.astype(str)).encode("utf-8")).hexdigest()


def _require(path: Path, what: str) -> Path:
    if not path.exists():
        raise BundleError(f"bundle file missing: {path} ({what}). Re-create the bundle or check the path.")
    return path


def read_bundle(path: str | os.PathLike[str], hidden: str | os.PathLike[str] | bool | None = None,
                images: bool = True) -> Bundle:
    """Read a bundle directory. ``hidden``: None = ``<path>/hidden`` if present, False = never, or a
    directory. ``images=False`` skips the (memory-mapped) images, which scoring never needs."""
    root = Path(path)
    public = root / "public"
    if not public.is_dir():
        raise BundleError(
            f"{root} is not a benchmark bundle: it has no public/ directory. "
            "Pass a bundle directory (made by `routerboard import …`) or a track name such as 'vlrb-sim'."
        )
    meta = json.loads(_require(public / "bundle.json", "track metadata").read_text(encoding="utf-8"))
    if meta.get("format_version") == 1:
        raise BundleError(f"{root} is a format-1 bundle, which published the public/private assignment of its test "
                          f"rows in public/samples.parquet; run `routerboard upgrade-bundle {root}` to move it into "
                          "hidden/ (format 2), or rebuild the bundle")
    if meta.get("format_version") not in READABLE_FORMATS:
        raise BundleError(f"{public/'bundle.json'}: format_version {meta.get('format_version')!r}, "
                          f"this evaluator reads {list(READABLE_FORMATS)}; rebuild the bundle")
    models = models_from_frame(pd.read_parquet(_require(public / "models.parquet", "model pool")))
    samples = pd.read_parquet(_require(public / "samples.parquet", "samples"))
    is_test = samples["split"].to_numpy() == "test"
    n, m = len(samples), len(models)

    def assemble(name: str, dtype_from: np.ndarray | None = None) -> np.ndarray:
        pub = np.load(_require(public / name, name), allow_pickle=False)
        if pub.shape != (int((~is_test).sum()), m):
            raise BundleError(f"{public/name} has shape {pub.shape}, expected ({int((~is_test).sum())}, {m})")
        full = np.full((n, m), np.nan, dtype=np.result_type(pub.dtype, np.float32))
        full[~is_test] = pub
        return full

    quality = assemble("quality.npy")
    cost = assemble("cost.npy")
    output_tokens = assemble("output_tokens.npy") if meta.get("has_output_tokens") else None

    hidden_dir: Path | None
    if hidden is False:
        hidden_dir = None
    elif hidden is None or hidden is True:
        hidden_dir = root / "hidden" if (root / "hidden").is_dir() else None
        if hidden is True and hidden_dir is None:
            raise HiddenPartMissing(f"{root} has no hidden/ directory with the test matrices")
    else:
        hidden_dir = Path(hidden)
        if not hidden_dir.is_dir():
            raise HiddenPartMissing(f"hidden part directory {hidden_dir} does not exist")

    has_hidden = False
    parts = None
    if hidden_dir is not None:
        manifest = json.loads(_require(hidden_dir / "manifest.json", "hidden manifest").read_text(encoding="utf-8"))
        digest = _ids_digest(samples.loc[is_test, "sample_id"])
        if manifest.get("test_ids_sha256") != digest:
            raise BundleError(f"hidden part {hidden_dir} belongs to another track or version "
                              f"({manifest.get('track')!r}); its test ids do not match {root}")
        for name, arr in (("quality.npy", quality), ("cost.npy", cost), ("output_tokens.npy", output_tokens)):
            if arr is None:
                continue
            part = np.load(_require(hidden_dir / name, f"hidden {name}"), allow_pickle=False)
            if part.shape != (int(is_test.sum()), m):
                raise BundleError(f"{hidden_dir/name} has shape {part.shape}, expected ({int(is_test.sum())}, {m})")
            arr[is_test] = part
        parts = _read_parts(hidden_dir, samples, is_test)
        has_hidden = True

    pixels = None
    if images and meta.get("has_images"):
        pixels = np.load(_require(public / "images.npy", "images"), allow_pickle=False, mmap_mode="r")
    embeddings = {name: np.load(_require(public / f"embeddings_{name}.npy", f"{name} embeddings"), allow_pickle=False)
                  for name in meta.get("embeddings", [])}
    prov = meta["provenance"]
    return Bundle(
        name=meta["name"], version=meta["version"], models=models, samples=samples,
        quality=quality, cost=cost, output_tokens=output_tokens,
        cost_bounds=CostBounds(**meta["cost_bounds"]),
        provenance=Provenance(**prov), has_hidden=has_hidden, images=pixels, embeddings=embeddings, parts=parts,
        unseen_datasets=tuple(meta.get("unseen_datasets", ())), calibration_ids=tuple(meta.get("calibration_ids", ())),
    )


def _write_parts(samples: pd.DataFrame, parts: np.ndarray, hidden_dir: Path) -> None:
    """``hidden/parts.parquet``: the test samples, in order, with their part."""
    test = samples["split"].to_numpy() == TEST
    _write_parquet(pd.DataFrame({"sample_id": samples.loc[test, "sample_id"].astype(str).to_numpy(),
                                 "part": np.asarray(parts)[test].astype(str)}), hidden_dir / "parts.parquet")


def _read_parts(hidden_dir: Path, samples: pd.DataFrame, is_test: np.ndarray) -> np.ndarray:
    frame = pd.read_parquet(_require(hidden_dir / "parts.parquet", "public/private partition"))
    ids = samples.loc[is_test, "sample_id"].astype(str).to_numpy()
    if list(frame.columns) != ["sample_id", "part"] or not np.array_equal(frame["sample_id"].astype(str).to_numpy(), ids):
        raise BundleError(f"{hidden_dir / 'parts.parquet'} does not list the test samples in order; rebuild the bundle")
    parts = np.full(len(samples), "", dtype=object)
    parts[is_test] = frame["part"].astype(str).to_numpy()
    return parts


def upgrade_bundle(path: str | os.PathLike[str]) -> Path:
    """Bring a format-1 bundle to format 2 in place: its ``part`` column leaves public/samples.parquet
    for hidden/parts.parquet. If any test row lacks a valid label, the whole partition is drawn anew
    (:func:`evaluator.parts.assign_parts`, secret seed). The hidden part must be present (it receives it)."""
    root = Path(path)
    public, hidden = root / "public", root / "hidden"
    meta_path = _require(public / "bundle.json", "track metadata")
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    if meta.get("format_version") in READABLE_FORMATS:
        return root
    if meta.get("format_version") != 1:
        raise BundleError(f"{root}: cannot upgrade format_version {meta.get('format_version')!r}; rebuild the bundle")
    if not (hidden / "manifest.json").exists():
        raise HiddenPartMissing(f"{root} has no hidden/ part: the partition must be stored there. Upgrade where the "
                                "hidden part is (or rebuild the bundle)")
    samples = pd.read_parquet(public / "samples.parquet")
    is_test = samples["split"].to_numpy() == TEST
    given = samples["part"].astype(str).to_numpy() if "part" in samples.columns else np.full(len(samples), "")
    parts = np.where(is_test, given, "").astype(object)
    if not np.isin(parts[is_test], PARTS).all():
        parts = assign_parts(samples.drop(columns=["part"], errors="ignore"))
    _write_parts(samples, parts, hidden)
    _write_parquet(samples.loc[:, list(SAMPLE_COLUMNS)], public / "samples.parquet")
    meta["format_version"] = BASE_FORMAT_VERSION  # format 1 knew nothing unseen
    meta_path.write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return root
