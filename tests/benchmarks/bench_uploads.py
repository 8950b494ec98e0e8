"""Upload benchmarks: what a hostile or careless upload costs, before and after, side by side.

*Before* is the old unbounded read, reproduced here (pandas ``read_parquet`` / ``read_csv`` /
``read_json`` of the whole file, then the checks, in the web process); *after* is
``submissions.validation.validate`` and, for the app, ``submissions.isolation.ValidationPool``.
Each measurement runs in its own child process so that its peak memory (VmHWM) is its own.

Run with ``routerboard bench --only uploads`` (``--quick`` for a smaller smoke run). Prints:

1. a 0.13 MB dictionary-encoded Parquet file that decodes to 20,000,000 rows (2,000,000 with
   ``--quick``): time and peak memory of validating it, before vs after — target after ≤ 1 GB and
   ≤ 10 s; and a 0.7 MB file of 100,000,000 rows, after only (before would need ~27 GB);
2. the same file uploaded to a web process while another user validates a small valid file:
   how long the small one waits, the web process's peak and what it still holds afterwards —
   before (both checked in the web process) vs after (both checked in the isolated pool);
3. valid 100-point files (3,054,000 rows; 305,400 with ``--quick``), CSV and JSONL: parse time and
   peak memory, the old pandas read vs the new pyarrow read (which also checks ragged rows and
   repeated keys).
"""

from __future__ import annotations

import argparse
import gc
import io
import json
import os
import subprocess
import sys
import tempfile
import threading
import time

os.environ.setdefault("ROUTERBOARD_DATA_DIR", os.path.join(tempfile.gettempdir(), "routerboard-bench-data"))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

MB = 1 << 20


def status_kb(field: str, pid: str = "self") -> int:
    with open(f"/proc/{pid}/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


# ------------------------------------------------------------------------------------ files
def big_parquet(path: str, rows: int, sample_id: str) -> None:
    """``rows`` rows of one sample id and one model, dictionary-encoded: a tiny file."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    def const(value: str) -> pa.DictionaryArray:
        return pa.DictionaryArray.from_arrays(pa.array(np.zeros(rows, dtype=np.int32)), pa.array([value]))

    # store_schema=False: readers see plain string columns, as from any Parquet writer
    pq.write_table(pa.table({"sample_id": const(sample_id), "model_id": const("gpt-4o")}), path, store_schema=False)


def sweep_frame(bundle, points: int) -> pd.DataFrame:
    ids = bundle.samples["sample_id"].to_numpy()
    rng = np.random.default_rng(0)
    names = np.array(bundle.model_ids, dtype=object)
    return pd.DataFrame({"sample_id": np.tile(ids, points), "model_id": names[rng.integers(0, len(names), ids.size * points)],
                         "point": np.repeat([str(k) for k in range(points)], ids.size)})


# ------------------------------------------------------------------------------ the old code
def old_parse(data: bytes, fmt: str) -> pd.DataFrame:
    """The read before the hardening: the whole file, no row or decoded-size limit."""
    if fmt == "csv":
        return pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False, na_values=[""], encoding="utf-8",
                           engine="c")
    if fmt == "jsonl":
        return pd.read_json(io.BytesIO(data), lines=True, dtype=False, encoding="utf-8")
    return pd.read_parquet(io.BytesIO(data))


def old_validate(bundle, data: bytes, fmt: str) -> str:
    from evaluator.predictions import find_problems_and_decisions

    frame = old_parse(data, fmt).copy()
    for col in ("sample_id", "model_id"):
        frame[col] = frame[col].where(frame[col].isna(), frame[col].astype(str))
    problems, _ = find_problems_and_decisions(bundle, frame, "test")
    return ",".join(p.code for p in problems) or "ok"


def new_validate(bundle, data: bytes, name: str) -> str:
    from submissions.validation import validate

    r = validate(bundle, data, name)
    return ",".join(p.code for p in r.problems) or "ok"


def public_bundle(all_test: bool = False):
    import evaluator
    from evaluator.bundle import Bundle

    b = evaluator.load_bundle("vlrb-sim", hidden=False)
    if all_test:
        b = Bundle(name=b.name, version=b.version, models=b.models, samples=b.samples.assign(split="test"),
                   quality=b.quality, cost=b.cost, output_tokens=b.output_tokens, cost_bounds=b.cost_bounds,
                   provenance=b.provenance, has_hidden=False)
    return b


# ------------------------------------------------------------------------------ child runs
def child(mode: str, path: str, fmt: str) -> None:
    """One measurement in a fresh process; prints one JSON line."""
    bundle = public_bundle(all_test=mode.endswith("parse"))
    data = open(path, "rb").read()
    gc.collect()
    base = status_kb("VmHWM")
    t = time.perf_counter()
    out: dict = {}
    if mode == "old-validate":
        out["result"] = old_validate(bundle, data, fmt)
    elif mode == "new-validate":
        out["result"] = new_validate(bundle, data, "upload." + fmt)
    elif mode == "old-parse":
        out["rows"] = len(old_parse(data, fmt))
    elif mode == "new-parse":
        from submissions.formats import Limits, parse_predictions

        out["rows"] = len(parse_predictions(data, fmt, False, Limits(max_rows=10**8)))
    elif mode in ("old-web", "new-web"):
        out.update(web(bundle, data, fmt, isolated=mode == "new-web"))
        base = out.pop("base")
    out.update(seconds=time.perf_counter() - t, base_kb=base, peak_kb=status_kb("VmHWM"))
    print(json.dumps(out))


def web(bundle, big: bytes, fmt: str, isolated: bool) -> dict:
    """A web process: one user uploads ``big`` while another validates a small valid file. Before,
    the app checked uploads in its own process, one at a time (Gradio's default queue); after, it
    hands them to a pool of two children and lets two run at once."""
    test_ids = bundle.samples.loc[bundle.samples.split == "test", "sample_id"]
    small = pd.DataFrame({"sample_id": test_ids, "model_id": "gpt-4o"}).to_csv(index=False).encode()
    sweep = pd.concat([pd.DataFrame({"sample_id": test_ids, "model_id": "gpt-4o", "point": str(k)})
                       for k in range(100)]).to_csv(index=False).encode()  # the largest valid file
    pool = None
    if isolated:
        from submissions.isolation import ValidationPool

        pool = ValidationPool(memory_bytes=1024 * MB, wall_seconds=60, processes=2)
        pool.warm()

        def check(data, name):
            return ",".join(p.code for p in pool.validate(bundle, data, name).problems) or "ok"
    else:
        one_at_a_time = threading.Lock()

        def check(data, name):
            with one_at_a_time:
                return old_validate(bundle, data, name.rsplit(".", 1)[1])

    check(small, "small.csv")  # warm: the track reaches the children
    check(small, "small.csv")
    gc.collect()
    base = status_kb("VmHWM")
    alone = time.perf_counter()
    check(small, "small.csv")
    alone = time.perf_counter() - alone

    def behind(data, name):
        """How long the small file takes while ``data`` is being checked."""
        results: dict = {}
        heavy = threading.Thread(target=lambda: results.setdefault("big", check(data, name)))
        heavy.start()
        time.sleep(0.01)
        t = time.perf_counter()
        results["small"] = check(small, "small.csv")
        waited = time.perf_counter() - t
        heavy.join()
        return waited, results["big"]

    during, verdict = behind(big, "big." + fmt)
    during_sweep, _ = behind(sweep, "sweep.csv")
    child_peak = 0
    if pool is not None:
        child_peak = max(status_kb("VmHWM", str(c.proc.pid)) for c in list(pool._idle.queue))
        pool.close()
    gc.collect()
    return {"base": base, "small_alone": alone, "small_during": during, "small_during_sweep": during_sweep,
            "big": verdict, "held_kb": status_kb("VmRSS"), "child_peak_kb": child_peak}


def run_child(mode: str, path: str, fmt: str) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", mode, path, fmt], capture_output=True, text=True)
    if out.returncode != 0:
        print(out.stderr[-3000:])
        raise SystemExit(out.returncode)
    return json.loads(out.stdout.strip().splitlines()[-1])


def mb(kb: int) -> str:
    return f"{kb / 1024:,.0f} MB"


# ------------------------------------------------------------------------------------ main
def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--child", nargs=3)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    rows = 2_000_000 if args.quick else 20_000_000
    points = 10 if args.quick else 100
    bundle = public_bundle()
    test_id = str(bundle.samples.loc[bundle.samples.split == "test", "sample_id"].iloc[0])
    with tempfile.TemporaryDirectory(prefix="bench-uploads-") as tmp:
        path = os.path.join(tmp, "rows.parquet")
        big_parquet(path, rows, test_id)
        size = os.path.getsize(path)
        old = run_child("old-validate", path, "parquet")
        new = run_child("new-validate", path, "parquet")
        print(f"[1] {size / 1e6:.2f} MB Parquet of {rows:,} rows (limit {int(bundle.split_rows('test').size) * 100:,}):")
        print(f"    before (whole read, then checks): {old['seconds']:.1f} s, peak {mb(old['peak_kb'])} "
              f"(+{mb(old['peak_kb'] - old['base_kb'])} over the loaded process) -> {old['result']}")
        print(f"    after  (refused from the footer): {new['seconds']:.3f} s, peak {mb(new['peak_kb'])} "
              f"(+{mb(new['peak_kb'] - new['base_kb'])}) -> {new['result']}   "
              f"= {old['seconds'] / max(new['seconds'], 1e-6):,.0f}x faster, "
              f"{(old['peak_kb'] - old['base_kb']) / max(new['peak_kb'] - new['base_kb'], 1):,.0f}x less added memory"
              f"  target <= 1 GB, <= 10 s")
        huge = os.path.join(tmp, "huge.parquet")
        big_parquet(huge, 5 * rows, test_id)
        h = run_child("new-validate", huge, "parquet")
        print(f"    {os.path.getsize(huge) / 1e6:.2f} MB of {5 * rows:,} rows, after: {h['seconds']:.3f} s, peak "
              f"{mb(h['peak_kb'])} -> {h['result']} (before would need ~{old['peak_kb'] * 5 / 2**20:,.0f} GB)")

        ow, nw = run_child("old-web", path, "parquet"), run_child("new-web", path, "parquet")
        print(f"[2] web process: the same file uploaded while another user validates a small valid file "
              f"({int(bundle.split_rows('test').size):,} rows):")
        for label, w in (("before (in the web process, one at a time)", ow), ("after  (pool of 2 children)              ", nw)):
            extra = f"; the checking children peaked at {mb(w['child_peak_kb'])}" if w["child_peak_kb"] else ""
            print(f"    {label}: small file {w['small_alone'] * 1e3:,.0f} ms alone, {w['small_during'] * 1e3:,.0f} ms "
                  f"during the upload ({w['small_during_sweep'] * 1e3:,.0f} ms during a 457,900-row valid one); web "
                  f"process peak +{mb(w['peak_kb'] - w['base_kb'])}, holding {mb(w['held_kb'])} afterwards{extra}")

        sweep = sweep_frame(public_bundle(all_test=True), points)
        for fmt in ("csv", "jsonl"):
            p = os.path.join(tmp, f"sweep.{fmt}")
            with open(p, "wb") as fh:
                fh.write(sweep.to_csv(index=False).encode() if fmt == "csv" else
                         sweep.to_json(orient="records", lines=True).encode())
            o, n = run_child("old-parse", p, fmt), run_child("new-parse", p, fmt)
            assert o["rows"] == n["rows"] == len(sweep)
            print(f"[3] {len(sweep):,}-row {fmt.upper()} ({os.path.getsize(p) / 1e6:,.0f} MB), valid: before "
                  f"{o['seconds']:.2f} s, +{mb(o['peak_kb'] - o['base_kb'])}; after {n['seconds']:.2f} s, "
                  f"+{mb(n['peak_kb'] - n['base_kb'])}  = {o['seconds'] / n['seconds']:.1f}x faster")


if __name__ == "__main__":
    main()
