"""The benchmark script keeps running (a quick, small-size pass); its numbers are read by people,
not asserted here — timings in unit tests would be flaky and dishonest."""

import subprocess
import sys

from leaderboard.cli import repo_root


def test_scoring_benchmark_runs_quick():
    out = subprocess.run([sys.executable, "-m", "leaderboard.cli", "bench", "--only", "scoring", "--quick"],
                         capture_output=True, text=True, cwd=repo_root(), timeout=600)
    assert out.returncode == 0, out.stderr
    for tag in ("[1]", "[2]", "[3]", "[4]"):
        assert tag in out.stdout
    assert "x bare" in out.stdout and "thresholds" in out.stdout


def test_queue_benchmark_runs_quick():
    from conftest import PG_UNAVAILABLE

    extra = ["--sqlite"] if PG_UNAVAILABLE else []
    out = subprocess.run([sys.executable, "tests/benchmarks/bench_queue.py", "--quick", *extra],
                         capture_output=True, text=True, cwd=repo_root(), timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "submissions/s" in out.stdout and "x bare" in out.stdout


def test_app_benchmark_runs_quick():
    out = subprocess.run([sys.executable, "tests/benchmarks/bench_app.py", "--quick"],
                         capture_output=True, text=True, cwd=repo_root(), timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "Pareto figure" in out.stdout and "bare pandas read" in out.stdout


def test_integrity_benchmark_runs_quick():
    out = subprocess.run([sys.executable, "tests/benchmarks/bench_integrity.py", "--quick"],
                         capture_output=True, text=True, cwd=repo_root(), timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    for tag in ("[1]", "[2]", "[3]", "[4]", "[5]"):
        assert tag in out.stdout
    # the decoding rows: raw recovers what it probes, the Ladder nothing
    rows = [line.split() for line in out.stdout.splitlines() if line.startswith("one ")]
    assert len(rows) == 2 and all(int(r[-1]) == 0 and int(r[-3]) == 0 for r in rows), out.stdout


def test_uploads_benchmark_runs_quick():
    out = subprocess.run([sys.executable, "-m", "leaderboard.cli", "bench", "--only", "uploads", "--quick"],
                         capture_output=True, text=True, cwd=repo_root(), timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    for tag in ("[1]", "[2]", "[3]"):
        assert tag in out.stdout
    assert "too_many_rows" in out.stdout and "before" in out.stdout and "after" in out.stdout


def test_prices_benchmark_runs_quick():
    out = subprocess.run([sys.executable, "tests/benchmarks/bench_prices.py", "--quick"],
                         capture_output=True, text=True, cwd=repo_root(), timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    for tag in ("[1]", "[2]", "[3]"):
        assert tag in out.stdout
    assert "x the table build" in out.stdout
