"""The Gradio app. For now a single page listing the reference entries of the default track on the
public dev split (the full leaderboard, Pareto plots and upload arrive with the app issue).

The web process loads bundles with ``hidden=False``: it never reads test labels.
"""

from __future__ import annotations

import gradio as gr
import pandas as pd

import evaluator


def reference_table(track: str = evaluator.DEFAULT_TRACK, split: str = "dev") -> pd.DataFrame:
    """Reference entries scored on a public split, formatted for reading."""
    bundle = evaluator.load_bundle(track, hidden=False)
    rows = []
    for name, report in evaluator.score_references(bundle, split, replicates=200).items():
        p = report.points[0]
        lo, hi = p.ci["rank_score"]
        rows.append({"Entry": name, "Accuracy (%)": round(100 * p.accuracy, 1),
                     "Cost ($/1k queries)": round(1000 * p.cost, 4),
                     "Rank score": round(100 * p.rank_score, 1),
                     "Rank score 95% CI": f"{100 * lo:.1f}–{100 * hi:.1f}"})
    return pd.DataFrame(rows).sort_values("Rank score", ascending=False, ignore_index=True)


def build_app(track: str = evaluator.DEFAULT_TRACK) -> gr.Blocks:
    bundle = evaluator.load_bundle(track, hidden=False)
    badge = " · **simulated track**" if bundle.provenance.simulated else ""
    with gr.Blocks(title="Router leaderboard") as app:
        gr.Markdown(f"# Router leaderboard\nTrack `{bundle.track_id}`{badge} — reference entries on the public "
                    "dev split. Uploads and the hidden-test leaderboard are coming.")
        gr.Dataframe(value=reference_table(track), label="Reference entries (dev split)", interactive=False)
    return app
