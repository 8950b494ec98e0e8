"""Upload validation in child processes: the same answers as in-process validation, memory
exhaustion and timeouts as problems with their own codes, the web process never parsing an upload,
and one user's large file not holding up another's."""

import gzip
import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

import numpy as np
import pandas as pd
import pytest

from conftest import make_settings
from helpers import make_bundle
from submissions.formats import Limits
from submissions.isolation import ValidationPool, validate_isolated
from submissions.service import SubmissionService
from submissions.validation import validate

MB = 1 << 20


@pytest.fixture(scope="module")
def wide():
    """A track with 5,000 test samples: a valid 100-point file has 500,000 rows."""
    n = 5000
    rng = np.random.default_rng(0)
    return make_bundle(rng.random((n, 3)) < 0.5, np.tile([[0.01, 0.1, 0.5]], (n, 1)), splits=["test"] * n,
                       bounds=(0.01, 0.5), model_ids=["small-vlm", "mid-vlm", "big-vlm"])


@pytest.fixture(scope="module")
def pool():
    p = ValidationPool(memory_bytes=512 * MB, wall_seconds=30, processes=2)
    yield p
    p.close()


def routing_csv(bundle, points=1):
    ids = bundle.samples.loc[bundle.samples.split == "test", "sample_id"].to_numpy()
    models = np.array(bundle.model_ids, dtype=object)[np.arange(ids.size) % len(bundle.models)]
    return pd.DataFrame({"sample_id": np.tile(ids, points), "model_id": np.tile(models, points),
                         "point": np.repeat([str(k) for k in range(points)], ids.size)}).to_csv(index=False).encode()


def bomb(decompressed_mb):
    member = gzip.compress(b"sample_id,model_id\n" + b"s0001,big-vlm\n" * (MB // 14))
    return member * decompressed_mb


def test_same_answers_as_in_process(wide, pool):
    good = routing_csv(wide, points=3)
    bad = good.replace(b"big-vlm", b"big_vlm")
    for name, data in (("p.csv", good), ("p.csv.gz", gzip.compress(good)), ("p.csv", bad), ("p.xlsx", good),
                       ("p.jsonl", b'{"sample_id": "s1", "model_id": "a", "model_id": "b"}\n')):
        here, there = validate(wide, data, name), pool.validate(wide, data, name)
        assert there.to_dict() == here.to_dict(), name
        assert there.decisions is None  # the verdict only: the worker validates the stored file again


def test_memory_exhaustion_is_a_problem_and_the_pool_recovers(wide):
    small = ValidationPool(memory_bytes=64 * MB, wall_seconds=60, processes=1)
    try:
        huge = b"sample_id,model_id\n" + b"s0001," + b"x" * (100 * MB) + b"\n"  # more than the child may hold
        r = small.validate(wide, huge, "p.csv")
        assert [p.code for p in r.problems] == ["file_too_large"], r.summary()
        assert "64 MB" in r.problems[0].message
        assert small.validate(wide, routing_csv(wide), "p.csv").ok  # a fresh child takes the next file
        # decompressing stops at half the memory, with the decompressed-size code
        r = small.validate(wide, bomb(600), "p.csv.gz", limits=Limits(max_decompressed_bytes=4 << 30))
        assert [p.code for p in r.problems] == ["decompressed_too_large"] and "32 MB" in r.problems[0].message
        assert small.validate(wide, routing_csv(wide), "p.csv").ok
    finally:
        small.close()


def test_timeout_is_a_problem(wide):
    slow = ValidationPool(memory_bytes=1024 * MB, wall_seconds=0.05, processes=1)
    try:
        slow.validate(wide, b"sample_id,model_id\n", "p.csv")  # start the child: start-up is not timed
        r = slow.validate(wide, routing_csv(wide, points=100), "p.csv")
        assert [p.code for p in r.problems] == ["validation_timeout"], r.summary()
        assert "0.05 s" in r.problems[0].message
    finally:
        slow.close()


def test_a_large_upload_does_not_hold_up_a_small_one(wide, pool):
    pool.warm()  # both children started
    big, small = routing_csv(wide, points=100), routing_csv(wide)
    finished = {}

    def run(label, data):
        assert pool.validate(wide, data, "p.csv").ok
        finished[label] = time.perf_counter()

    threads = [threading.Thread(target=run, args=("big", big)), threading.Thread(target=run, args=("small", small))]
    threads[0].start()
    time.sleep(0.05)
    threads[1].start()
    for t in threads:
        t.join()
    assert finished["small"] < finished["big"]


def test_service_validates_in_a_child_process(wide, tmp_path, monkeypatch):
    import submissions.formats
    import submissions.validation

    path = tmp_path / "wide"
    wide.save(path)
    svc = SubmissionService(make_settings(f"sqlite:///{tmp_path / 'db.sqlite'}", tmp_path,
                                          validation_memory_bytes=64 * MB, max_decompressed_bytes=4 << 30),
                            tracks=[str(path)])

    def parsed_here(*args, **kwargs):
        raise AssertionError("the web process parsed an upload")

    monkeypatch.setattr(submissions.validation, "validate", parsed_here)
    monkeypatch.setattr(submissions.formats, "parse_predictions", parsed_here)
    track = svc.default_track
    assert svc.validate(track, "p.csv", routing_csv(wide)).ok
    huge = b"sample_id,model_id\n" + b"s0001," + b"x" * (100 * MB) + b"\n"
    assert [p.code for p in svc.validate(track, "p.csv", huge).problems] == ["file_too_large"]
    assert [p.code for p in svc.validate(track, "p.csv.gz", bomb(600)).problems] == ["decompressed_too_large"]
    from submissions.service import SubmissionMeta

    res = svc.submit("alice", track, "p.csv", huge, SubmissionMeta("big"))
    assert not res.accepted and [p["code"] for p in res.problems] == ["file_too_large"]
    assert svc.submit("alice", track, "p.csv", routing_csv(wide), SubmissionMeta("fine")).accepted


def test_children_exit_with_their_parent(tmp_path):
    script = textwrap.dedent("""
        import json, sys, time
        import numpy as np
        sys.path.insert(0, "tests")
        from helpers import make_bundle
        from submissions.isolation import ValidationPool
        b = make_bundle(np.ones((2, 1)), np.ones((2, 1)), splits=["test", "test"])
        pool = ValidationPool(processes=1)
        assert pool.validate(b, b"sample_id,model_id\\ns000,model-0\\ns001,model-0\\n", "p.csv").ok
        print(json.dumps([c.proc.pid for c in list(pool._idle.queue)]), flush=True)
        time.sleep(60)
    """)
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True,
                              cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    try:
        (child,) = json.loads(parent.stdout.readline())
        os.kill(child, 0)
        parent.send_signal(signal.SIGKILL)
        parent.wait()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                os.kill(child, 0)
            except ProcessLookupError:
                break
            if open(f"/proc/{child}/stat").read().split(")")[1].split()[0] == "Z":
                break  # exited; waiting to be reaped by init
            time.sleep(0.1)
        else:
            os.kill(child, signal.SIGKILL)
            pytest.fail("the validation child outlived its parent")
    finally:
        if parent.poll() is None:
            parent.kill()


def test_default_limits_come_from_settings(wide, tmp_path):
    settings = make_settings(f"sqlite:///{tmp_path / 'db.sqlite'}", tmp_path, validation_wall_seconds=0.01)
    validate_isolated(wide, b"sample_id,model_id\n", "p.csv", settings=settings)  # warm
    r = validate_isolated(wide, routing_csv(wide, points=100), "p.csv", settings=settings)
    assert [p.code for p in r.problems] == ["validation_timeout"]
