"""Start the real app (``routerboard serve``: Gradio + one worker) in a subprocess for API and
browser tests, and stop it with everything it started."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


ROOT = Path(__file__).resolve().parents[1]
LISTEN_VARIABLES = ("ROUTERBOARD_HOST", "ROUTERBOARD_PORT", "GRADIO_SERVER_NAME", "GRADIO_SERVER_PORT", "SPACE_ID")


@contextmanager
def running_app(tmp: Path, extra_env: dict[str, str] | None = None, timeout: float = 180,
                argv: list[str] | None = None, port_variable: str = "ROUTERBOARD_PORT", root: Path = ROOT):
    """``argv`` (default ``-m leaderboard.cli serve``) run from ``root`` (the repository, or a checkout of
    another revision of it: its packages come first on the path), told its free port through
    ``port_variable`` only."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in LISTEN_VARIABLES}
    env.update({"DATABASE_URL": f"sqlite:///{tmp / 'app.db'}", "ROUTERBOARD_STORE_DIR": str(tmp / "store"),
                "ROUTERBOARD_HEARTBEAT_SECONDS": "1", port_variable: str(port), "GRADIO_ANALYTICS_ENABLED": "False",
                "ROUTERBOARD_TRAIN_STARTERS": "0",  # minutes of training per app would swamp the suite
                # one track unless a test asks for more: three sandboxes and reference scorings per app
                # would slow every app start (tests/test_generalisation_app.py serves all three)
                "ROUTERBOARD_TRACKS": "vlrb-sim",
                **(extra_env or {})})
    log = open(tmp / "app.log", "w")
    proc = subprocess.Popen([sys.executable, *(argv or ["-m", "leaderboard.cli", "serve"])], env=env, cwd=root,
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}/"
    (tmp / "app.pid").write_text(str(proc.pid))  # for benchmarks that read the server's CPU time
    try:
        end = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"app exited early:\n{(tmp / 'app.log').read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(url, timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > end:
                raise RuntimeError(f"app did not start:\n{(tmp / 'app.log').read_text()[-3000:]}")
            time.sleep(0.3)
        yield url
    finally:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=8)  # a graceful stop is tested on its own (test_resilience); then the group goes
        except ProcessLookupError:  # it exited early: the error above says why
            pass
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()


#: Debian's chromium (``apt-get install -y chromium``), never a Playwright download
CHROMIUM = "/usr/bin/chromium"
#: no sandbox (root in a container), no GPU, nothing that reaches the network on its own
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]


def launch_chromium(playwright):
    """Headless Chromium as every browser test and benchmark here starts it."""
    return playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)


def wait_until(predicate, timeout: float = 120, interval: float = 0.3, what: str = "condition"):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what}")
