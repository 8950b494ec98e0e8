"""Validation of an uploaded prediction file: decisions ready for scoring, or every problem found.

``validate`` is the single check used by the app's instant feedback, the CLI's ``validate``, the
submit path and (again, inside the sandbox) the worker. It needs only the public part of a track,
and it never raises on bad content: each problem has a code, a message that says how to fix it,
and the first offending examples.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from evaluator import Bundle, Decisions, Problem, find_problems_and_decisions
from evaluator.bundle import SPLITS
from evaluator.predictions import MAX_EXAMPLES, MAX_POINTS, POINT_COLUMN, REQUIRED_COLUMNS
from evaluator.split import split_index
from submissions.formats import FileFormatError, Limits, detect_format, parse_predictions

log = logging.getLogger(__name__)
ALLOWED_COLUMNS: tuple[str, ...] = (*REQUIRED_COLUMNS, POINT_COLUMN)


@dataclass
class ValidationResult:
    ok: bool
    problems: list[Problem] = field(default_factory=list)
    decisions: Decisions | None = None
    n_rows: int = 0
    points: list[str] = field(default_factory=list)
    file_format: str = ""
    gzip: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "problems": [p.to_dict() for p in self.problems], "n_rows": self.n_rows,
                "points": list(self.points), "format": self.file_format, "gzip": self.gzip}

    def summary(self) -> str:
        if self.ok:
            return (f"OK: {self.n_rows:,} rows, {len(self.points)} point(s) "
                    f"({', '.join(self.points[:5])}{'…' if len(self.points) > 5 else ''})")
        return "\n".join(str(p) for p in self.problems)


def _fail(problem: Problem, **kw: Any) -> ValidationResult:
    return ValidationResult(ok=False, problems=[problem], **kw)


def _textual(v: Any) -> bool:
    """A cell that is text or missing."""
    return isinstance(v, str) or v is None or v is pd.NA or (isinstance(v, float) and v != v)


def _column_problems(frame: pd.DataFrame) -> list[Problem]:
    problems: list[Problem] = []
    extra = [c for c in frame.columns if c not in ALLOWED_COLUMNS]
    if extra:
        problems.append(Problem("extra_columns", f"unexpected column(s) {extra[:MAX_EXAMPLES]}; a prediction file has "
                                f"only {list(ALLOWED_COLUMNS)} (put router details in the submission form)",
                                extra[:MAX_EXAMPLES], len(extra)))
    if len(set(frame.columns)) != len(frame.columns):
        dup = sorted({c for c in frame.columns if list(frame.columns).count(c) > 1})
        problems.append(Problem("duplicate_columns", f"column(s) {dup} appear more than once", dup, len(dup)))
    for col in REQUIRED_COLUMNS:
        if col not in frame.columns or isinstance(frame[col], pd.DataFrame):
            continue
        kind = pd.api.types.infer_dtype(frame[col], skipna=True)
        if kind not in ("string", "empty"):
            textual = np.fromiter((_textual(v) for v in frame[col]), dtype=bool,
                                  count=len(frame))  # error path only
            bad = frame[col][~textual]
            problems.append(Problem(
                "non_string_id", f"column {col!r} must hold text ids; found {kind} values — quote them or write "
                f"them as strings (e.g. \"MMBench-00012\", not 12)",
                [repr(v) for v in bad.head(MAX_EXAMPLES)], int(bad.size)))
    if POINT_COLUMN in frame.columns and not isinstance(frame[POINT_COLUMN], pd.DataFrame):
        kind = pd.api.types.infer_dtype(frame[POINT_COLUMN], skipna=True)
        if kind not in ("string", "empty", "integer", "floating", "mixed-integer-float", "decimal"):
            problems.append(Problem("bad_point", f"column 'point' must hold labels (text or numbers); found {kind}",
                                    [repr(v) for v in frame[POINT_COLUMN].head(MAX_EXAMPLES)], len(frame)))
    return problems


def row_limit(bundle: Bundle, split: str, limits: Limits = Limits()) -> Limits:
    """``limits`` with the most rows a file for ``split`` can hold: one per sample and point."""
    if limits.max_rows is not None or split not in SPLITS:
        return limits
    return replace(limits, max_rows=int(split_index(bundle, split).n) * MAX_POINTS)


def _format_problem(exc: FileFormatError) -> Problem:
    return Problem(exc.code, str(exc), exc.examples[:MAX_EXAMPLES], exc.count)


def validate(bundle: Bundle, data: bytes, filename: str, split: str = "test",
             limits: Limits = Limits()) -> ValidationResult:
    """Check ``data`` (named ``filename``) against ``split`` of ``bundle``. Never raises on bad content.

    A file may hold at most (samples of the split) × MAX_POINTS rows unless ``limits.max_rows``
    says otherwise; larger files are refused before they are decoded."""
    try:
        fmt, gz = detect_format(filename)
    except FileFormatError as exc:
        return _fail(_format_problem(exc))
    info = {"file_format": fmt, "gzip": gz}
    try:
        frame = parse_predictions(data, fmt, gz, row_limit(bundle, split, limits))
    except FileFormatError as exc:
        return _fail(_format_problem(exc), **info)
    try:
        problems = _column_problems(frame)
        if problems:
            return ValidationResult(ok=False, problems=problems, n_rows=len(frame), **info)
        frame = frame.copy()
        for col in REQUIRED_COLUMNS:
            if col in frame.columns:
                frame[col] = frame[col].where(frame[col].isna(), frame[col].astype(str))
        if POINT_COLUMN in frame.columns:
            frame[POINT_COLUMN] = frame[POINT_COLUMN].where(frame[POINT_COLUMN].isna(),
                                                            frame[POINT_COLUMN].astype(str))
        problems, decisions = find_problems_and_decisions(bundle, frame, split)
    except MemoryError:
        return _fail(Problem("file_too_large", "the file needs more memory to check than allowed; submit fewer points"),
                     **info)
    except Exception:  # a bug here must not turn a user's upload into a traceback
        log.exception("validation crashed on %s", filename)
        return _fail(Problem("internal_error", "the file could not be checked because of an error on our side; "
                             "it has been logged — please report it with the file"), **info)
    if problems or decisions is None:
        return ValidationResult(ok=False, problems=problems, n_rows=len(frame), **info)
    return ValidationResult(ok=True, decisions=decisions, n_rows=len(frame), points=decisions.points, **info)
