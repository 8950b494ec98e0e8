"""Every way a prediction file can be wrong: a real bad file each, its own code, a message that
names the problem, no exception — and, through the service, nothing stored changes but one new
FAILED submission."""

import gzip
import io
import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from conftest import make_settings
from helpers import make_bundle
from submissions.formats import Limits
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
        "too_many_points": ("p.csv", csv(pd.concat([f.assign(point=str(k)) for k in range(101)]))),
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
