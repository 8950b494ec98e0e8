"""The sandbox: the only process that reads a track's hidden part and an uploaded file together.

A worker starts one sandbox child per track and sends it jobs, one JSON line each, over a pipe; the
child answers with one JSON line of *aggregates* (the scoring report) or a specific error. The child:

* runs under rlimits — address space (``RLIMIT_AS``) for its whole life, CPU seconds
  (``RLIMIT_CPU``) re-armed per job — and the parent kills it when a job exceeds its wall time;
* reads uploads only from the content-addressed store, by digest (no user-controlled path), and
  parses them with pandas/pyarrow — never pickle, never eval;
* dies with its parent (``PR_SET_PDEATHSIG``), so a killed worker leaves no orphan behind.

A child that crashed, hit a limit or timed out is replaced before the next job. Keeping one child
alive across jobs is what makes scoring cheap: the bundle is loaded and the bootstrap resample
counts are drawn once, not per upload.
"""

from __future__ import annotations

import json
import os
import queue
import resource
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from typing import Any

READY = "ready"


@dataclass
class SandboxLimits:
    memory_bytes: int = 6 << 30
    cpu_seconds: int = 300
    wall_seconds: float = 600
    max_bytes: int = 256 << 20
    max_decompressed_bytes: int = 1024 << 20


@dataclass
class SandboxResult:
    """``report``: what the board may show (public part, through the Ladder); ``private``: the exact
    private-part report; ``references``: ``{"public": …, "private": …}`` reports of the track's
    reference entries."""

    ok: bool
    report: dict[str, Any] | None = None
    private: dict[str, Any] | None = None
    references: dict[str, Any] | None = None
    #: per released point, its public-part token sums (re-pricing data; see evaluator.board)
    tokens: dict[str, list[float]] = field(default_factory=dict)
    #: the track's pricing basis (``evaluator.pricing.PricingBasis.to_dict``), for a "pricing" job
    pricing: dict[str, Any] | None = None
    code: str = ""
    error: str = ""
    problems: list[dict[str, Any]] = field(default_factory=list)


# ----------------------------------------------------------------------------------- child side
def die_with_parent(sig: int = signal.SIGKILL) -> None:
    """In a child process: receive ``sig`` when the parent dies, however it dies (PR_SET_PDEATHSIG)."""
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, sig)
    except OSError:
        pass


def _arm_cpu(seconds: int) -> None:
    used = resource.getrusage(resource.RUSAGE_SELF)
    now = int(used.ru_utime + used.ru_stime) + 1
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    soft = now + seconds
    if hard != resource.RLIM_INFINITY and soft > hard:
        soft = hard
    resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))


class _DecisionCache:
    """A participant's released points, re-read for every later file of theirs.

    Per-sample values of test samples are never stored anywhere: a released point is re-scored from
    its file's decisions. Parsing a 100-point file takes seconds, so the decisions of every valid file
    are kept once, compactly (model columns as int16, ``<store>/decisions/ab/<sha256>.npz``, written
    atomically), and the last few in memory; a participant with released points in many files then
    costs each new job milliseconds per file, not a parse each."""

    def __init__(self, bundle: Any, store: Any, size: int = 256) -> None:
        from collections import OrderedDict

        self.bundle, self.store, self.size = bundle, store, size
        self._files: "OrderedDict[str, tuple[list[str], Any]]" = OrderedDict()

    def _path(self, digest: str):
        self.store.path_for(digest)  # refuses anything but a sha256 digest
        return self.store.root / "decisions" / digest[:2] / f"{digest}.npz"

    def _remember(self, digest: str, points: list[str], choices: Any) -> None:
        self._files[digest] = (points, choices)
        self._files.move_to_end(digest)
        while len(self._files) > self.size:
            self._files.popitem(last=False)

    def validate(self, digest: str, fmt: str, gz: bool, limits: Any) -> Any:
        """Validate a stored upload; a valid one's decisions are kept for when it becomes a reference."""
        import numpy as np

        from submissions.validation import validate

        name = "upload." + fmt + (".gz" if gz else "")
        result = validate(self.bundle, self.store.get(digest), name, "test", limits)
        if result.ok and result.decisions is not None:
            choices = result.decisions.choices.astype(np.int16)
            self._remember(digest, list(result.decisions.points), choices)
            path = self._path(digest)
            if not path.exists():
                path.parent.mkdir(parents=True, exist_ok=True)
                tmp = path.with_name(f".{digest}.{os.getpid()}.npz")
                np.savez(tmp, choices=choices, points=np.array(result.decisions.points, dtype=str))
                os.replace(tmp, path)
        return result

    def _decisions(self, ref: dict[str, Any], limits: Any) -> tuple[list[str], Any]:
        import numpy as np

        digest = ref["sha256"]
        hit = self._files.get(digest)
        if hit is not None:
            self._files.move_to_end(digest)
            return hit
        path = self._path(digest)
        if path.exists():
            with np.load(path, allow_pickle=False) as z:
                points, choices = [str(p) for p in z["points"]], z["choices"]
            self._remember(digest, points, choices)
            return points, choices
        result = self.validate(digest, ref["format"], bool(ref.get("gzip")), limits)
        if not result.ok:
            raise RuntimeError(f"released point {ref['label']!r} cannot be re-read from its stored file")
        return self._files[digest]

    def released(self, refs: list[dict[str, Any]], limits: Any) -> Any:
        """The participant's released points (``refs``: sha256, format, gzip, point of each)."""
        import numpy as np

        from evaluator.board import Released

        n_test = int(self.bundle.split_rows("test").size)
        if not refs:
            return Released.none(n_test)
        rows = []
        for ref in refs:
            points, choices = self._decisions(ref, limits)
            if ref["point"] not in points or choices.shape[1] != n_test:
                raise RuntimeError(f"a released point ({ref['point']!r}) cannot be re-read from its stored file")
            rows.append(choices[points.index(ref["point"])].astype(np.int64))
        return Released(np.stack(rows))


def _child_main(argv: list[str]) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="submissions.sandbox")
    parser.add_argument("--bundle", required=True)
    parser.add_argument("--hidden", required=True)
    parser.add_argument("--store", required=True)
    parser.add_argument("--memory-bytes", type=int, required=True)
    args = parser.parse_args(argv)
    die_with_parent()
    resource.setrlimit(resource.RLIMIT_AS, (args.memory_bytes, args.memory_bytes))

    import evaluator
    from evaluator.board import score_for_board, score_references_for_board
    from submissions.formats import Limits
    from submissions.store import FileStore

    out = sys.stdout
    sys.stdout = sys.stderr  # nothing but protocol lines on the pipe

    def send(obj: dict[str, Any]) -> None:
        out.write(json.dumps(obj, allow_nan=False) + "\n")
        out.flush()

    bundle = evaluator.load_bundle(args.bundle, hidden=args.hidden, images=False)
    store = FileStore(args.store)
    # Warm up before taking jobs: split statistics and the bootstrap resample counts of both test
    # parts are computed once here, so the first upload is as fast as the thousandth.
    n_test = int(bundle.split_rows("test").size)
    if n_test:
        import numpy as np

        score_for_board(bundle, evaluator.Decisions("test", ["warm-up"], np.zeros((1, n_test), dtype=np.int64)))
    decided = _DecisionCache(bundle, store)
    send({"status": READY, "track": bundle.track_id})
    for line in sys.stdin:
        try:
            job = json.loads(line)
        except json.JSONDecodeError:
            send({"ok": False, "code": "protocol", "error": "malformed job line"})
            continue
        _arm_cpu(int(job.get("cpu_seconds", 300)))
        try:
            if job.get("type") == "references":
                send({"ok": True, "references": score_references_for_board(bundle)})
                continue
            if job.get("type") == "pricing":
                from evaluator.pricing import pricing_basis

                send({"ok": True, "pricing": pricing_basis(bundle).to_dict()})
                continue
            limits = Limits(int(job["max_bytes"]), int(job["max_decompressed_bytes"]))
            result = decided.validate(job["sha256"], job["format"], bool(job.get("gzip")), limits)
            if not result.ok or result.decisions is None:
                send({"ok": False, "code": "invalid", "error": "the file did not pass validation",
                      "problems": [p.to_dict() for p in result.problems]})
                continue
            ladder = job.get("ladder") or {}
            released = decided.released(ladder.get("refs") or [], limits)
            board = score_for_board(bundle, result.decisions, released)
            send({"ok": True, **board.to_dict()})
        except MemoryError:
            send({"ok": False, "code": "memory", "error": "scoring needed more memory than the sandbox allows"})
            return 3  # start fresh: the heap may be fragmented
        except Exception as exc:  # report, don't die: the parent fails the job with this message
            send({"ok": False, "code": "error", "error": f"scoring failed: {type(exc).__name__}: {exc}"[:500]})
    return 0


# ---------------------------------------------------------------------------------- parent side
class Sandbox:
    """Parent-side handle on one sandbox child for one track."""

    def __init__(self, public_path: str, hidden_path: str, store_dir: str, limits: SandboxLimits) -> None:
        self.public_path, self.hidden_path, self.store_dir = str(public_path), str(hidden_path), str(store_dir)
        self.limits = limits
        self._proc: subprocess.Popen[str] | None = None
        self._lines: queue.Queue[str | None] = queue.Queue()

    def _start(self) -> None:
        cmd = [sys.executable, "-m", "submissions.sandbox", "--bundle", self.public_path, "--hidden",
               self.hidden_path, "--store", self.store_dir, "--memory-bytes", str(self.limits.memory_bytes)]
        self._proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1,
                                      env={**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")})
        self._lines = queue.Queue()
        threading.Thread(target=self._pump, args=(self._proc, self._lines), daemon=True).start()
        first = self._read(timeout=max(120, self.limits.wall_seconds))
        if first is None or first.get("status") != READY:
            self.close()
            raise RuntimeError(f"sandbox for {self.public_path} did not start: {first}")

    @staticmethod
    def _pump(proc: subprocess.Popen[str], lines: "queue.Queue[str | None]") -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.put(line)
        lines.put(None)

    def _read(self, timeout: float) -> dict[str, Any] | None:
        try:
            line = self._lines.get(timeout=timeout)
        except queue.Empty:
            raise TimeoutError from None
        if line is None:
            return None
        return json.loads(line)

    def ensure_started(self) -> None:
        if self._proc is None or self._proc.poll() is not None:
            self._start()

    def _death_reason(self) -> SandboxResult:
        if self._proc is None:  # closed by another thread while waiting: the worker is stopping
            return SandboxResult(False, code="stopped", error="scoring was interrupted: the worker is stopping")
        try:
            code = self._proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            code = self._proc.wait()
        self._proc = None
        if code == -signal.SIGXCPU:
            return SandboxResult(False, code="cpu", error=f"scoring used more than {self.limits.cpu_seconds} s of CPU "
                                 "time, the limit; submit a smaller file")
        if code == -signal.SIGKILL:
            return SandboxResult(False, code="memory", error="the scoring process was killed (most likely it ran out "
                                 "of memory); submit a smaller file")
        return SandboxResult(False, code="crash", error=f"the scoring process stopped unexpectedly (exit {code})")

    def run(self, job: dict[str, Any], wall_seconds: float | None = None) -> SandboxResult:
        self.ensure_started()
        assert self._proc is not None and self._proc.stdin is not None
        job = {"cpu_seconds": self.limits.cpu_seconds, "max_bytes": self.limits.max_bytes,
               "max_decompressed_bytes": self.limits.max_decompressed_bytes, **job}
        try:
            self._proc.stdin.write(json.dumps(job) + "\n")
            self._proc.stdin.flush()
            wall = wall_seconds or self.limits.wall_seconds
            answer = self._read(timeout=wall)
        except TimeoutError:
            self.close()
            return SandboxResult(False, code="timeout", error=f"scoring took longer than {wall:g} s, "
                                 "the limit; submit a smaller file")
        except (BrokenPipeError, OSError):
            return self._death_reason()
        if answer is None:
            return self._death_reason()
        if answer.get("code") == "memory":
            self.close()
        if answer.get("ok"):
            return SandboxResult(True, report=answer.get("report"), private=answer.get("private"),
                                 references=answer.get("references"), tokens=answer.get("tokens") or {},
                                 pricing=answer.get("pricing"))
        return SandboxResult(False, code=answer.get("code", "error"), error=answer.get("error", ""),
                             problems=answer.get("problems") or [])

    def close(self) -> None:
        if self._proc is not None:
            if self._proc.poll() is None:
                self._proc.kill()
            self._proc.wait()
            self._proc = None


if __name__ == "__main__":
    sys.exit(_child_main(sys.argv[1:]))
