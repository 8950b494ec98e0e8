"""Releases: the private part revealed, Kaggle-style.

The live board ranks what the Ladder released on the public part. A release, cut by an admin, ranks
each participant's final submissions (chosen by them, up to ``MAX_FINAL``; by default their best
shown one) on the private part, next to their public rank and the shift between the two. Each
entry is scored at its headline point on the live board — its best *shown* point, chosen on the
public part as a participant would choose it, so a file of many random points gains nothing from
the private part's noise — and only that point is published, at the Ladder's precision (per-family
values coarsened the same way): publishing every point of a final exactly would let one file of
single-sample variations read ~200 private values per release. Releases are kept and never change.

These functions take a session and work on rows; :class:`submissions.service.SubmissionService`
wraps them with permission checks.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from evaluator.baselines import ORACLE_CURVE
from evaluator.ladder import coarse_groups, shown_point
from submissions.db import utcnow
from submissions.models import PrivatePoint, Release, ReleaseEntry, ResultPoint, Submission, User
from submissions.status import Kind, Status, Visibility


def _finals(session: Session, track_id: int) -> list[Submission]:
    """Every participant's final submissions, and every reference entry."""
    subs = session.execute(select(Submission).where(
        Submission.track_id == track_id, Submission.status == Status.DONE.value,
        Submission.visibility == Visibility.PUBLIC.value)).scalars().all()
    best_shown = dict(session.execute(
        select(ResultPoint.submission_id, ResultPoint.rank_score)
        .join(Submission, Submission.id == ResultPoint.submission_id)
        .where(Submission.track_id == track_id, ResultPoint.released, ResultPoint.point == Submission.best_point)).all())
    by_ladder: dict[str, list[Submission]] = {}
    chosen: list[Submission] = []
    for sub in subs:
        if sub.kind == Kind.REFERENCE.value or not sub.ladder_key:
            if sub.router_name != ORACLE_CURVE:  # a curve of thresholds, not an entry to rank
                chosen.append(sub)
        else:
            by_ladder.setdefault(sub.ladder_key, []).append(sub)
    for mine in by_ladder.values():
        finals = [s for s in mine if s.final_choice]
        if not finals:
            shown = [s for s in mine if s.id in best_shown]
            finals = [max(shown, key=lambda s: (best_shown[s.id], -s.id))] if shown else []
        chosen.extend(finals)
    return chosen


def cut_release(session: Session, track_id: int, admin: str, note: str,
                public_ranks: dict[int, tuple[int, float]], bounds: tuple[float, float]) -> Release:
    """Rank the finals on the private part and store the release. ``public_ranks``: submission id →
    (rank, shown rank score) on the live board at this moment; ``bounds``: the track's rank-score cost bounds."""
    entries = []
    for sub in _finals(session, track_id):
        head = session.execute(select(PrivatePoint).where(PrivatePoint.submission_id == sub.id,
                                                          PrivatePoint.point == sub.best_point)).scalar_one_or_none()
        if head is None:
            continue
        if sub.kind == Kind.REFERENCE.value:  # fixed routings: exact, as on the live board
            shown = {"accuracy": head.accuracy, "cost": head.cost, "total_cost": head.total_cost,
                     "rank_score": head.rank_score, "ci": {"rank_score": [head.rank_score_lo, head.rank_score_hi]}}
            families = {name: g["accuracy"] for name, g in (head.per_family or {}).items()}
        else:  # at the Ladder's precision, everything else from the shown numbers
            shown = shown_point(head.accuracy, head.cost, head.n or 1, bounds)
            families = {name: g["accuracy"] for name, g in coarse_groups(head.per_family or {}).items()}
        owner = session.get(User, sub.owner_id)
        rank, public_score = public_ranks.get(sub.id, (None, None))
        entries.append(ReleaseEntry(
            submission_id=sub.id, kind=sub.kind, owner=owner.username, router_name=sub.router_name, team=sub.team,
            router_type=sub.router_type, paper_url=sub.paper_url, code_url=sub.code_url, point=head.point,
            accuracy=shown["accuracy"], cost=shown["cost"], rank_score=shown["rank_score"],
            rank_score_lo=shown["ci"]["rank_score"][0], rank_score_hi=shown["ci"]["rank_score"][1], private_rank=0,
            public_rank=rank, public_rank_score=public_score, per_family=families,
            points=[{"point": head.point, **{k: shown[k] for k in ("accuracy", "cost", "total_cost", "rank_score")}}]))
    entries.sort(key=lambda e: (-e.rank_score, e.submission_id))
    for k, e in enumerate(entries):
        e.private_rank = k + 1
    release = Release(track_id=track_id, created_at=utcnow(), created_by=admin, note=note, n_entries=len(entries),
                      entries=entries)
    session.add(release)
    session.flush()
    return release


def release_rows(release: Release) -> list[dict[str, Any]]:
    """A release's entries as leaderboard rows (the shape of ``leaderboard_rows``), plus the ranks."""
    rows = []
    for e in release.entries:
        rows.append({
            "submission_id": e.submission_id, "router": e.router_name, "team": e.team, "type": e.router_type,
            "kind": e.kind, "owner": e.owner, "paper_url": e.paper_url, "code_url": e.code_url, "uses_images": False,
            "description": "", "point": e.point, "n_points": 1, "accuracy": e.accuracy,
            "cost": e.cost, "rank_score": e.rank_score, "rank_score_lo": e.rank_score_lo,
            "rank_score_hi": e.rank_score_hi, "accuracy_lo": None, "accuracy_hi": None, "p_rank_score": None,
            "nauc": None, "ps": None, "qnc": None, "gap_closed": None, "families": e.per_family or {},
            "submitted": None, "points": list(e.points or []), "private_rank": e.private_rank,
            "public_rank": e.public_rank, "public_rank_score": e.public_rank_score,
            "shift": None if e.public_rank is None else e.public_rank - e.private_rank,
        })
    return rows


def release_summary(release: Release) -> dict[str, Any]:
    return {"id": release.id, "created_at": release.created_at.isoformat(timespec="seconds") if release.created_at
            else None, "created_by": release.created_by, "note": release.note, "n_entries": release.n_entries}
