"""Generalisation: the starter routers in-distribution (``vlrb-sim``) against held-out datasets
(``vlrb-sim-heldout``) and new models (``vlrb-sim-newmodels``), side by side in one run.

Prints, per track and router: training time (features cached after the first router of a track),
test rank score and accuracy at the best-dev-rank-score point (the point a researcher would pick
without test labels) and the best test point, the StrongestPerDataset lookup beside them; on the
held-out track the accuracy on held-out vs in-distribution test datasets; on the new-models track the
share of test samples routed to the new models, and the same router routing among the known models
only (what a router that ignores new releases gets).

Run: ``routerboard bench --only generalisation`` (minutes: MiniLM encodes each track's questions once,
cached afterwards under ``$ROUTERBOARD_DATA_DIR/features``).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

import numpy as np

os.environ.setdefault("ROUTERBOARD_DATA_DIR", os.path.join(tempfile.gettempdir(), "routerboard-bench-data"))

import evaluator  # noqa: E402
from evaluator.generalisation import HELD_OUT, IN_DISTRIBUTION, with_heldout_groups  # noqa: E402
from evaluator.tracks import DEFAULT_TRACKS  # noqa: E402
from submissions.routers.sweep import ROUTERS, train_sweep  # noqa: E402


def _known_only(bundle: evaluator.Bundle, router: str) -> float:
    """Test rank score of ``router`` trained as usual but routing among the known models only."""
    public = evaluator.load_bundle(bundle.name, hidden=False)
    known = [m for m in public.models if not m.unseen]
    keep = [j for j, m in enumerate(public.models) if not m.unseen]
    narrowed = evaluator.Bundle(name=public.name, version=public.version, models=known, samples=public.samples,
                                quality=public.quality[:, keep], cost=public.cost[:, keep],
                                output_tokens=None if public.output_tokens is None else public.output_tokens[:, keep],
                                cost_bounds=public.cost_bounds, provenance=public.provenance, has_hidden=False,
                                images=public.images, embeddings=public.embeddings)
    result = train_sweep(narrowed, router, target="test", progress=False)
    report = evaluator.score(bundle, result.predictions, "test", replicates=0)
    best_dev = max(result.dev_rank_scores, key=result.dev_rank_scores.get)
    return next(p.rank_score for p in report.points if p.point == best_dev)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tracks", default=",".join(DEFAULT_TRACKS))
    parser.add_argument("--routers", default=",".join(ROUTERS))
    args = parser.parse_args()
    for name in args.tracks.split(","):
        bundle = evaluator.load_bundle(name)
        public = evaluator.load_bundle(name, hidden=False)
        refs = evaluator.score_references(bundle, "test", replicates=0)
        lookup = refs["StrongestPerDataset"].points[0]
        s = bundle.summary()
        print(f"\n[{name}] {s['samples']:,} samples, {s['splits']['test']:,} test; unseen datasets "
              f"{s['unseen_datasets'] or '-'}; unseen models {s['unseen_models'] or '-'}")
        print(f"  StrongestPerDataset: rank score {100 * lookup.rank_score:.2f}, accuracy {100 * lookup.accuracy:.1f}%"
              + (_groups(bundle, refs["StrongestPerDataset"].to_dict()["points"][0]) if bundle.unseen_datasets else ""))
        for router in args.routers.split(","):
            t0 = time.perf_counter()
            result = train_sweep(public, router, target="test", progress=False)
            seconds = time.perf_counter() - t0
            report = with_heldout_groups(bundle, evaluator.score(bundle, result.predictions, "test",
                                                                 replicates=0).to_dict())
            best_dev = max(result.dev_rank_scores, key=result.dev_rank_scores.get)
            at_dev = next(p for p in report["points"] if p["point"] == best_dev)
            best = max(report["points"], key=lambda p: p["rank_score"])
            line = (f"  {router:6s} {seconds:6.1f} s  at best dev point ({best_dev}): rank score "
                    f"{100 * at_dev['rank_score']:.2f} ({100 * (at_dev['rank_score'] - lookup.rank_score):+.2f} vs lookup), "
                    f"accuracy {100 * at_dev['accuracy']:.1f}%; best test point {100 * best['rank_score']:.2f}")
            if bundle.unseen_datasets:
                line += _groups(bundle, at_dev)
            if bundle.unseen_models:
                picks = result.predictions[result.predictions.point == best_dev]["model_id"]
                share = float(picks.isin(bundle.unseen_models).mean())
                line += (f"; {100 * share:.0f}% routed to new models; known models only: rank score "
                         f"{100 * _known_only(bundle, router):.2f}")
            print(line, flush=True)


def _groups(bundle: evaluator.Bundle, point: dict) -> str:
    groups = point.get("per_heldout") or with_heldout_groups(bundle, {"points": [point]})["points"][0]["per_heldout"]
    return (f"; held-out datasets {100 * groups[HELD_OUT]['accuracy']:.1f}%, "
            f"in-distribution {100 * groups[IN_DISTRIBUTION]['accuracy']:.1f}%")


if __name__ == "__main__":
    main()
