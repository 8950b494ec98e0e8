"""Importers: peer benchmarks' on-disk formats → :class:`evaluator.bundle.Bundle`.

* :func:`import_vlrb` — VL-RouterBench step-3 outputs (``data/matrices``, ``data/registry``,
  ``SPLITS``, ``config``, optional ``BENCHMARKS``).
* :func:`import_mmr` — MMR-Bench's one-row-per-sample CSV (``<model>_correct``, ``<model>_cost``).

Both raise :class:`evaluator.errors.ImportFormatError` naming the file and what to fix.
"""

from evaluator.importers.mmr import import_mmr
from evaluator.importers.vlrb import import_vlrb

__all__ = ["import_mmr", "import_vlrb"]
