"""Every way a prediction file can be wrong: a real bad file each, its own code, a message that
names the problem, no exception — and, through the service, nothing stored changes but one new
FAILED submission."""

import csv as csv_module
import datetime
import gzip
import io
import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from conftest import make_settings
from helpers import make_bundle
from submissions.formats import FileFormatError, Limits, parse_predictions
from submissions.models import Submission
from submissions.service import SubmissionMeta, SubmissionService
from submissions.validation import validate

N = 12
Y = np.tile([[1, 0, 1], [0, 1, 1]], (N // 2, 1))
C = np.tile([[0.01, 0.1, 0.5]], (N, 1))


@pytest.fixture(scope="module")
def tiny():
    return make_bundle(Y, C, splits=["train"] * 4 + ["test"] * (N - 4), bounds=(0.01, 0.5),
                       model_ids=["small-vlm", "mid-vlm", "big-vlm"], aliases={"big-vlm": ("BigVLM-78B",)})


def good_frame(bundle, points=None):
    ids = bundle.samples.loc[bundle.samples.split == "test", "sample_id"].tolist()
    frame = pd.DataFrame({"sample_id": ids, "model_id": ["small-vlm", "big-vlm"] * (len(ids) // 2)})
    if points:
        frame = pd.concat([frame.assign(point=p) for p in points], ignore_index=True)
    return frame


def csv(frame):
    return frame.to_csv(index=False).encode()


def parquet(frame):
    buf = io.BytesIO()
    frame.to_parquet(buf)
    return buf.getvalue()


def jsonl(frame):
    return frame.to_json(orient="records", lines=True).encode()


def test_good_files_in_every_format(tiny):
    f = good_frame(tiny, points=["0.1", "1"])
    for name, data in (("p.csv", csv(f)), ("p.jsonl", jsonl(f)), ("p.parquet", parquet(f)),
                       ("p.csv.gz", gzip.compress(csv(f))), ("p.jsonl.gz", gzip.compress(jsonl(f))),
                       ("p.csv", b"\xef\xbb\xbf" + csv(f))):
        r = validate(tiny, data, name)
        assert r.ok, (name, r.summary())
        assert r.points == ["0.1", "1"] and r.n_rows == 16


def _bad_cases(bundle):
    f = good_frame(bundle)
    ids = list(f.sample_id)
    bomb = gzip.compress(b"sample_id,model_id\n" + b"x" * (3 << 20))
    return {
        "empty_file": ("p.csv", b""),
        "bad_encoding": ("p.csv", "sample_id,model_id\nÄ,ü\n".encode("latin-1")),
        "wrong_format": ("p.parquet", csv(f.iloc[::-1])),
        "unknown_format": ("p.xlsx", csv(f.iloc[1:])),
        "missing_columns": ("p.csv", csv(f.rename(columns={"model_id": "model"}).drop(columns=["model"]))),
        "extra_columns": ("p.csv", csv(f.assign(confidence=0.9))),
        "missing_sample_id": ("p.csv", csv(f.iloc[2:])),
        "duplicate_sample_id": ("p.csv", csv(pd.concat([f, f.iloc[:1]]))),
        "unknown_sample_id": ("p.csv", csv(f.assign(sample_id=["MMBench-99999"] + ids[1:]))),
        "unknown_model_id": ("p.csv", csv(f.assign(model_id="big_vlm"))),
        "too_many_points": ("p.csv", csv(pd.concat([f.iloc[:1].assign(point=str(k)) for k in range(101)]))),
        "too_many_rows": ("p.csv", csv(pd.concat([f.assign(point=str(k)) for k in range(101)]))),
        "file_too_large": ("p.csv", csv(f) + b"\n" * (2 << 20)),
        "decompressed_too_large": ("p.csv.gz", bomb),
        "non_string_id": ("p.jsonl", jsonl(f.assign(sample_id=range(len(f))))),
        "empty_cell": ("p.csv", csv(f.assign(model_id=[""] + list(f.model_id[1:])))),
        "bad_compression": ("p.csv.gz", gzip.compress(csv(f))[:-12]),
    }


LIMITS = Limits(max_bytes=1 << 20, max_decompressed_bytes=2 << 20)


@pytest.mark.parametrize("code", list(_bad_cases(make_bundle(Y, C, splits=["train"] * 4 + ["test"] * 8))))
def test_each_bad_file_gets_its_own_code(tiny, code):
    name, data = _bad_cases(tiny)[code]
    r = validate(tiny, data, name, limits=LIMITS)
    assert not r.ok
    codes = [p.code for p in r.problems]
    assert code in codes, (codes, r.summary())
    assert all(p.message for p in r.problems)


def test_messages_name_the_problem_and_show_examples(tiny):
    f = good_frame(tiny)
    r = validate(tiny, csv(f.assign(model_id="big_vlm")), "p.csv")
    (p,) = r.problems
    assert "did you mean ['big-vlm'" in p.message and p.examples == ["big_vlm"]
    r = validate(tiny, csv(f.iloc[3:]), "p.csv")
    assert r.problems[0].count == 3 and len(r.problems[0].examples) == 3
    r = validate(tiny, parquet(f.assign(model_id=7)), "p.parquet")
    assert r.problems[0].code == "non_string_id" and "model_id" in r.problems[0].message


def test_point_column_with_only_empty_cells(tiny):
    f = good_frame(tiny).assign(point="")
    r = validate(tiny, csv(f), "p.csv")
    assert [p.code for p in r.problems] == ["empty_cell"] and "point" in r.problems[0].message


def test_aliases_any_case(tiny):
    f = good_frame(tiny).assign(model_id="bigvlm-78b")
    assert validate(tiny, csv(f), "p.csv").ok


def test_bad_upload_changes_nothing_but_one_failed_row(tiny, tmp_path, db_url):
    svc = SubmissionService(make_settings(db_url, tmp_path, max_upload_bytes=1 << 20, max_decompressed_bytes=2 << 20),
                            tracks=[str(_saved(tiny, tmp_path))])
    track = svc.default_track
    ok = svc.submit("alice", track, "good.csv", csv(good_frame(tiny)), SubmissionMeta("router A"))
    assert ok.accepted

    def snapshot():
        with svc.factory() as s:
            return [(x.id, x.status, x.error, x.router_name, x.visibility) for x in
                    s.execute(select(Submission).order_by(Submission.id)).scalars()]

    for code, (name, data) in _bad_cases(tiny).items():
        before = snapshot()
        res = svc.submit("alice", track, name, data, SubmissionMeta(f"bad {code}"))
        after = snapshot()
        assert not res.accepted and code in [p["code"] for p in res.problems], (code, res.message)
        assert after[:-1] == before, code          # nothing already stored changed
        assert after[-1][1] == "FAILED" and after[-1][2]  # one new FAILED row with its error
    assert svc.quota_left("alice", track) == 4   # failed files use no quota


def _saved(bundle, tmp_path):
    path = tmp_path / "tiny-bundle"
    if not path.exists():
        bundle.save(path)
    return path


# ------------------------------------------------------------------ property-based
def _frames():
    cols = st.lists(st.sampled_from(["sample_id", "model_id", "point", "extra", "", "sample_id "]), max_size=4)
    cell = st.one_of(st.none(), st.text(max_size=8), st.integers(-5, 10**6), st.floats(allow_nan=True),
                     st.booleans(), st.sampled_from(["s000", "s005", "s011", "big-vlm", "BIGVLM-78B", "small-vlm"]))
    return cols.flatmap(lambda cs: st.lists(st.tuples(*[cell for _ in cs]), max_size=20).map(
        lambda rows: pd.DataFrame(rows, columns=cs) if cs else pd.DataFrame(rows)))


def _serialise(draw_frame, fmt, mutate, data_bytes):
    frame = draw_frame
    try:
        if fmt == "csv":
            raw = frame.to_csv(index=False).encode()
        elif fmt == "jsonl":
            raw = frame.to_json(orient="records", lines=True).encode() if len(frame.columns) else b"{}\n"
        else:
            raw = parquet(frame.astype(str)) if len(frame.columns) else b"PAR1"
    except Exception:
        raw = data_bytes
    if mutate == "truncate":
        raw = raw[: len(raw) // 2]
    elif mutate == "garbage":
        raw = raw[:10] + data_bytes + raw[10:]
    elif mutate == "replace":
        raw = data_bytes
    return raw


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(frame=_frames(), fmt=st.sampled_from(["csv", "jsonl", "parquet"]), gz=st.booleans(),
       mutate=st.sampled_from(["none", "truncate", "garbage", "replace"]), junk=st.binary(max_size=64),
       name=st.sampled_from(["", "p.csv", "p.jsonl", "p.parquet", "p.csv.gz", "weird", "p.JSONL.GZ"]))
def test_no_exception_escapes_on_malformed_files(tiny, frame, fmt, gz, mutate, junk, name):
    data = _serialise(frame, fmt, mutate, junk)
    if gz:
        data = gzip.compress(data)
        if mutate == "truncate":
            data = data[: len(data) // 2]
    filename = name or f"p.{fmt}{'.gz' if gz else ''}"
    result = validate(tiny, data, filename, limits=LIMITS)  # must not raise
    assert result.ok or result.problems
    assert all(p.code != "internal_error" for p in result.problems), result.summary()
    json.dumps(result.to_dict(), default=str)


# ------------------------------------------------- read whole or refuse; bounded memory (#11)
def _codes(result):
    return [p.code for p in result.problems]


def test_gzip_members_are_all_read(tiny):
    raw = csv(good_frame(tiny, points=["a", "b"]))
    cut = raw.index(b"\n", len(raw) // 2) + 1
    data = gzip.compress(raw[:cut]) + gzip.compress(raw[cut:])
    assert len(pd.read_csv(io.BytesIO(data), compression="gzip")) == 16  # what gzip/pandas read
    r = validate(tiny, data, "p.csv.gz")
    assert r.ok and r.points == ["a", "b"] and r.n_rows == 16, r.summary()
    assert validate(tiny, data + b"\0" * 8, "p.csv.gz").ok  # zero padding, as gzip allows
    r = validate(tiny, data + b"not gzip", "p.csv.gz")
    assert _codes(r) == ["bad_compression"] and "after the end" in r.problems[0].message


def test_decompressed_limit_counts_every_member(tiny):
    data = gzip.compress(b"sample_id,model_id\n") + gzip.compress(b"s004,big-vlm\n" * 100_000) * 3
    r = validate(tiny, data, "p.csv.gz", limits=LIMITS)
    assert _codes(r) == ["decompressed_too_large"]


def test_jsonl_duplicate_key_is_refused(tiny):
    lines = jsonl(good_frame(tiny)).decode().splitlines()
    lines[3] = lines[3].replace('"model_id"', '"model_id":"mid-vlm","model_id"', 1)
    r = validate(tiny, ("\n".join(lines) + "\n").encode(), "p.jsonl")
    (p,) = r.problems
    assert p.code == "duplicate_key" and "line 4" in p.message and "model_id" in p.message
    # the same key spelt with an escape is the same key
    lines = jsonl(good_frame(tiny)).decode().splitlines()
    lines[0] = lines[0].replace('"sample_id"', '"sample_id":"s005","sample\\u005fid"', 1)
    assert _codes(validate(tiny, ("\n".join(lines) + "\n").encode(), "p.jsonl")) == ["duplicate_key"]


def test_csv_ragged_rows_are_refused(tiny):
    f = good_frame(tiny)
    rows = list(zip(f.sample_id, f.model_id))
    trailing = "sample_id,model_id\n" + "".join(f"{s},{m},\n" for s, m in rows)       # pandas: shifted columns
    leading = "sample_id,model_id\n" + "".join(f"{k},{s},{m}\n" for k, (s, m) in enumerate(rows))  # pandas: index
    short = csv(f.assign(point="1")).decode() + "s004,big-vlm\n"                       # pandas: padded
    one_long = csv(f).decode().replace("\n", ",x\n", 3).replace(",x\n", "\n", 2)       # pandas: parse error
    for text, line in ((trailing, 2), (leading, 2), (short, 10), (one_long, 3)):
        r = validate(tiny, text.encode(), "p.csv")
        (p,) = r.problems
        assert p.code == "ragged_rows", (text[:80], r.summary())
        assert f"line {line}" in p.message and p.examples and "header" in p.message


def test_row_limit_refuses_parquet_from_its_metadata(tiny, monkeypatch):
    import pyarrow.parquet as pq

    # 801 rows > 8 test samples × 100 points; the limit is read from the footer, no page is decoded
    f = pd.concat([good_frame(tiny)] * 100 + [good_frame(tiny).iloc[:1]], ignore_index=True)
    data = parquet(f)
    monkeypatch.setattr(pq.ParquetFile, "read", lambda *a, **k: pytest.fail("decoded a file over the row limit"))
    r = validate(tiny, data, "p.parquet")
    (p,) = r.problems
    assert p.code == "too_many_rows" and "801" in p.message and "800" in p.message


def test_row_limit_for_text_formats(tiny):
    f = pd.concat([good_frame(tiny)] * 100 + [good_frame(tiny).iloc[:1]], ignore_index=True)
    for name, data in (("p.csv", csv(f)), ("p.jsonl", jsonl(f)), ("p.csv.gz", gzip.compress(csv(f)))):
        assert _codes(validate(tiny, data, name)) == ["too_many_rows"], name
    old_mac = csv(f).replace(b"\n", b"\r")  # lines ended by CR alone are lines too
    assert _codes(validate(tiny, old_mac, "p.csv")) == ["too_many_rows"]
    # blank lines are not rows
    assert validate(tiny, csv(good_frame(tiny)) + b"\n" * 2000, "p.csv").ok
    assert validate(tiny, jsonl(good_frame(tiny)) + b"\r\n" * 2000, "p.jsonl").ok


def test_parquet_decoded_size_is_capped(tiny):
    # 8 rows of one 1 MB id: a small file (dictionary-encoded, compressed) that decodes to 8 MB
    f = good_frame(tiny).assign(sample_id="s" * (1 << 20))
    data = parquet(f)
    assert len(data) < (1 << 20)
    r = validate(tiny, data, "p.parquet", limits=LIMITS)
    assert _codes(r) == ["decompressed_too_large"]


def test_parquet_column_types(tiny):
    import pyarrow as pa
    import pyarrow.parquet as pq

    f = good_frame(tiny)
    ids, models = f.sample_id.tolist(), f.model_id.tolist()

    def table(**cols):
        buf = io.BytesIO()
        pq.write_table(pa.table({"sample_id": ids, "model_id": models, **cols}), buf)
        return buf.getvalue()

    cases = {
        "list id": table(sample_id=pa.array([[i] for i in ids])),
        "list point": table(point=pa.array([[1.0]] * len(ids))),
        "struct id": table(model_id=pa.array([{"name": m} for m in models])),
        "binary id": table(sample_id=pa.array([i.encode() for i in ids], pa.binary())),
        "date point": table(point=pa.array([datetime.date(2025, 1, 1)] * len(ids))),
    }
    for label, data in cases.items():
        r = validate(tiny, data, "p.parquet")
        assert _codes(r) == ["bad_column_type"], (label, r.summary())
        assert "type" in r.problems[0].message and r.problems[0].examples
    # categorical (dictionary) text columns are plain text to a prediction file
    assert validate(tiny, parquet(f.astype("category")), "p.parquet").ok


def test_damaged_parquet_is_refused_with_a_code(tiny):
    good = parquet(good_frame(tiny))
    rng = np.random.default_rng(0)
    seen = set()
    for bit in rng.choice(len(good) * 8, size=1000, replace=False):
        data = bytearray(good)
        data[bit // 8] ^= 1 << (bit % 8)
        r = validate(tiny, bytes(data), "p.parquet")
        assert r.ok or r.problems
        assert "internal_error" not in _codes(r), r.summary()
        seen.update(_codes(r))
    assert "bad_parquet" in seen
    for cut in (len(good) // 2, len(good) - 5):
        r = validate(tiny, good[:cut], "p.parquet")
        assert _codes(r) == ["bad_parquet"] and "damaged" in r.problems[0].message


def test_cli_validate_prints_no_traceback(tiny, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    f = good_frame(tiny)
    listed = tmp_path / "listed.parquet"
    pq.write_table(pa.table({"sample_id": pa.array([[i] for i in f.sample_id]), "model_id": f.model_id.tolist()}),
                   listed)
    good = parquet(f)
    damaged = tmp_path / "damaged.parquet"
    damaged.write_bytes(good[:-12] + bytes(b ^ 0xFF for b in good[-12:-8]) + good[-8:])
    bundle = _saved(tiny, tmp_path)
    for path, code in ((listed, "bad_column_type"), (damaged, "bad_parquet")):
        out = subprocess.run([sys.executable, "-m", "leaderboard.cli", "validate", str(path), "--bundle", str(bundle)],
                             capture_output=True, text=True, timeout=120)
        assert out.returncode == 2 and f"[{code}]" in out.stderr, out.stderr[-2000:]
        assert "Traceback" not in out.stderr + out.stdout


# The property test of misreads: files serialised by the standard writers (csv, json, pyarrow),
# sometimes with a known defect; each is refused with the defect's code or read to exactly its rows.
_CELLS = st.one_of(st.none(), st.text(max_size=6), st.sampled_from(
    ["s004", "big-vlm", "", " x ", "007", "1e5", "NaN", "null", "2020-01-01", "2020-01-01T10:00:00Z", 'a"b', "a,b",
     "x\r\ny", "é\u2028"]))


@st.composite
def _uploads(draw):
    columns = draw(st.lists(st.sampled_from(["sample_id", "model_id", "point", "extra"]), min_size=1, max_size=3,
                            unique=True))
    rows = draw(st.lists(st.lists(_CELLS, min_size=len(columns), max_size=len(columns)), min_size=1, max_size=12))
    fmt = draw(st.sampled_from(["csv", "jsonl", "parquet"]))
    defect = draw(st.sampled_from({"csv": ["none", "extra_field", "missing_field", "index_column"],
                                   "jsonl": ["none", "duplicate_key"], "parquet": ["none"]}[fmt]))
    if defect == "missing_field" and len(columns) < 2:
        defect = "none"  # a one-field row without its field is a blank line, which holds no row
    at = draw(st.integers(0, len(rows) - 1))
    if fmt == "csv":
        out = io.StringIO()
        # (with "\n" line ends only QUOTE_ALL quotes a cell holding "\r", which readers take as a line end)
        ends, quoting = draw(st.sampled_from([("\r\n", csv_module.QUOTE_MINIMAL), ("\r\n", csv_module.QUOTE_ALL),
                                              ("\n", csv_module.QUOTE_ALL)]))
        writer = csv_module.writer(out, lineterminator=ends, quoting=quoting)
        writer.writerow(columns)
        for k, row in enumerate(rows):
            row = ["" if v is None else v for v in row]
            if defect == "index_column":
                row = [str(k), *row]
            elif k == at and defect == "extra_field":
                row = [*row, draw(_CELLS) or ""]
            elif k == at and defect == "missing_field":
                row = row[:-1]
            writer.writerow(row)
        raw = out.getvalue().encode()
    elif fmt == "jsonl":
        lines = []
        for k, row in enumerate(rows):
            pairs = list(zip(columns, row))
            if k == at and defect == "duplicate_key":
                pairs.insert(draw(st.integers(0, len(pairs))), (draw(st.sampled_from(columns)), draw(_CELLS)))
            lines.append("{" + ", ".join(f"{json.dumps(c)}: {json.dumps(v)}" for c, v in pairs) + "}")
        raw = "".join(line + draw(st.sampled_from(["\n", "\r\n"])) for line in lines).encode()
    else:
        import pyarrow as pa
        import pyarrow.parquet as pq

        buf = io.BytesIO()
        pq.write_table(pa.table({c: pa.array([r[j] for r in rows], pa.string()) for j, c in enumerate(columns)}), buf)
        raw = buf.getvalue()
    members = draw(st.integers(0, 4))  # 0: not compressed; else gzip in this many members
    if members:
        cuts = sorted(draw(st.lists(st.integers(0, len(raw)), min_size=members - 1, max_size=members - 1)))
        raw = b"".join(gzip.compress(raw[a:b]) for a, b in zip([0, *cuts], [*cuts, len(raw)]))
    expected = pd.DataFrame(rows, columns=columns)
    if fmt == "csv":  # an empty CSV field is a missing value
        expected = expected.replace("", None)
    return fmt, bool(members), raw, expected, defect


_DEFECT_CODE = {"extra_field": "ragged_rows", "missing_field": "ragged_rows", "index_column": "ragged_rows",
                "duplicate_key": "duplicate_key"}


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(upload=_uploads())
def test_uploads_are_read_whole_or_refused(upload):
    fmt, gz, raw, expected, defect = upload
    try:
        frame = parse_predictions(raw, fmt, gz, Limits(max_rows=1000))
    except FileFormatError as exc:
        assert defect != "none" and exc.code == _DEFECT_CODE[defect], (exc.code, str(exc), raw[:300])
        return
    assert defect == "none", f"a file with a {defect} was read: {raw[:300]!r}"
    assert list(frame.columns) == list(expected.columns)
    got = frame.astype(object).where(frame.notna(), None).to_numpy().tolist()
    assert got == expected.astype(object).where(expected.notna(), None).to_numpy().tolist(), raw[:300]
