"""Prediction-file formats: CSV, JSONL and Parquet, optionally gzip-compressed.

Files are parsed by pandas/pyarrow in one vectorised pass, never row by row, and every id column
comes back as text so that ``"007"`` stays ``"007"``.
"""

from __future__ import annotations

import gzip
import io
from pathlib import Path

import pandas as pd

FORMATS: tuple[str, ...] = ("csv", "jsonl", "parquet")


class FileFormatError(ValueError):
    """The file cannot be read as the format it claims (message says how to fix it)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def detect_format(name: str) -> tuple[str, bool]:
    """(format, gzip'd) from a file name such as ``preds.jsonl.gz``."""
    lower = name.lower()
    gz = lower.endswith(".gz")
    stem = lower[:-3] if gz else lower
    for fmt, exts in (("csv", (".csv",)), ("jsonl", (".jsonl", ".ndjson", ".json")), ("parquet", (".parquet", ".pq"))):
        if stem.endswith(exts):
            return fmt, gz
    raise FileFormatError("unknown_format", f"cannot tell the format of {name!r}: name it .csv, .jsonl or .parquet "
                          "(optionally .csv.gz / .jsonl.gz)")


def parse_predictions(data: bytes, fmt: str, gz: bool = False) -> pd.DataFrame:
    """Parse raw bytes as ``fmt``; raises :class:`FileFormatError` with a readable message."""
    if gz:
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as exc:
            raise FileFormatError("bad_compression", f"the file is not valid gzip ({exc}); compress it with gzip "
                                  "or upload it uncompressed") from None
    if not data.strip():
        raise FileFormatError("empty_file", "the file is empty; write a header and one row per sample")
    try:
        if fmt == "csv":
            frame = pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False, na_values=[""],
                                encoding="utf-8", encoding_errors="strict")
        elif fmt == "jsonl":
            frame = pd.read_json(io.BytesIO(data), lines=True, dtype=False, encoding="utf-8")
        elif fmt == "parquet":
            frame = pd.read_parquet(io.BytesIO(data))
        else:
            raise FileFormatError("unknown_format", f"unknown format {fmt!r}; use one of {list(FORMATS)}")
    except FileFormatError:
        raise
    except UnicodeDecodeError as exc:
        raise FileFormatError("bad_encoding", f"the file is not UTF-8 text (byte {exc.start}); save it as UTF-8") from None
    except Exception as exc:  # pandas/pyarrow raise many types for malformed input
        raise FileFormatError("unreadable", f"the file cannot be read as {fmt.upper()}: {str(exc)[:200]}") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame


def read_predictions(path: str | Path) -> pd.DataFrame:
    """Read a prediction file from disk, format from its name."""
    p = Path(path)
    fmt, gz = detect_format(p.name)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise FileFormatError("unreadable", f"cannot read {p}: {exc.strerror}") from None
    return parse_predictions(data, fmt, gz)
