"""The floor a Gradio page sets on this machine: a bare ``gr.Blocks`` with only the leaderboard's first
page (the same 100 rows and columns, from a CSV the benchmark writes) and a line filled by a load event,
as ``bench_app`` measures it beside the real app. Run: ``python bare_page.py TABLE.csv`` (port from
``GRADIO_SERVER_PORT``)."""

import sys

import gradio as gr
import pandas as pd


def main(table: str) -> None:
    frame = pd.read_csv(table)
    with gr.Blocks(title="bare page") as app:
        gr.Markdown("# Bare Gradio page")
        gr.Dataframe(value=frame, elem_id="leaderboard-table", interactive=False, wrap=True, max_height=700)
        count = gr.Markdown(elem_id="lb-count")
        app.load(lambda: f"{len(frame)} matching entries", None, count)
    app.queue().launch()


if __name__ == "__main__":
    main(sys.argv[1])
