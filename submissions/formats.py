"""Prediction-file formats: CSV, JSONL and Parquet, optionally gzip-compressed.

Files are parsed by pyarrow in one vectorised pass, never row by row, and each is read whole or
refused with a specific code — never half-read, never shifted:

* a gzip file is read across all its members (as ``gzip``/pandas do); bytes after the last member
  are refused;
* a CSV row with more or fewer fields than the header is refused (``ragged_rows``), never shifted
  into an implicit index or padded;
* a JSONL object with a repeated key is refused (``duplicate_key``), never "last one wins";
* strings stay strings (no date or number guessing of CSV cells or JSON strings).

Limits are enforced before the expensive step: the raw size before anything is parsed; the
decompressed size *while* decompressing (a small gzip bomb stops at the limit); the row count from
a line count (CSV/JSONL) or the file's metadata (Parquet) before decoding; and the decoded size of
Parquet's dictionary-encoded strings before they are expanded.
"""

from __future__ import annotations

import codecs
import io
import re
import zlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

FORMATS: tuple[str, ...] = ("csv", "jsonl", "parquet")
_CHUNK = 1 << 20
_BLOCK = 1 << 20        # pyarrow's block: the longest CSV row / JSON line it reads
_SCAN = 16 << 20        # bytes looked at per step when counting lines or checking UTF-8
_EXAMPLES = 5
_SPACE = re.compile(rb"\s*")


class FileFormatError(ValueError):
    """The file cannot be read as the format it claims (message says how to fix it)."""

    def __init__(self, code: str, message: str, examples: list[Any] | None = None, count: int = 0) -> None:
        super().__init__(message)
        self.code = code
        self.examples = list(examples or [])
        self.count = count


@dataclass(frozen=True)
class Limits:
    max_bytes: int = 256 << 20
    max_decompressed_bytes: int = 1024 << 20
    #: most rows a file may hold (validation sets it to the split's samples × the most points);
    #: None = no row limit
    max_rows: int | None = field(default=None)


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


# ------------------------------------------------------------------------------------ gzip
def _too_large_decompressed(limit: int) -> FileFormatError:
    return FileFormatError("decompressed_too_large", f"the file decompresses to more than {limit >> 20} MB, the "
                           "limit; upload fewer points or split the file")


def _gunzip(data: bytes, limit: int) -> bytearray:
    """Decompress every gzip member of ``data`` (as ``gzip``/pandas read them), at most ``limit``
    bytes in all, ``_CHUNK`` at a time; refuse as soon as the limit is exceeded, and refuse a
    truncated stream or bytes after the last member instead of ignoring them."""
    view = memoryview(data)
    out = bytearray()
    pos, members = 0, 0
    try:
        while True:
            while pos < len(view) and view[pos] == 0:  # zero padding after a member, as gzip allows
                pos += 1
            if pos >= len(view):
                break
            if view[pos:pos + 2] != b"\x1f\x8b":
                if members == 0:
                    raise zlib.error("no gzip header")
                raise FileFormatError("bad_compression", f"the file has {len(view) - pos:,} byte(s) after the end of "
                                      f"its gzip stream (from byte {pos:,}); compress the whole file again with gzip",
                                      [pos], len(view) - pos)
            members += 1
            d = zlib.decompressobj(16 + zlib.MAX_WBITS)
            while not d.eof:
                piece = view[pos:pos + _CHUNK]
                chunk = d.decompress(piece, _CHUNK)
                # at the end of a member the rest of the piece is in unused_data (and may also be
                # left in unconsumed_tail); before it, what was not read is in unconsumed_tail
                pos += len(piece) - len(d.unused_data if d.eof else d.unconsumed_tail)
                out += chunk
                if len(out) > limit:
                    raise _too_large_decompressed(limit)
                if not chunk and not len(piece):
                    raise FileFormatError("bad_compression", "the gzip stream is truncated; compress the file again")
    except zlib.error as exc:
        raise FileFormatError("bad_compression", f"the file is not valid gzip ({exc}); compress it with gzip "
                              "or upload it uncompressed") from None
    return out  # not copied to bytes: pyarrow reads it in place


# ------------------------------------------------------------------------------- text checks
def _check_utf8(data: bytes) -> None:
    if data.isascii():
        return
    decoder = codecs.getincrementaldecoder("utf-8")()
    view = memoryview(data)
    for start in range(0, len(view), _SCAN):
        try:
            decoder.decode(view[start:start + _SCAN], final=start + _SCAN >= len(view))
        except UnicodeDecodeError as exc:
            raise FileFormatError("bad_encoding", f"the file is not UTF-8 text (invalid byte near offset "
                                  f"{max(0, start + exc.start):,}); save it as UTF-8") from None


def count_lines(data: bytes) -> int:
    """Lines holding at least one character (a line ends at \\n, \\r\\n or \\r, as both CSV and
    JSON readers end them). Vectorised, ``_SCAN`` bytes at a time."""
    total, prev_is_end = 0, True
    for start in range(0, len(data), _SCAN):
        a = np.frombuffer(data, dtype=np.uint8, count=min(_SCAN, len(data) - start), offset=start)
        end = (a == 10) | (a == 13)
        starts = ~end
        starts[1:] &= end[:-1]
        starts[0] &= prev_is_end
        total += int(np.count_nonzero(starts))
        prev_is_end = bool(end[-1])
    return total


def _too_many_rows(n: int, limit: int, what: str = "rows") -> FileFormatError:
    return FileFormatError("too_many_rows", f"the file has {n:,} {what}; at most {limit:,} are allowed (one row per "
                           "sample of the split and point, at most 100 points) — remove repeated or extra rows",
                           count=n)


# ------------------------------------------------------------------------------------- CSV
def _read_csv(buf: pa.Buffer) -> pa.Table:
    import pyarrow.csv as pcsv

    bad: list[Any] = []
    n_bad = 0

    def on_bad_row(row: Any) -> str:
        nonlocal n_bad
        n_bad += 1
        if len(bad) < _EXAMPLES:
            bad.append(row)
        return "skip"

    read = pcsv.ReadOptions(use_threads=False, block_size=_BLOCK)  # one thread: rows keep their numbers
    parse = pcsv.ParseOptions(newlines_in_values=True, invalid_row_handler=on_bad_row)
    # Every column is text, exactly as written: no number or date guessing ("007" stays "007").
    names = pcsv.open_csv(pa.BufferReader(buf), read_options=read, parse_options=parse).schema.names
    n_bad, bad[:] = 0, []
    table = pcsv.read_csv(pa.BufferReader(buf), read_options=read, parse_options=parse, convert_options=pcsv.ConvertOptions(
        column_types={n: pa.string() for n in names}, strings_can_be_null=True, null_values=[""],
        quoted_strings_can_be_null=True))
    if n_bad:
        first = bad[0]
        raise FileFormatError(
            "ragged_rows", f"{n_bad:,} row(s) have a different number of fields than the header's "
            f"{first.expected_columns} ({', '.join(names[:5])}); e.g. line {first.number} has {first.actual_columns}. "
            "Every row needs exactly one value per header column: remove the extra field (often an index column "
            "or a trailing comma) or add the missing one",
            [f"line {r.number}: {r.text[:80]}" for r in bad], n_bad)
    return table


# ------------------------------------------------------------------------------------ JSONL
_DUPLICATE = re.compile(r"Column\((/[^)]*)\) was specified twice in row (\d+)")
_CHANGED = re.compile(r"Column\((/?[^)]*)\) changed from (\w+) to (\w+) in row (\d+)")


def _jsonl_line_of_row(data: bytes, row: int) -> int:
    """File line of the ``row``-th (0-based) JSON object, for a message (error path only)."""
    seen = -1
    for lineno, line in enumerate(io.BytesIO(data), 1):
        if line.strip():
            seen += 1
            if seen == row:
                return lineno
    return 0


def _jsonl_error(buf: pa.Buffer, data: bytes, message: str) -> FileFormatError | None:
    """A specific refusal for a duplicated key or a column mixing types, with the line where it
    first happens (pyarrow numbers rows per block, so the file is parsed again as one block)."""
    import pyarrow.json as pjson

    dup, changed = _DUPLICATE.search(message), _CHANGED.search(message)
    if dup is None and changed is None:
        return None
    try:
        pjson.read_json(pa.BufferReader(buf), read_options=pjson.ReadOptions(use_threads=False,
                                                                              block_size=min(max(len(buf) + 1, _BLOCK), 2**31 - 1)))
    except pa.ArrowInvalid as exc:
        message = str(exc)
        dup, changed = _DUPLICATE.search(message) or dup, _CHANGED.search(message) or changed
    if dup is not None:
        key = dup.group(1)[1:]
        line = _jsonl_line_of_row(data, int(dup.group(2)))
        return FileFormatError("duplicate_key", f"line {line} has the key {key!r} more than once; JSON readers "
                               "would silently keep only the last value. Write each key once per line",
                               [f"line {line}: {key}"], 1)
    assert changed is not None
    path, was, now, row = changed.groups()
    column = path.strip("/").split("/")[0]
    line = _jsonl_line_of_row(data, int(row))
    where = f"from line {line} on"
    if not column:
        return FileFormatError("wrong_format", f"line {line} is a JSON {now}, not an object; a JSONL prediction file "
                               "has one JSON object per line", [f"line {line}"], 1)
    if column in ("sample_id", "model_id"):
        return FileFormatError("non_string_id", f"column {column!r} must hold text ids; it mixes {was} and {now} "
                               f"values ({where}) — write every id as a string (e.g. \"MMBench-00012\", not 12)",
                               [f"line {line}"], 1)
    if column == "point":
        return FileFormatError("bad_point", f"column 'point' mixes {was} and {now} values ({where}); write every "
                               "point label the same way (all text or all numbers)", [f"line {line}"], 1)
    return FileFormatError("extra_columns", f"unexpected column {column!r} (it mixes {was} and {now} values, "
                           f"{where}); a prediction file has only sample_id, model_id and point",
                           [column], 1)


def _read_jsonl(buf: pa.Buffer, data: bytes) -> pa.Table:
    import pyarrow.json as pjson

    read = pjson.ReadOptions(use_threads=True, block_size=_BLOCK)
    try:
        table = pjson.read_json(pa.BufferReader(buf), read_options=read)
        dated = [f.name for f in table.schema if pa.types.is_temporal(f.type)]
        if dated:  # pyarrow reads date-like strings as timestamps: read those columns again as text
            order = table.column_names
            table = pjson.read_json(pa.BufferReader(buf), read_options=read, parse_options=pjson.ParseOptions(
                explicit_schema=pa.schema([(n, pa.string()) for n in dated]))).select(order)
    except pa.ArrowInvalid as exc:
        specific = _jsonl_error(buf, data, str(exc))
        if specific is not None:
            raise specific from None
        raise
    return table


# ---------------------------------------------------------------------------------- Parquet
def _plain_type(t: pa.DataType) -> bool:
    """A type whose cells are single text, number, boolean or null values."""
    if pa.types.is_dictionary(t):
        return _plain_type(t.value_type)
    return (pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t)
            or pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t)
            or pa.types.is_boolean(t) or pa.types.is_null(t))


def _text_type(t: pa.DataType) -> bool:
    t = t.value_type if pa.types.is_dictionary(t) else t
    return pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t)


def _bad_types(schema: pa.Schema) -> FileFormatError | None:
    bad = [(f.name, str(f.type)) for f in schema if not _plain_type(f.type)]
    if not bad:
        return None
    return FileFormatError(
        "bad_column_type", f"column(s) {[n for n, _ in bad][:_EXAMPLES]} have type(s) "
        f"{[t for _, t in bad][:_EXAMPLES]}; a prediction file holds one plain value per cell — text for "
        "sample_id and model_id, text or a number for point (no lists, structs, dates or binary)",
        [f"{n}: {t}" for n, t in bad][:_EXAMPLES], len(bad))


def _bad_parquet(exc: BaseException) -> FileFormatError:
    detail = " ".join(str(exc).split())[:200]
    return FileFormatError("bad_parquet", f"the Parquet file is damaged or not readable ({detail}); write it again "
                           "(e.g. pandas DataFrame.to_parquet) and upload the new file")


def _read_parquet(buf: pa.Buffer, limits: Limits) -> pa.Table:
    import pyarrow.parquet as pq

    try:
        footer = pq.ParquetFile(pa.BufferReader(buf))
        meta, schema = footer.metadata, footer.schema_arrow
    except MemoryError:
        raise
    except Exception as exc:  # pyarrow raises several types for a damaged footer
        raise _bad_parquet(exc) from None
    # Refused from the footer alone, before a single page is decoded.
    if limits.max_rows is not None and meta.num_rows > limits.max_rows:
        raise _too_many_rows(meta.num_rows, limits.max_rows)
    problem = _bad_types(schema)
    if problem is not None:
        raise problem
    try:
        # (per row group: a damaged column-chunk entry can abort the process when it is read)
        stored = sum(meta.row_group(g).total_byte_size for g in range(meta.num_row_groups))
    except Exception as exc:
        raise _bad_parquet(exc) from None
    if stored > limits.max_decompressed_bytes:
        raise _too_large_decompressed(limits.max_decompressed_bytes)
    # Text columns are read dictionary-encoded, so that few distinct long strings repeated over
    # many rows are measured before they are expanded.
    texts = [f.name for f in schema if _text_type(f.type)]
    try:
        table = pq.ParquetFile(pa.BufferReader(buf), read_dictionary=texts,
                               page_checksum_verification=True).read(use_pandas_metadata=True)
        table.validate(full=True)  # e.g. invalid UTF-8 in a damaged page
    except MemoryError:
        raise
    except Exception as exc:
        raise _bad_parquet(exc) from None
    return table


# ------------------------------------------------------------------------------- the table
def _decoded_bytes(table: pa.Table) -> int:
    """Bytes the table takes once dictionary-encoded columns are expanded to plain values."""
    total = 0
    for column in table.columns:
        for chunk in column.chunks:
            if pa.types.is_dictionary(chunk.type) and _text_type(chunk.type):
                lengths = pc.binary_length(chunk.dictionary)
                total += chunk.indices.nbytes + int(pc.sum(pc.take(lengths, chunk.indices)).as_py() or 0)
            else:
                total += chunk.nbytes
    return total


def _to_frame(table: pa.Table, limits: Limits) -> pd.DataFrame:
    if limits.max_rows is not None and table.num_rows > limits.max_rows:
        raise _too_many_rows(table.num_rows, limits.max_rows)
    problem = _bad_types(table.schema)
    if problem is not None:
        raise problem
    if _decoded_bytes(table) > limits.max_decompressed_bytes:
        raise _too_large_decompressed(limits.max_decompressed_bytes)
    # Categories would change how validation sees the cells: expand them (size checked above).
    for i, f in enumerate(table.schema):
        if pa.types.is_dictionary(f.type):
            table = table.set_column(i, f.name, table.column(i).cast(f.type.value_type))
    return table.to_pandas()


def parse_predictions(data: bytes, fmt: str, gz: bool = False, limits: Limits = Limits()) -> pd.DataFrame:
    """Parse raw bytes as ``fmt``; raises :class:`FileFormatError` with a readable message."""
    if len(data) > limits.max_bytes:
        raise FileFormatError("file_too_large", f"the file is {len(data) / 2**20:.1f} MB; the limit is "
                              f"{limits.max_bytes >> 20} MB (gzip it, or submit fewer points)")
    if gz:
        data = _gunzip(data, limits.max_decompressed_bytes)
    elif data[:2] == b"\x1f\x8b":
        raise FileFormatError("wrong_format", f"the file is gzip-compressed but not named .gz; name it .{fmt}.gz")
    elif len(data) > limits.max_decompressed_bytes:
        raise _too_large_decompressed(limits.max_decompressed_bytes)
    if _SPACE.match(data).end() == len(data):
        raise FileFormatError("empty_file", "the file is empty; write a header and one row per sample")
    if fmt not in FORMATS:
        raise FileFormatError("unknown_format", f"unknown format {fmt!r}; use one of {list(FORMATS)}")
    buf = pa.py_buffer(data)
    if fmt in ("csv", "jsonl"):
        if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
            raise FileFormatError("bad_encoding", "the file is UTF-16 text; save it as UTF-8")
        _check_utf8(data)
        bom = 3 if data[:3] == b"\xef\xbb\xbf" else 0
        buf = buf[bom:]
        start = _SPACE.match(data, bom).end()
        first = data[start:start + 1]
        if fmt == "csv" and first in (b"{", b"["):
            raise FileFormatError("wrong_format", "the file looks like JSON, not CSV; name it .jsonl")
        if fmt == "jsonl" and first != b"{":
            raise FileFormatError("wrong_format", "a JSONL file has one JSON object per line, starting with '{'; "
                                  "this one does not (is it CSV? name it .csv)")
        if limits.max_rows is not None:
            header = 1 if fmt == "csv" else 0
            # a cheap bound first (line ends of any style), the exact count only if it is over
            if data.count(b"\n") + data.count(b"\r") > limits.max_rows + header + 1:
                lines = count_lines(data)
                if lines - header > limits.max_rows:
                    raise _too_many_rows(lines - header, limits.max_rows, "lines" if header == 0 else "rows (lines "
                                         "after the header)")
    elif data[:4] != b"PAR1":
        raise FileFormatError("wrong_format", "the file is not Parquet (no PAR1 magic bytes); "
                              "name it after its real format (.csv or .jsonl)")
    try:
        if fmt == "csv":
            table = _read_csv(buf)
        elif fmt == "jsonl":
            table = _read_jsonl(buf, data)
        else:
            table = _read_parquet(buf, limits)
        frame = _to_frame(table, limits)
    except FileFormatError:
        raise
    except MemoryError:
        raise FileFormatError("file_too_large", "the file needs more memory to parse than allowed; "
                              "submit fewer or shorter rows") from None
    except Exception as exc:  # pyarrow raises several types for malformed input
        if fmt == "parquet":  # e.g. damaged pandas metadata in the footer
            raise _bad_parquet(exc) from None
        detail = " ".join(str(exc).split())[:200]
        if "straddl" in detail:
            detail = f"a row is longer than {_BLOCK >> 20} MB"
        raise FileFormatError("wrong_format", f"the file cannot be read as {fmt.upper()}: {detail}") from None
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
