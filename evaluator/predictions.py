"""Turning a table of routing decisions into model columns per operating point.

This is the one place that knows how ``sample_id`` / ``model_id`` / ``point`` map onto a bundle.
Problems are collected, not raised one by one, so a researcher sees everything wrong at once;
each problem has a stable code, a message that says how to fix it, and the first examples.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from evaluator.bundle import Bundle
from evaluator.errors import PredictionError
from evaluator.parts import TEST, parse_split
from evaluator.split import split_index

REQUIRED_COLUMNS: tuple[str, ...] = ("sample_id", "model_id")
POINT_COLUMN = "point"
DEFAULT_POINT = "default"
MAX_POINTS = 100
#: a point label is stored and shown (and names a released point, ``#12 · <label>``): short printable text
MAX_POINT_LABEL = 100
MAX_EXAMPLES = 5
#: control characters: never in a stored label or shown example (a NUL byte cannot even be stored by PostgreSQL)
CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a prediction file."""

    code: str
    message: str
    examples: list[Any] = field(default_factory=list)
    count: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "examples": self.examples, "count": self.count}

    def __str__(self) -> str:
        ex = f" (e.g. {', '.join(map(repr, self.examples))})" if self.examples else ""
        return f"[{self.code}] {self.message}{ex}"


@dataclass(frozen=True)
class Decisions:
    """Model column chosen for every sample of ``split``, one row per operating point."""

    split: str
    points: list[str]
    choices: np.ndarray  # (n_points, n_split) int64, aligned with split_arrays(bundle, split).rows


def _examples(values: Any) -> list[Any]:
    """The first few offending values, made safe to store and show: control characters (a NUL byte
    cannot even be stored by PostgreSQL) are written as escapes."""
    out = []
    for v in list(values)[:MAX_EXAMPLES]:
        v = v.item() if isinstance(v, np.generic) else v
        if isinstance(v, str) and CONTROL_CHARS.search(v):
            v = CONTROL_CHARS.sub(lambda m: f"\\x{ord(m.group()):02x}", v)
        out.append(v)
    return out


def closest_models(bundle: Bundle, name: str, n: int = 3) -> list[str]:
    """Valid model ids nearest to a misspelt name, for the error message."""
    names = {k: bundle.models[v].model_id for k, v in bundle.alias_map().items()}
    hits = difflib.get_close_matches(str(name).strip().lower(), list(names), n=n * 2, cutoff=0.5)
    seen: list[str] = []
    for h in hits:
        if names[h] not in seen:
            seen.append(names[h])
    return seen[:n]


def _ordered_points(labels: pd.Series) -> tuple[np.ndarray, list[str]]:
    """Factorize point labels in a canonical order — numeric when every label is a number (budgets,
    λ values), else lexicographic — so that a report never depends on the file's row order."""
    codes, uniques = pd.factorize(labels, sort=False)
    names = [str(u) for u in uniques]
    if not names:  # every label empty: reported as empty cells, nothing to order
        return np.full(len(codes), -1, dtype=np.int64), []
    numeric = pd.to_numeric(pd.Series(names, dtype=object), errors="coerce")
    if numeric.notna().all():
        order = np.lexsort((np.array(names, dtype=object).astype(str), numeric.to_numpy(dtype=float)))
    else:
        order = np.argsort(np.array(names, dtype=object).astype(str), kind="stable")
    rank = np.empty(len(names), dtype=np.int64)
    rank[order] = np.arange(len(names))
    return np.where(codes >= 0, rank[np.maximum(codes, 0)], -1), [names[i] for i in order]


def find_problems_and_decisions(bundle: Bundle, frame: pd.DataFrame, split: str) -> tuple[list[Problem], Decisions | None]:
    """Check ``frame`` against the split and build decisions; never raises on bad content."""
    problems: list[Problem] = []
    missing_cols = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    if missing_cols:
        problems.append(Problem(
            "missing_columns",
            f"the file lacks column(s) {missing_cols}; it needs 'sample_id' and 'model_id' "
            f"(and optionally 'point'), found {list(map(str, frame.columns))[:10]}",
            count=len(missing_cols)))
        return problems, None
    if len(frame) == 0:
        return [Problem("empty_file", "the file has a header but no rows; write one row per test sample")], None

    sa = split_index(bundle, split)
    ids = frame["sample_id"]
    bad_ids = ids.isna() | (ids.astype(str).str.strip() == "")
    if bad_ids.any():
        problems.append(Problem("empty_cell", "column 'sample_id' has empty cells; every row needs a sample id",
                                _examples(np.flatnonzero(bad_ids.to_numpy()) + 1), int(bad_ids.sum())))
    models = frame["model_id"]
    bad_models = models.isna() | (models.astype(str).str.strip() == "")
    if bad_models.any():
        problems.append(Problem("empty_cell", "column 'model_id' has empty cells; every row needs a model id",
                                _examples(np.flatnonzero(bad_models.to_numpy()) + 1), int(bad_models.sum())))

    if POINT_COLUMN in frame.columns:
        pts = frame[POINT_COLUMN]
        bad_pts = pts.isna() | (pts.astype(str).str.strip() == "")
        if bad_pts.any():
            problems.append(Problem("empty_cell", "column 'point' has empty cells; label every row's operating point "
                                    "or drop the column for a single-point file",
                                    _examples(np.flatnonzero(bad_pts.to_numpy()) + 1), int(bad_pts.sum())))
        point_labels = pts.astype(str).str.strip()
    else:
        point_labels = pd.Series(DEFAULT_POINT, index=frame.index)
    point_codes, point_names = _ordered_points(point_labels)
    bad_labels = [p for p in point_names if len(p) > MAX_POINT_LABEL or CONTROL_CHARS.search(p)]
    if bad_labels:
        problems.append(Problem("bad_point_label",
                                f"{len(bad_labels)} point label(s) are longer than {MAX_POINT_LABEL} characters or "
                                "contain control characters (such as a NUL byte); use short printable labels such as "
                                "a budget or a λ value", _examples(p[:40] for p in bad_labels), len(bad_labels)))
        return problems, None
    if len(point_names) > MAX_POINTS:
        problems.append(Problem("too_many_points",
                                f"the file has {len(point_names)} operating points; at most {MAX_POINTS} are allowed",
                                _examples(point_names[MAX_POINTS:]), len(point_names)))
        return problems, None

    id_str = ids.astype(str).str.strip()
    full_rows = bundle.row_index().get_indexer(id_str.to_numpy(dtype=object))
    pos_of_row = np.full(len(bundle.samples), -1, dtype=np.int64)
    pos_of_row[sa.rows] = np.arange(sa.n)
    pos = np.where(full_rows >= 0, pos_of_row[np.maximum(full_rows, 0)], -1)
    unknown = (pos < 0) & ~bad_ids.to_numpy()
    if unknown.any():
        in_other = (full_rows >= 0) & unknown
        uniq = pd.unique(id_str[unknown])
        msg = (f"{int(unknown.sum())} row(s) name sample ids that are not in the '{split}' split"
               + (f" ({int(in_other.sum())} of them belong to another split)" if in_other.any() else "")
               + "; use the ids of the split's samples exactly as published")
        problems.append(Problem("unknown_sample_id", msg, _examples(uniq), int(unknown.sum())))

    model_cols = bundle.resolve_models(models.astype(str))
    bad_model = (model_cols < 0) & ~bad_models.to_numpy()
    if bad_model.any():
        uniq = pd.unique(models[bad_model].astype(str))
        hints = "; ".join(f"{u!r} → did you mean {closest_models(bundle, u) or 'one of ' + str(bundle.model_ids[:3])}?"
                          for u in uniq[:MAX_EXAMPLES])
        problems.append(Problem("unknown_model_id",
                                f"{len(uniq)} model name(s) are not in the pool (aliases and any case accepted): {hints}",
                                _examples(uniq), int(bad_model.sum())))

    # Coverage is judged on the rows whose sample and point are known, whatever their model, so a
    # file with several mistakes gets all of them reported at once.
    placed = (pos >= 0) & (point_codes >= 0)
    key = point_codes.astype(np.int64) * sa.n + pos
    dup = pd.Series(key[placed]).duplicated(keep="first").to_numpy()
    if dup.any():
        rows_dup = np.flatnonzero(placed)[dup]
        ex = [f"{id_str.iat[r]} @ point {point_labels.iat[r]}" for r in rows_dup[:MAX_EXAMPLES]]
        problems.append(Problem("duplicate_sample_id",
                                f"{int(dup.sum())} (sample_id, point) pair(s) appear more than once; "
                                "give each sample exactly one model per point", ex, int(dup.sum())))
    P = len(point_names)
    covered = np.zeros((P, sa.n), dtype=bool)
    covered[point_codes[placed], pos[placed]] = True
    if not covered.all():
        miss = ~covered
        total = int(miss.sum())
        first_p = int(np.flatnonzero(miss.any(axis=1))[0])
        ex = sa.sample_ids(bundle, np.flatnonzero(miss[first_p])[:MAX_EXAMPLES])
        where = "" if P == 1 else f" (first at point {point_names[first_p]!r})"
        problems.append(Problem("missing_sample_id",
                                f"{total} (sample, point) decision(s) are missing{where}; every sample of the "
                                f"'{split}' split ({sa.n} samples) needs one row per point", ex, total))
    if problems:
        return problems, None

    choices = np.empty((P, sa.n), dtype=np.int64)
    choices[point_codes, pos] = model_cols
    return [], Decisions(split=split, points=[str(p) for p in point_names], choices=choices)


def restrict(bundle: Bundle, decisions: Decisions, split: str) -> Decisions:
    """The same decisions on a subset of their split's rows, e.g. a test file on ``"test:public"``."""
    outer = split_index(bundle, decisions.split).rows
    inner = split_index(bundle, split).rows
    pos = np.searchsorted(outer, inner)
    if inner.size and (pos.max() >= outer.size or not np.array_equal(outer[pos], inner)):
        raise ValueError(f"split {split!r} is not part of {decisions.split!r}")
    return Decisions(split=split, points=list(decisions.points), choices=decisions.choices[:, pos])


def unlabelled_choices(bundle: Bundle, decisions: Decisions) -> list[Problem]:
    """Decisions that route a sample to a model whose quality there is unknown: on a track with
    unseen models, train and dev label them only on the calibration set, so a dev file that routes
    to them elsewhere cannot be scored (its accuracy would be NaN). Empty for the test split, whose
    labels are all known where they are loaded at all."""
    if not bundle.unseen_models or parse_split(decisions.split)[0] == TEST or not bundle.labelled(decisions.split):
        return []
    rows = bundle.split_rows(decisions.split)
    unknown = np.isnan(np.asarray(bundle.quality[rows[None, :], decisions.choices], dtype=np.float64))
    if not unknown.any():
        return []
    point, pos = np.argwhere(unknown)[0]
    names = sorted({bundle.model_ids[j] for j in np.unique(decisions.choices[unknown])})
    return [Problem("unlabelled_model", f"{int(unknown.sum()):,} decision(s) on {decisions.split} route to model(s) "
                    f"{names} whose labels there are unknown: train and dev label this track's unseen models only on "
                    f"its {len(bundle.calibration_ids)} calibration samples. Score those models' picks on the test "
                    "split (submit), or route to the labelled pool on dev",
                    [f"{bundle.samples['sample_id'].iat[rows[pos]]} → {bundle.model_ids[decisions.choices[point, pos]]}"])]


def decisions_from_frame(bundle: Bundle, frame: pd.DataFrame, split: str) -> Decisions:
    """Decisions for ``split``, or :class:`PredictionError` listing every problem found."""
    problems, decisions = find_problems_and_decisions(bundle, frame, split)
    if decisions is not None and not problems:
        problems = unlabelled_choices(bundle, decisions)
    if problems or decisions is None:
        raise PredictionError("the predictions do not fit the track:\n" + "\n".join(f"  - {p}" for p in problems),
                              problems)
    return decisions
