"""Submissions: prediction-file formats, validation, storage, the evaluation queue and policy.

Sits between the app (``leaderboard``) and the pure scoring core (``evaluator``): it imports the
evaluator, never the leaderboard.
"""
