"""Starter routers trained in the background on an app's first start.

A newcomer should see learned routers on the board within minutes of ``python app.py``, without
running anything. So the app starts this trainer (a separate, niced process) for every track whose
starter files are missing; it trains the routers one by one, fastest first, writes each prediction
file as soon as it exists (``submissions.routers.starters``), and records its progress in
``progress.json`` beside them, which the app's header shows. Workers pick new starter files up while
idle and queue them, so each router joins the board when it is ready. The files are kept with the
track version: later starts find them and train nothing.

One trainer per track at a time: a lock file holding the trainer's pid (a stale lock, whose process
is gone, is taken over).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import traceback
from pathlib import Path
from typing import Any

from submissions.routers.starters import starter_dir

#: the order the background trainer works in: fastest first, so something is on the board early
ORDER = ("knn", "linear", "mlp")
PROGRESS = "progress.json"
LOCK = ".training.lock"


def missing(track_id: str, routers: tuple[str, ...] = ORDER) -> list[str]:
    """Routers whose starter file for this track version does not exist yet."""
    out = starter_dir(track_id)
    return [r for r in routers if not (out / f"{r}.csv").exists()]


def progress(track_id: str) -> dict[str, Any] | None:
    """The trainer's last report (``state``: training | done | failed), or None if it never ran."""
    try:
        return json.loads((starter_dir(track_id) / PROGRESS).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _write_progress(track_id: str, **state: Any) -> None:
    out = starter_dir(track_id)
    out.mkdir(parents=True, exist_ok=True)
    tmp = out / f".{PROGRESS}.{os.getpid()}"
    tmp.write_text(json.dumps({**state, "updated": time.time()}), encoding="utf-8")
    os.replace(tmp, out / PROGRESS)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def training(track_id: str) -> bool:
    """Whether a live trainer holds the track's lock."""
    try:
        holder = int((starter_dir(track_id) / LOCK).read_text().strip() or 0)
    except (OSError, ValueError):
        return False
    return bool(holder) and _alive(holder)


def _take_lock(track_id: str) -> Path | None:
    """The lock file, now ours; None when another live trainer holds it."""
    out = starter_dir(track_id)
    out.mkdir(parents=True, exist_ok=True)
    lock = out / LOCK
    for _ in range(2):
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            if training(track_id):
                return None
            lock.unlink(missing_ok=True)  # stale: its trainer is gone
            continue
        with os.fdopen(fd, "w") as fh:
            fh.write(str(os.getpid()))
        return lock
    return None


def train_missing(spec: str, routers: tuple[str, ...] = ORDER) -> list[str]:
    """Train and store every missing starter of a track (``spec``: bundle directory or built-in
    name); returns the routers trained. Needs only the public part of the track."""
    import evaluator
    from submissions.routers.starters import write_starter
    from submissions.routers.sweep import train_sweep
    from submissions.routers.unseen import how_text

    bundle = evaluator.load_bundle(spec, hidden=False)
    todo = missing(bundle.track_id, routers)
    if not todo:
        return []
    lock = _take_lock(bundle.track_id)
    if lock is None:
        return []
    done = [r for r in routers if r not in todo]
    trained: list[str] = []
    started = time.time()
    try:
        for router in todo:
            _write_progress(bundle.track_id, state="training", router=router, done=done, todo=list(todo),
                            started=started)
            result = train_sweep(bundle, router, target="test", progress=False)
            write_starter(bundle.track_id, router, result.predictions,
                          {"track": bundle.track_id, "seconds": result.seconds,
                           "dev_rank_scores": result.dev_rank_scores, "k": result.chosen_k, "trained_by": "app",
                           "throughput": result.throughput, "unseen": how_text(bundle)})
            done.append(router)
            trained.append(router)
        _write_progress(bundle.track_id, state="done", done=done, todo=[], started=started,
                        seconds=time.time() - started)
    except Exception as exc:  # recorded for the header; the next start tries again
        _write_progress(bundle.track_id, state="failed", done=done, error=f"{type(exc).__name__}: {exc}"[:300],
                        started=started)
        traceback.print_exc()
    finally:
        lock.unlink(missing_ok=True)
    return trained


def status_text(track_id: str) -> str:
    """One line for the app's header while starters are being trained (empty otherwise)."""
    from submissions.routers.starters import DISPLAY

    p = progress(track_id)
    if not p or p.get("state") == "done" or (p.get("state") == "training" and not training(track_id)):
        return ""  # finished, or a trainer that was stopped: the next start resumes it
    names = lambda rs: ", ".join(DISPLAY.get(r, r).split(" (")[0] for r in rs)  # noqa: E731
    if p.get("state") == "failed":
        return f"Training the starter routers failed ({p.get('error', '')}); the next start tries again."
    minutes = max(0, int((time.time() - p.get("started", time.time())) // 60))
    ready = p.get("done", [])
    total = len(set(ready) | set(p.get("todo", [])))
    done = f"{names(ready)} ready; " if ready else ""
    return (f"Training the starter routers in the background — {done}{names([p['router']])} training "
            f"({len(ready)} of {total} ready, {minutes} min so far). Each joins the board as soon as it is ready.")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="submissions.routers.background")
    parser.add_argument("--track", required=True)
    args = parser.parse_args(argv)
    try:
        os.nice(10)  # never slow the app or the workers down
    except OSError:
        pass
    train_missing(args.track)
    return 0


if __name__ == "__main__":
    sys.exit(main())
