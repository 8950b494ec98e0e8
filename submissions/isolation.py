"""Upload validation in child processes with a memory and a wall-time limit.

The web process never parses an upload itself: :func:`validate_isolated` hands the bytes to one of
a small pool of warm child processes, which runs :func:`submissions.validation.validate` and sends
back the result (problems, points, row count — not the decisions: the web process needs only the
verdict, and the worker validates the stored file again in its sandbox). Each child:

* runs under ``RLIMIT_AS`` = its own address space after start-up + ``memory_bytes`` (default
  1 GB), so that no upload can take more than that of any process: running out is a
  ``file_too_large`` problem, not a crash of the web process, and the memory goes back to the
  system when the child is replaced;
* is killed and replaced when a job exceeds ``wall_seconds`` (``validation_timeout``);
* gets the track's public sample ids and model names once (a slim copy of the bundle, never the
  hidden part) and never opens a file by a user-controlled name;
* exits when its parent dies (its stdin closes, or it is re-parented).

Children start once (importing pandas and pyarrow takes about a second) and are reused; at most
``processes`` validations run at once, so one user's large upload keeps the others waiting no
longer than for a free child.

Protocol, over the child's stdin/stdout: one JSON header line, then the raw bytes it announces.
Parent → child: ``{"type": "bundle", "token", "nbytes"}`` + a pickled slim bundle (the parent is
trusted); ``{"type": "validate", "token", "filename", "split", "limits", "nbytes"}`` + the upload.
Child → parent: one JSON line (never pickle: the child handled untrusted bytes).
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import pickle
import queue
import resource
import select
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import OrderedDict
from dataclasses import asdict, replace
from typing import Any

import numpy as np

from evaluator.predictions import Problem
from submissions.formats import Limits
from submissions.validation import ValidationResult

log = logging.getLogger(__name__)

MB = 1 << 20
READY = "ready"
_IO = 1 << 20
_START_SECONDS = 120.0
#: a child whose resident memory stays this far above its start-up level after a job is replaced
_KEEP_RSS = 256 * MB
_EXIT_MEMORY = 3


# ----------------------------------------------------------------------------------- both sides
def _slim(bundle: Any) -> dict[str, Any]:
    """What validation needs of a bundle: ids, splits and the model pool (no matrices, no text)."""
    return {"name": bundle.name, "version": bundle.version, "models": list(bundle.models),
            "sample_id": bundle.samples["sample_id"].astype(str).to_numpy(dtype=object),
            "split": bundle.samples["split"].astype(str).to_numpy(dtype=object),
            "cost_bounds": bundle.cost_bounds, "provenance": bundle.provenance}


def _unslim(slim: dict[str, Any]) -> Any:
    import pandas as pd

    from evaluator.bundle import Bundle

    n, m = len(slim["sample_id"]), len(slim["models"])
    samples = pd.DataFrame({"sample_id": slim["sample_id"], "dataset": "", "family": "", "split": slim["split"],
                            "question": "", "image_ref": "", "input_tokens": np.zeros(n, np.int64)})
    empty = np.broadcast_to(np.float32(np.nan), (n, m))  # no labels: validation never reads them
    return Bundle(name=slim["name"], version=slim["version"], models=slim["models"], samples=samples, quality=empty,
                  cost=empty, output_tokens=None, cost_bounds=slim["cost_bounds"], provenance=slim["provenance"],
                  has_hidden=False)


def _status_kb(field: str) -> int:
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


# ----------------------------------------------------------------------------------- child side
def _warm_up() -> None:
    """Import and run every reader once, so thread pools and lazy imports exist before the
    address-space limit is measured and set."""
    import gzip
    import io

    import pandas as pd

    from evaluator.bundle import CostBounds, ModelInfo, Provenance
    from submissions.validation import validate

    bundle = _unslim({"name": "warm-up", "version": "0", "models": [ModelInfo("m", "m")],
                      "sample_id": np.array(["a", "b"], dtype=object), "split": np.array(["test", "test"], dtype=object),
                      "cost_bounds": CostBounds(0.1, 1.0), "provenance": Provenance("warm-up", "0")})
    frame = pd.DataFrame({"sample_id": ["a", "b"], "model_id": ["m", "m"], "point": ["1", "1"]})
    buf = io.BytesIO()
    frame.to_parquet(buf)
    text = frame.to_csv(index=False).encode()
    for name, data in (("w.csv", text), ("w.csv.gz", gzip.compress(text)), ("w.parquet", buf.getvalue()),
                       ("w.jsonl", frame.to_json(orient="records", lines=True).encode())):
        assert validate(bundle, data, name).ok, name


def _watch_parent(parent: int) -> None:
    while True:
        time.sleep(1.0)
        if os.getppid() != parent:
            os._exit(0)


def _child_main(argv: list[str]) -> int:
    import argparse

    import pyarrow as pa

    parser = argparse.ArgumentParser(prog="submissions.isolation")
    parser.add_argument("--memory-bytes", type=int, required=True)
    parser.add_argument("--parent", type=int, required=True)
    args = parser.parse_args(argv)
    threading.Thread(target=_watch_parent, args=(args.parent,), daemon=True).start()
    if os.getppid() != args.parent:
        return 0
    pa.set_cpu_count(max(1, min(2, os.cpu_count() or 1)))
    from submissions.validation import validate

    _warm_up()
    base_vm = _status_kb("VmSize") * 1024
    resource.setrlimit(resource.RLIMIT_AS, (base_vm + args.memory_bytes, base_vm + args.memory_bytes))
    base_rss = _status_kb("VmRSS") * 1024

    stdin, out = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # nothing but protocol lines on the pipe

    def send(header: dict[str, Any], payload: bytes = b"") -> None:
        out.write(json.dumps(header, default=str).encode() + b"\n")
        if payload:
            out.write(payload)
        out.flush()

    bundles: OrderedDict[str, Any] = OrderedDict()
    send({"status": READY, "pid": os.getpid(), "base_vm": base_vm})
    while True:
        line = stdin.readline()
        if not line:
            return 0
        job = json.loads(line)
        try:
            payload = stdin.read(int(job["nbytes"]))
        except MemoryError:
            send({"ok": False, "memory": True})
            return _EXIT_MEMORY  # the rest of the upload is still in the pipe: start afresh
        if job["type"] == "bundle":
            bundles[job["token"]] = _unslim(pickle.loads(payload))
            while len(bundles) > 8:
                bundles.popitem(last=False)
            send({"ok": True})
            continue
        bundle = bundles.get(job["token"])
        if bundle is None:
            send({"ok": False, "error": "unknown bundle"})
            continue
        try:
            result = validate(bundle, payload, job["filename"], job["split"], Limits(**job["limits"]))
        except MemoryError:
            del payload
            send({"ok": False, "memory": True})
            return _EXIT_MEMORY
        del payload
        header = result.to_dict()  # problems, points, rows: the decisions stay here (the worker validates again)
        del result
        restart = _status_kb("VmRSS") * 1024 > base_rss + _KEEP_RSS
        header["restart"] = restart
        send(header, b"")
        if restart:  # hand the memory back to the system instead of keeping a large heap
            return 0


# ---------------------------------------------------------------------------------- parent side
class _Child:
    """One warm child process and the pipe to it."""

    def __init__(self, memory_bytes: int) -> None:
        # the child imports this very copy of the code, whatever the installed one is
        root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        path = os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH", "")) if p)
        env = {**os.environ, "PYTHONPATH": path, "ARROW_DEFAULT_MEMORY_POOL": "system", "MALLOC_ARENA_MAX": "2",
               "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "submissions.isolation", "--memory-bytes", str(memory_bytes),
             "--parent", str(os.getpid())], stdin=subprocess.PIPE, stdout=subprocess.PIPE, bufsize=0, env=env)
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.rfd, self.wfd = self.proc.stdout.fileno(), self.proc.stdin.fileno()
        os.set_blocking(self.wfd, False)
        self.buf = bytearray()
        self.bundles: set[str] = set()
        try:
            first = json.loads(self.read_line(time.monotonic() + _START_SECONDS))
        except (TimeoutError, EOFError, ValueError) as exc:
            self.close()
            raise RuntimeError(f"the validation process did not start ({type(exc).__name__})") from None
        if first.get("status") != READY:
            self.close()
            raise RuntimeError(f"the validation process did not start: {first}")

    # -- pipe helpers (select with a deadline, so that a stuck child cannot block the caller)
    @staticmethod
    def _left(deadline: float) -> float:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError
        return left

    def write(self, parts: list[bytes], deadline: float) -> None:
        for part in parts:
            view = memoryview(part)
            while len(view):
                _, ready, _ = select.select([], [self.wfd], [], self._left(deadline))
                if ready:
                    try:
                        view = view[os.write(self.wfd, view[:_IO]):]
                    except BlockingIOError:
                        pass

    def _fill(self, deadline: float) -> None:
        ready, _, _ = select.select([self.rfd], [], [], self._left(deadline))
        if ready:
            chunk = os.read(self.rfd, _IO)
            if not chunk:
                raise EOFError
            self.buf += chunk

    def read_line(self, deadline: float) -> bytes:
        while (end := self.buf.find(b"\n")) < 0:
            self._fill(deadline)
        line = bytes(self.buf[:end])
        del self.buf[:end + 1]
        return line

    def exit_code(self) -> int | None:
        try:
            return self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            return None

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        for f in (self.proc.stdin, self.proc.stdout):
            try:
                f.close()
            except OSError:
                pass


class ValidationPool:
    """At most ``processes`` warm children, each validating one upload at a time."""

    def __init__(self, memory_bytes: int = 1024 * MB, wall_seconds: float = 60.0, processes: int = 2) -> None:
        self.memory_bytes, self.wall_seconds = int(memory_bytes), float(wall_seconds)
        self.processes = max(1, int(processes))
        self._slots = threading.BoundedSemaphore(self.processes)
        self._idle: queue.LifoQueue[_Child] = queue.LifoQueue()
        self._lock = threading.Lock()
        self._closed = False

    def validate(self, bundle: Any, data: bytes, filename: str, split: str = "test",
                 limits: Limits = Limits()) -> ValidationResult:
        with self._slots:
            try:
                child = self._ready_child(bundle)
            except RuntimeError as exc:
                log.error("cannot check %s: %s", filename, exc)
                return ValidationResult(False, [Problem("internal_error", "the file could not be checked because the "
                                                        "checking process did not start; please try again later")])
            keep = False
            try:
                result, keep = self._run(child, bundle, data, filename, split, limits)
                return result
            finally:
                if keep and not self._closed:
                    self._idle.put(child)
                else:
                    child.close()
                    if not self._closed:  # the next upload should not wait for a start-up
                        threading.Thread(target=self._spawn_idle, daemon=True).start()

    def warm(self) -> None:
        """Start children until ``processes`` are idle (otherwise they start on first use)."""
        for _ in range(self.processes - self._idle.qsize()):
            self._spawn_idle()

    def _spawn_idle(self) -> None:
        try:
            child = _Child(self.memory_bytes)
        except RuntimeError as exc:
            log.warning("could not start a validation process: %s", exc)
            return
        if self._closed:
            child.close()
        else:
            self._idle.put(child)

    def _ready_child(self, bundle: Any) -> _Child:
        """An idle (or new) child that holds ``bundle``; a child that died while idle is replaced."""
        for attempt in range(2):
            child = self._take()
            try:
                self._send_bundle(child, bundle)
                return child
            except (TimeoutError, EOFError, OSError, ValueError, RuntimeError):
                child.close()
                if attempt:
                    raise RuntimeError("the validation process could not be started") from None
        raise AssertionError("unreachable")

    @staticmethod
    def _send_bundle(child: _Child, bundle: Any) -> None:
        token = bundle.__dict__.setdefault("_isolation_token", uuid.uuid4().hex)
        if token in child.bundles:
            return
        slim = pickle.dumps(_slim(bundle), protocol=pickle.HIGHEST_PROTOCOL)
        deadline = time.monotonic() + _START_SECONDS  # set-up, not counted in the upload's time
        child.write([json.dumps({"type": "bundle", "token": token, "nbytes": len(slim)}).encode() + b"\n", slim],
                    deadline)
        if not json.loads(child.read_line(deadline)).get("ok"):
            raise RuntimeError("the validation process did not take the track")
        child.bundles.add(token)

    def _take(self) -> _Child:
        while True:
            try:
                child = self._idle.get_nowait()
            except queue.Empty:
                return _Child(self.memory_bytes)
            if child.proc.poll() is None:
                return child
            child.close()

    def _run(self, child: _Child, bundle: Any, data: bytes, filename: str, split: str,
             limits: Limits) -> tuple[ValidationResult, bool]:
        from submissions.formats import detect_format

        try:
            fmt, gz = detect_format(filename)
        except ValueError:
            fmt, gz = "", False
        info = {"file_format": fmt, "gzip": gz}
        # A file that decompresses to more than half the memory cannot be parsed within it: refuse
        # it while decompressing, with that code, rather than when the memory runs out.
        limits = replace(limits, max_decompressed_bytes=min(limits.max_decompressed_bytes, self.memory_bytes // 2))
        header = {"type": "validate", "token": bundle._isolation_token, "filename": filename, "split": split,
                  "limits": asdict(limits), "nbytes": len(data)}
        deadline = time.monotonic() + self.wall_seconds
        answer: dict[str, Any] | None = None
        try:
            try:
                child.write([json.dumps(header).encode() + b"\n", data], deadline)
            except BrokenPipeError:  # it may have answered (out of memory) before it stopped reading
                deadline = min(deadline, time.monotonic() + 5)
            answer = json.loads(child.read_line(deadline))
        except TimeoutError:
            return ValidationResult(False, [Problem(
                "validation_timeout", f"checking the file took longer than {self.wall_seconds:g} s, the limit; "
                "upload a smaller file (fewer points or rows), or check it locally with `routerboard validate`")],
                **info), False
        except (EOFError, BrokenPipeError, OSError, ValueError):
            return self._died(child, filename, info), False
        if answer.get("memory"):
            return self._too_large(info), False
        if "problems" not in answer:
            log.error("validation process answered %s for %s", answer, filename)
            return ValidationResult(False, [Problem("internal_error", "the file could not be checked because of an "
                                                     "error on our side; please try again")], **info), False
        result = ValidationResult(ok=bool(answer["ok"]), problems=[Problem(**p) for p in answer["problems"]],
                                  n_rows=int(answer["n_rows"]), points=list(answer["points"]),
                                  file_format=answer.get("format", fmt), gzip=bool(answer.get("gzip", gz)))
        return result, not answer.get("restart")

    def _too_large(self, info: dict[str, Any]) -> ValidationResult:
        return ValidationResult(False, [Problem(
            "file_too_large", f"checking the file needs more than {self.memory_bytes >> 20} MB of memory, the limit "
            "for one upload; submit fewer or shorter rows (long ids or labels, many points)")], **info)

    def _died(self, child: _Child, filename: str, info: dict[str, Any]) -> ValidationResult:
        code = child.exit_code()
        if code in (_EXIT_MEMORY, -signal.SIGKILL):  # our own exit after MemoryError, or the OOM killer
            return self._too_large(info)
        log.error("validation process stopped (exit %s) while checking %s", code, filename)
        return ValidationResult(False, [Problem(
            "validation_crashed", "the file reader stopped on this file (it may be damaged, or need more memory than "
            "allowed); write the file again with a standard library (pandas, pyarrow) and upload the new file")],
            **info)

    def close(self) -> None:
        self._closed = True
        while True:
            try:
                self._idle.get_nowait().close()
            except queue.Empty:
                return


_POOLS: dict[tuple[int, float, int], ValidationPool] = {}
_POOLS_LOCK = threading.Lock()


def pool_for(memory_bytes: int, wall_seconds: float, processes: int) -> ValidationPool:
    """The process-wide pool for these limits (created on first use, closed at exit)."""
    key = (int(memory_bytes), float(wall_seconds), int(processes))
    with _POOLS_LOCK:
        if key not in _POOLS:
            _POOLS[key] = ValidationPool(*key)
        return _POOLS[key]


@atexit.register
def close_pools() -> None:
    with _POOLS_LOCK:
        for pool in _POOLS.values():
            pool.close()
        _POOLS.clear()


def validate_isolated(bundle: Any, data: bytes, filename: str, split: str = "test", limits: Limits = Limits(),
                      settings: Any = None) -> ValidationResult:
    """:func:`submissions.validation.validate` in a child process under the limits of ``settings``
    (``validation_memory_bytes``, ``validation_wall_seconds``, ``validation_processes``; defaults
    1 GB, 60 s, 2). Never raises on bad content; memory exhaustion and timeouts are problems."""
    pool = pool_for(getattr(settings, "validation_memory_bytes", 1024 * MB),
                    getattr(settings, "validation_wall_seconds", 60.0),
                    getattr(settings, "validation_processes", 2))
    return pool.validate(bundle, data, filename, split, limits)


if __name__ == "__main__":
    sys.exit(_child_main(sys.argv[1:]))
