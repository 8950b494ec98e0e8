"""The leaderboard: tables, figures, Hub I/O, the Gradio UI and the ``routerboard`` command line.

Top of the import chain: it may import ``submissions`` and ``evaluator``; neither imports it.
"""
