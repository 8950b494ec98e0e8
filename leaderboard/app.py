"""The Gradio app, and ``serve`` which runs it with one evaluation worker beside it.

The web process talks to the database through :class:`submissions.service.SubmissionService` and
loads bundles with ``hidden=False``: it never reads test labels.
"""

from __future__ import annotations

import atexit
import os
import subprocess
import sys

import gradio as gr
import pandas as pd

import evaluator
from submissions.config import Settings
from submissions.service import SubmissionService


def leaderboard_frame(service: SubmissionService, track: str | None = None) -> pd.DataFrame:
    rows = service.leaderboard_rows(track)
    return pd.DataFrame([{"Router": r["router"], "Team": r["team"], "Accuracy (%)": round(100 * r["accuracy"], 1),
                          "Cost ($/1k queries)": round(1000 * r["cost"], 4),
                          "Rank score": round(100 * r["rank_score"], 1)} for r in rows],
                        columns=["Router", "Team", "Accuracy (%)", "Cost ($/1k queries)", "Rank score"])


def build_app(service: SubmissionService) -> gr.Blocks:
    track = service.default_track
    bundle = service.bundle(track)
    badge = " · **simulated track**" if bundle.provenance.simulated else ""
    with gr.Blocks(title="Router leaderboard") as app:
        gr.Markdown(f"# Router leaderboard\nTrack `{track}`{badge}")
        table = gr.Dataframe(value=lambda: leaderboard_frame(service, track), label="Leaderboard (hidden test split)",
                             interactive=False)
        gr.Button("Refresh").click(lambda: leaderboard_frame(service, track), outputs=table)
    return app


def start_worker() -> subprocess.Popen:
    """One worker beside the app: the embedded default needs no separate set-up."""
    proc = subprocess.Popen([sys.executable, "-m", "leaderboard.cli", "worker"])
    atexit.register(lambda: proc.poll() is None and proc.terminate())
    return proc


def serve(host: str | None = None, port: int | None = None, with_worker: bool = True) -> None:
    evaluator.tracks.ensure_builtin(evaluator.DEFAULT_TRACK)  # build the track once, before both start
    service = SubmissionService(Settings.from_env())
    if with_worker:
        start_worker()
    build_app(service).launch(server_name=host or os.environ.get("ROUTERBOARD_HOST", "127.0.0.1"),
                              server_port=port or int(os.environ.get("ROUTERBOARD_PORT", "7860")))
