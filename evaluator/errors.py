"""Errors the evaluator raises on purpose.

Each carries a message that says what is wrong, where, and how to fix it, so that callers
(CLI, worker, app) can show it to a researcher as it is, without a traceback.
"""

from __future__ import annotations


class EvaluatorError(Exception):
    """Base class: anything the evaluator refuses for a reason it can explain."""


class BundleError(EvaluatorError):
    """A benchmark bundle on disk is missing a file, inconsistent, or of an unknown format."""


class ImportFormatError(BundleError):
    """A peer benchmark's files (VL-RouterBench, MMR-Bench) are not in the layout expected."""


class HiddenPartMissing(EvaluatorError):
    """Test-split labels were asked for, but this process was not given the hidden part."""


class PredictionError(EvaluatorError):
    """Routing decisions do not fit the bundle (unknown ids, missing samples, …).

    ``problems`` holds every :class:`evaluator.predictions.Problem` found, not just the first.
    """

    def __init__(self, message: str, problems: list | None = None) -> None:
        super().__init__(message)
        self.problems = list(problems or [])
