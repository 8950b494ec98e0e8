"""Prediction-file formats: CSV, JSONL and Parquet, optionally gzip-compressed.

Files are parsed by pandas/pyarrow in one vectorised pass, never row by row. Limits are enforced
while reading: the raw size before anything is parsed, and the decompressed size *while*
decompressing, so a small gzip bomb stops at the limit instead of filling memory.
"""

from __future__ import annotations

import io
import zlib
from dataclasses import dataclass

import pandas as pd

FORMATS: tuple[str, ...] = ("csv", "jsonl", "parquet")
_CHUNK = 1 << 20


class FileFormatError(ValueError):
    """The file cannot be read as the format it claims (message says how to fix it)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Limits:
    max_bytes: int = 256 << 20
    max_decompressed_bytes: int = 1024 << 20


def detect_format(name: str) -> tuple[str, bool]:
    """(format, gzip'd) from a file name such as ``preds.jsonl.gz``."""
    lower = name.lower().strip()
    gz = lower.endswith(".gz")
    stem = lower[:-3] if gz else lower
    for fmt, exts in (("csv", (".csv",)), ("jsonl", (".jsonl", ".ndjson")), ("parquet", (".parquet", ".pq"))):
        if stem.endswith(exts):
            return fmt, gz
    raise FileFormatError("unknown_format", f"cannot tell the format of {name!r}: name it .csv, .jsonl or .parquet "
                          "(optionally .csv.gz / .jsonl.gz)")


def _gunzip(data: bytes, limit: int) -> bytes:
    """Decompress at most ``limit`` bytes, ``_CHUNK`` at a time, refusing as soon as it is exceeded."""
    d = zlib.decompressobj(16 + zlib.MAX_WBITS)
    out = bytearray()
    pending = data
    try:
        while not d.eof:
            chunk = d.decompress(pending, _CHUNK)
            out += chunk
            if len(out) > limit:
                raise FileFormatError("decompressed_too_large",
                                      f"the file decompresses to more than {limit >> 20} MB, the limit; "
                                      "upload fewer points or split the file")
            pending = d.unconsumed_tail
            if not pending and not chunk:
                raise FileFormatError("bad_compression", "the gzip stream is truncated; compress the file again")
    except zlib.error as exc:
        raise FileFormatError("bad_compression", f"the file is not valid gzip ({exc}); compress it with gzip "
                              "or upload it uncompressed") from None
    return bytes(out)


def parse_predictions(data: bytes, fmt: str, gz: bool = False, limits: Limits = Limits()) -> pd.DataFrame:
    """Parse raw bytes as ``fmt``; raises :class:`FileFormatError` with a readable message."""
    if len(data) > limits.max_bytes:
        raise FileFormatError("file_too_large", f"the file is {len(data) / 2**20:.1f} MB; the limit is "
                              f"{limits.max_bytes >> 20} MB (gzip it, or submit fewer points)")
    if gz:
        data = _gunzip(data, limits.max_decompressed_bytes)
    elif data[:2] == b"\x1f\x8b":
        raise FileFormatError("wrong_format", f"the file is gzip-compressed but not named .gz; name it .{fmt}.gz")
    if not data.strip():
        raise FileFormatError("empty_file", "the file is empty; write a header and one row per sample")
    if fmt in ("csv", "jsonl"):
        if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
            raise FileFormatError("bad_encoding", "the file is UTF-16 text; save it as UTF-8")
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise FileFormatError("bad_encoding", f"the file is not UTF-8 text (invalid byte at offset {exc.start}); "
                                  "save it as UTF-8") from None
        if data[:3] == b"\xef\xbb\xbf":
            data = data[3:]
    try:
        if fmt == "csv":
            if data.lstrip()[:1] in (b"{", b"["):
                raise FileFormatError("wrong_format", "the file looks like JSON, not CSV; name it .jsonl")
            frame = pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False, na_values=[""],
                                encoding="utf-8", engine="c")
        elif fmt == "jsonl":
            if data.lstrip()[:1] != b"{":
                raise FileFormatError("wrong_format", "a JSONL file has one JSON object per line, starting with '{'; "
                                      "this one does not (is it CSV? name it .csv)")
            frame = pd.read_json(io.BytesIO(data), lines=True, dtype=False, encoding="utf-8")
        elif fmt == "parquet":
            if data[:4] != b"PAR1":
                raise FileFormatError("wrong_format", "the file is not Parquet (no PAR1 magic bytes); "
                                      "name it after its real format (.csv or .jsonl)")
            frame = pd.read_parquet(io.BytesIO(data))
        else:
            raise FileFormatError("unknown_format", f"unknown format {fmt!r}; use one of {list(FORMATS)}")
    except FileFormatError:
        raise
    except MemoryError:
        raise FileFormatError("file_too_large", "the file needs more memory to parse than allowed") from None
    except Exception as exc:  # pandas/pyarrow raise many types for malformed input
        raise FileFormatError("wrong_format", f"the file cannot be read as {fmt.upper()}: "
                              f"{' '.join(str(exc).split())[:200]}") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame


def read_predictions(path, limits: Limits = Limits()) -> pd.DataFrame:
    """Read a prediction file from disk, format from its name."""
    from pathlib import Path

    p = Path(path)
    fmt, gz = detect_format(p.name)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise FileFormatError("unreadable", f"cannot read {p}: {exc.strerror}") from None
    return parse_predictions(data, fmt, gz, limits)
