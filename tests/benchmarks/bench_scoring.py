"""Scoring benchmarks, printed as ratios measured side by side in one run.

Run with ``routerboard bench --only scoring`` (``--quick`` for a smaller smoke run). Prints:

1. end to end (parse + validate + score + breakdowns [+ bootstrap]) of a 30,540-row single-point
   file, against a bare numpy gather-and-mean on the same arrays;
2. the same for a 100-point file (3,054,000 rows), and the scoring core alone (no parsing, no
   bootstrap) against the bare gather — target ≤ 5×;
3. the oracle curve over every distinct cost threshold by sort-and-sweep, against the
   threshold-by-threshold definition (measured on a sample of thresholds, extrapolated);
4. peak memory of scoring a 1,000,000-sample × 100-model bundle (in a child process).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc

import numpy as np
import pandas as pd

os.environ.setdefault("ROUTERBOARD_DATA_DIR", os.path.join(tempfile.gettempdir(), "routerboard-bench-data"))

import evaluator  # noqa: E402
from evaluator.bundle import Bundle, CostBounds, ModelInfo, Provenance  # noqa: E402
from evaluator.frontier import oracle_curve  # noqa: E402
from evaluator.predictions import decisions_from_frame  # noqa: E402
from evaluator.report import score_decisions  # noqa: E402
from submissions.formats import parse_predictions  # noqa: E402


def best_of(fn, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def all_test(bundle: Bundle) -> Bundle:
    """The same track with every sample in the test split: a 30,540-row file scores all of it."""
    return Bundle(name=bundle.name, version=bundle.version, models=bundle.models,
                  samples=bundle.samples.assign(split="test"), quality=bundle.quality, cost=bundle.cost,
                  output_tokens=bundle.output_tokens, cost_bounds=bundle.cost_bounds,
                  provenance=bundle.provenance, has_hidden=True)


def csv_bytes(ids: np.ndarray, model_ids: list[str], choices: np.ndarray, points: list[str] | None) -> bytes:
    names = np.asarray(model_ids, dtype=object)
    if points is None:
        frame = pd.DataFrame({"sample_id": ids, "model_id": names[choices[0]]})
    else:
        frame = pd.DataFrame({"sample_id": np.tile(ids, len(points)), "model_id": names[choices.ravel()],
                              "point": np.repeat(points, ids.size)})
    return frame.to_csv(index=False).encode()


def bench_files(n_points_multi: int) -> None:
    bundle = all_test(evaluator.load_bundle("vlrb-sim"))
    rows = bundle.split_rows("test")
    ids = bundle.samples["sample_id"].to_numpy()[rows]
    rng = np.random.default_rng(0)
    m = len(bundle.models)
    Y, C = bundle.quality, bundle.cost

    one = rng.integers(0, m, size=(1, rows.size))
    data = csv_bytes(ids, bundle.model_ids, one, None)

    def bare_one():
        return Y[rows, one[0]].mean(), C[rows, one[0]].mean()

    def e2e(replicates):
        frame = parse_predictions(data, "csv")
        return evaluator.score(bundle, frame, split="test", replicates=replicates)

    t_bare = best_of(bare_one)
    cold = time.perf_counter(); e2e(1000); cold = time.perf_counter() - cold
    t_e2e = best_of(lambda: e2e(1000))
    t_e2e_noci = best_of(lambda: e2e(0))
    print(f"[1] single point, {rows.size:,} rows: bare gather+mean {t_bare * 1e3:.2f} ms")
    print(f"    end to end with 1,000-replicate CIs: {t_e2e:.3f} s warm ({t_e2e / t_bare:,.0f}x bare), "
          f"{cold:.3f} s cold (first call in a process draws the resample counts)  target <= 0.3 s")
    print(f"    end to end without CIs: {t_e2e_noci:.3f} s ({t_e2e_noci / t_bare:,.0f}x bare)")

    P = n_points_multi
    many = rng.integers(0, m, size=(P, rows.size))
    pts = [f"{k}" for k in range(P)]
    data_many = csv_bytes(ids, bundle.model_ids, many, pts)
    frame_many = parse_predictions(data_many, "csv")
    decisions = decisions_from_frame(bundle, frame_many, "test")
    choices = decisions.choices

    def bare_many():
        return Y[rows[None, :], choices].mean(axis=1), C[rows[None, :], choices].mean(axis=1)

    t_bare_m = best_of(bare_many)
    t_core = best_of(lambda: score_decisions(bundle, decisions, replicates=0))
    t_core_ci = best_of(lambda: score_decisions(bundle, decisions, replicates=1000), repeat=3)
    t_e2e_m = best_of(lambda: evaluator.score(bundle, parse_predictions(data_many, "csv"), split="test"), repeat=3)
    print(f"[2] {P} points, {P * rows.size:,} rows: bare gather+mean {t_bare_m * 1e3:.1f} ms")
    print(f"    scoring core (metrics, breakdowns, curve; no CIs): {t_core * 1e3:.1f} ms = {t_core / t_bare_m:.2f}x bare"
          f"  target <= 5x")
    print(f"    scoring core with 1,000-replicate CIs: {t_core_ci * 1e3:.1f} ms = {t_core_ci / t_bare_m:.2f}x bare")
    print(f"    end to end (parse {len(data_many) / 1e6:.0f} MB CSV + validate + score + CIs): {t_e2e_m:.2f} s "
          f"= {t_e2e_m / t_bare_m:.0f}x bare")

    # Token-priced costs repeat; continuous costs make every one of the n·m cells a distinct threshold.
    C_cont = C * np.exp(0.01 * rng.standard_normal(C.shape))
    for label, cost in (("vlrb-sim costs", C), ("continuous costs", C_cont)):
        t_curve = best_of(lambda: oracle_curve(Y, cost), repeat=3)
        thresholds = np.unique(cost)
        sample = thresholds[:: max(1, thresholds.size // 200)]

        def naive():
            for T in sample:
                ok = cost <= T
                best = np.where(ok, Y, -np.inf).max(axis=1)
                has = ok.any(axis=1)
                cheapest = np.where(ok & (Y == best[:, None]), cost, np.inf).min(axis=1)
                np.where(has, cheapest, 0.0).mean(), np.where(has, best, 0.0).mean()

        per_threshold = best_of(naive, repeat=1) / sample.size
        full_naive = per_threshold * thresholds.size
        print(f"[3] oracle curve, {label}: {thresholds.size:,} thresholds ({Y.shape[0]:,} x {Y.shape[1]}): "
              f"sort-and-sweep {t_curve:.3f} s (target <= 1 s); threshold-by-threshold {per_threshold * 1e3:.2f} ms "
              f"per threshold -> {full_naive:.0f} s in all = {full_naive / t_curve:,.0f}x slower")


def high_water_kb() -> int:
    """Peak resident memory of this process image (VmHWM). Unlike ru_maxrss it is not inherited
    across exec from the parent that spawned us."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def memory_child(n: int, m: int) -> None:
    """Runs in a child process so that its peak RSS is its own."""
    rng = np.random.default_rng(1)
    base_rss = high_water_kb()
    Y = np.empty((n, m), dtype=np.uint8)
    C = np.empty((n, m), dtype=np.float32)
    for s in range(0, n, 1 << 13):  # small blocks: build temporaries must not set the high-water mark
        e = min(n, s + (1 << 13))
        Y[s:e] = rng.random((e - s, m)) < 0.6
        C[s:e] = rng.random((e - s, m), dtype=np.float32) * 0.01 + 1e-5
    odd = pd.Series(np.arange(n) % 2 == 1)
    samples = pd.DataFrame({
        "sample_id": pd.Series(np.arange(n)).astype("string[pyarrow]"),
        "dataset": odd.map({True: "ChartQA", False: "MMBench"}).astype("category"),
        "family": odd.map({True: "Charts & OCR/Document", False: "General"}).astype("category"),
        "split": pd.Series(pd.Categorical.from_codes(np.zeros(n, dtype=np.int8), ["test"])),
        "question": "", "image_ref": "", "input_tokens": np.zeros(n, dtype=np.int64)})
    bundle = Bundle(name="mem", version="0", models=[ModelInfo(f"m{j}", f"m{j}") for j in range(m)], samples=samples,
                    quality=Y, cost=C, output_tokens=None, cost_bounds=CostBounds(1e-5, 0.01),
                    provenance=Provenance(source="synthetic", version="0"), has_hidden=True)
    built_rss = high_water_kb()
    choice = rng.integers(0, m, size=(1, n))
    from evaluator.predictions import Decisions

    tracemalloc.start()
    t = time.perf_counter()
    report = score_decisions(bundle, Decisions("test", ["default"], choice), replicates=1000)
    elapsed = time.perf_counter() - t
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    peak_rss = high_water_kb()
    print(json.dumps({"n": n, "m": m, "interpreter_kb": base_rss, "after_build_kb": built_rss, "peak_kb": peak_rss,
                      "scoring_traced_peak_bytes": traced_peak, "seconds": elapsed,
                      "accuracy": report.points[0].accuracy}))


def bench_memory(n: int, m: int) -> None:
    out = subprocess.run([sys.executable, __file__, "--memory-child", str(n), str(m)], capture_output=True, text=True)
    if out.returncode != 0:
        print(out.stderr)
        raise SystemExit(out.returncode)
    r = json.loads(out.stdout.strip().splitlines()[-1])
    arrays = n * m * (1 + 4) / 2**20
    print(f"[4] memory, {n:,} samples x {m} models (Y uint8 + C float32 = {arrays:,.0f} MB of matrices): "
          f"peak RSS {r['peak_kb'] / 1024:,.0f} MB in all (target <= 1024 MB), of which the scoring call "
          f"allocated at most {r['scoring_traced_peak_bytes'] / 2**20:,.0f} MB "
          f"(= {r['scoring_traced_peak_bytes'] / 2**20 / arrays:.2f}x the matrices); scored with CIs in {r['seconds']:.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--memory-child", nargs=2, type=int)
    args = parser.parse_args()
    if args.memory_child:
        memory_child(*args.memory_child)
        return
    bench_files(10 if args.quick else 100)
    bench_memory(*((50_000, 20) if args.quick else (1_000_000, 100)))


if __name__ == "__main__":
    main()
