"""The evaluation queue, kept in the database: claim with a lease, renew, complete, fail.

A worker claims one job atomically — ``SELECT … FOR UPDATE SKIP LOCKED`` on PostgreSQL, one
conditional ``UPDATE … WHERE id = (SELECT …)`` on SQLite (whose writers are serialised) — and
holds it under a lease it renews while working. A job whose lease ran out (its worker died) is
claimable again; after ``max_attempts`` such losses it fails with a message saying so. Completion
is conditional on still holding the lease, so a worker that lost its job can never write results
for it: each job gets exactly one set of results, whatever happens to workers.
"""

from __future__ import annotations

import math
import socket
import os
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import numpy as np
from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from evaluator.generalisation import LEVEL as HELDOUT_LEVEL
from evaluator.generalisation import REPORT_KEY as HELDOUT_KEY
from submissions.db import bump_board, insert_ignore, utcnow
from submissions.models import Breakdown, Ladder, PrivatePoint, ResultPoint, Submission, Worker
from submissions.status import Status


def as_utc(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; every time stored here is UTC."""
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def new_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True)
class Job:
    submission_id: int
    track_id: int
    split: str
    file_sha256: str | None
    file_format: str
    file_gzip: bool
    attempts: int
    ladder_key: str | None = None


class StaleLadder(Exception):
    """The participant's Ladder moved on (another of their files was written) while this one was
    being judged: judge it again against the new released points."""


@dataclass(frozen=True)
class LadderState:
    """What a new file of a participant is judged against: the released points (as references to
    the stored files they came from) and the version they were read at."""

    track_id: int
    ladder_key: str
    version: int
    refs: list[dict[str, Any]]


def _claimable(now: datetime, max_attempts: int):
    return or_(
        Submission.status == Status.PENDING.value,
        and_(Submission.status == Status.RUNNING.value, Submission.lease_expires_at < now,
             Submission.attempts < max_attempts),
    )


def fail_abandoned(session: Session, max_attempts: int) -> int:
    """Jobs whose lease expired ``max_attempts`` times end FAILED, with a message that says why."""
    now = utcnow()
    result = session.execute(
        update(Submission)
        .where(Submission.status == Status.RUNNING.value, Submission.lease_expires_at < now,
               Submission.attempts >= max_attempts)
        .values(status=Status.FAILED.value, finished_at=now, lease_owner=None, lease_expires_at=None,
                error=f"evaluation stopped {max_attempts} times without finishing (the worker process died or "
                      "was killed each time — most often the file needs more memory or time than allowed); "
                      "try a smaller file or contact the admins")
        .execution_options(synchronize_session=False))
    return result.rowcount or 0


def fail_stale_pending(session: Session, timeout_seconds: int) -> int:
    """Jobs pending longer than ``timeout_seconds`` (no worker ran) end FAILED with that reason:
    every submission ends DONE or FAILED within a bounded time, worker or not."""
    now = utcnow()
    stale = and_(Submission.status == Status.PENDING.value,
                 Submission.queued_at < now - timedelta(seconds=timeout_seconds))
    # Read first: this runs on every status read, and an UPDATE — even one matching nothing — would
    # take SQLite's write lock away from the workers each time.
    if session.execute(select(Submission.id).where(stale).limit(1)).first() is None:
        return 0
    hours = timeout_seconds / 3600
    result = session.execute(
        update(Submission)
        .where(stale)
        .values(status=Status.FAILED.value, finished_at=now,
                error=f"no evaluation worker picked this submission up within {hours:g} h (the workers were "
                      "down); nothing was scored and no quota is refunded automatically — please contact "
                      "the admins or submit again tomorrow")
        .execution_options(synchronize_session=False))
    return result.rowcount or 0


def claim(factory: sessionmaker[Session], worker_id: str, *, lease_seconds: int, max_attempts: int,
          track_ids: list[int] | None = None) -> Job | None:
    """Claim the oldest claimable job (optionally only of ``track_ids``), or None."""
    with factory.begin() as session:
        fail_abandoned(session, max_attempts)
        now = utcnow()
        cond = _claimable(now, max_attempts)
        if track_ids is not None:
            cond = and_(cond, Submission.track_id.in_(track_ids))
        pick = select(Submission.id).where(cond).order_by(Submission.queued_at, Submission.id).limit(1)
        values: dict[str, Any] = dict(status=Status.RUNNING.value, lease_owner=worker_id,
                                      lease_expires_at=now + timedelta(seconds=lease_seconds),
                                      attempts=Submission.attempts + 1,
                                      started_at=func.coalesce(Submission.started_at, now))
        if session.bind.dialect.name == "postgresql":
            job_id = session.execute(pick.with_for_update(skip_locked=True)).scalar_one_or_none()
            if job_id is None:
                return None
            session.execute(update(Submission).where(Submission.id == job_id).values(**values)
                            .execution_options(synchronize_session=False))
        else:
            job_id = session.execute(
                update(Submission).where(Submission.id == pick.scalar_subquery(), cond).values(**values)
                .returning(Submission.id).execution_options(synchronize_session=False)).scalar_one_or_none()
            if job_id is None:
                return None
        row = session.execute(select(Submission.id, Submission.track_id, Submission.split, Submission.file_sha256,
                                     Submission.file_format, Submission.file_gzip, Submission.attempts,
                                     Submission.ladder_key)
                              .where(Submission.id == job_id)).one()
        return Job(*row)


def renew(factory: sessionmaker[Session], job_id: int, worker_id: str, lease_seconds: int) -> bool:
    """Extend the lease; False means the job is no longer ours (expired and re-claimed, or withdrawn)."""
    with factory.begin() as session:
        res = session.execute(
            update(Submission).where(Submission.id == job_id, Submission.lease_owner == worker_id,
                                     Submission.status == Status.RUNNING.value)
            .values(lease_expires_at=utcnow() + timedelta(seconds=lease_seconds))
            .execution_options(synchronize_session=False))
        return (res.rowcount or 0) == 1


def _finish(session: Session, job_id: int, worker_id: str, **values: Any) -> bool:
    res = session.execute(
        update(Submission).where(Submission.id == job_id, Submission.lease_owner == worker_id,
                                 Submission.status == Status.RUNNING.value)
        .values(finished_at=utcnow(), lease_owner=None, lease_expires_at=None, **values)
        .execution_options(synchronize_session=False))
    return (res.rowcount or 0) == 1


def _clean(x: Any) -> float | None:
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def ladder_state(factory: sessionmaker[Session], track_id: int, ladder_key: str,
                 exclude: int | None = None) -> LadderState:
    """The participant's released points that no other released point of theirs dominates (by the
    shown cost and accuracy) — what a new point must significantly beat — and the Ladder's version.

    Every released point counts, whatever became of its submission since: withdrawing or hiding a
    file, or an admin's re-run (which keeps its points until the new run replaces them), does not
    reset the Ladder. ``exclude``: the submission being judged (a re-run is not judged against itself)."""
    with factory() as session:
        version = session.execute(select(Ladder.version).where(Ladder.track_id == track_id,
                                                               Ladder.ladder_key == ladder_key)).scalar_one_or_none()
        rows = session.execute(
            select(ResultPoint.submission_id, ResultPoint.point, ResultPoint.accuracy, ResultPoint.cost,
                   Submission.file_sha256, Submission.file_format, Submission.file_gzip)
            .join(Submission, Submission.id == ResultPoint.submission_id)
            .where(Submission.track_id == track_id, Submission.ladder_key == ladder_key, ResultPoint.released,
                   Submission.id != (exclude if exclude is not None else -1))
            .order_by(ResultPoint.submission_id, ResultPoint.point_order)).all()
    refs = []
    if rows:
        import numpy as np

        from evaluator.frontier import pareto_frontier

        keep = pareto_frontier(np.array([r.cost for r in rows]), np.array([r.accuracy for r in rows]))
        refs = [{"sha256": r.file_sha256, "format": r.file_format, "gzip": bool(r.file_gzip), "point": r.point}
                for r in (rows[i] for i in sorted(keep))]
    return LadderState(track_id, ladder_key, int(version or 0), refs)


def add_results(session: Session, submission_id: int, report: dict[str, Any],
                private: dict[str, Any] | None = None, tokens: dict[str, list[float]] | None = None) -> dict[str, Any]:
    """Insert the aggregate results of a report; returns the submission columns to set.

    ``report`` is what may be shown: the released points (or a reference entry's exact points) and,
    for a laddered file, its held points under ``held``; ``private`` the exact private-part report."""
    points = report["points"]
    order = {label: k for k, label in enumerate(report.get("point_order") or [p["point"] for p in points])}
    best = max(range(len(points)), key=lambda k: (points[k]["rank_score"] or 0.0, -k)) if points else None
    tokens = tokens or {}
    for p in points:
        ci = p.get("ci", {})
        paired = p.get("paired_test", {})
        sums = tokens.get(str(p["point"]))
        rp = ResultPoint(
            submission_id=submission_id, point=str(p["point"]), point_order=order.get(p["point"], len(order)),
            released=True, accuracy=p["accuracy"], cost=p["cost"], total_cost=p["total_cost"],
            rank_score=p["rank_score"], tokens=np.asarray(sums, dtype="<f8").tobytes() if sums else None,
            accuracy_lo=(ci.get("accuracy") or [None, None])[0], accuracy_hi=(ci.get("accuracy") or [None, None])[1],
            cost_lo=(ci.get("cost") or [None, None])[0], cost_hi=(ci.get("cost") or [None, None])[1],
            rank_score_lo=(ci.get("rank_score") or [None, None])[0],
            rank_score_hi=(ci.get("rank_score") or [None, None])[1],
            delta_accuracy=(paired.get("accuracy") or {}).get("delta"),
            p_accuracy=(paired.get("accuracy") or {}).get("p_value"),
            delta_rank_score=(paired.get("rank_score") or {}).get("delta"),
            p_rank_score=(paired.get("rank_score") or {}).get("p_value"),
        )
        rp.breakdowns = [Breakdown(level=level, name=name, accuracy=g["accuracy"], cost=g["cost"],
                                   rank_score=g["rank_score"], n=g["n"])
                         for level, key in (("family", "per_family"), ("dataset", "per_dataset"),
                                            (HELDOUT_LEVEL, HELDOUT_KEY))
                         for name, g in (p.get(key) or {}).items()]
        session.add(rp)
    for h in report.get("held") or []:
        session.add(ResultPoint(submission_id=submission_id, point=str(h["point"]), point_order=order.get(h["point"], 0),
                                released=False))
    for k, p in enumerate((private or {}).get("points") or []):
        ci = (p.get("ci") or {}).get("rank_score") or [None, None]
        session.add(PrivatePoint(submission_id=submission_id, point=str(p["point"]), point_order=k,
                                 n=(private or {}).get("n_samples"),
                                 accuracy=p["accuracy"], cost=p["cost"], total_cost=p["total_cost"],
                                 rank_score=p["rank_score"], rank_score_lo=ci[0], rank_score_hi=ci[1],
                                 per_family={n: {"accuracy": g["accuracy"], "n": g["n"]}
                                             for n, g in (p.get("per_family") or {}).items()}))
    curve = report.get("curve") or {}
    return dict(n_points=len(order) or len(points),
                best_point=str(points[best]["point"]) if best is not None else None,
                nauc=_clean(curve.get("nauc")), ps=_clean(curve.get("ps")),
                qnc=_clean(curve.get("qnc")) if curve else None, gap_closed=_clean(curve.get("gap_closed")),
                report={k: report[k] for k in ("track", "split", "n_samples", "curve", "best_single", "oracle", "settings")
                        if k in report})


def complete(factory: sessionmaker[Session], job_id: int, worker_id: str, report: dict[str, Any],
             private: dict[str, Any] | None = None, ladder: LadderState | None = None,
             tokens: dict[str, list[float]] | None = None) -> bool:
    """Write results and mark DONE in one transaction — only while the lease is still ours (False
    otherwise). With ``ladder``, only if the participant's Ladder is still at the version the file
    was judged against: else :class:`StaleLadder` is raised and nothing is written."""
    with factory.begin() as session:
        track_id = session.execute(select(Submission.track_id).where(
            Submission.id == job_id, Submission.lease_owner == worker_id,
            Submission.status == Status.RUNNING.value).with_for_update()).scalar_one_or_none()
        if track_id is None:
            return False
        if ladder is not None:
            insert_ignore(session, Ladder, track_id=ladder.track_id, ladder_key=ladder.ladder_key, version=0)
            moved = session.execute(
                update(Ladder).where(Ladder.track_id == ladder.track_id, Ladder.ladder_key == ladder.ladder_key,
                                     Ladder.version == ladder.version).values(version=Ladder.version + 1)
                .execution_options(synchronize_session=False))
            if (moved.rowcount or 0) != 1:
                raise StaleLadder(f"ladder {ladder.ladder_key} moved past version {ladder.version}")
        session.execute(delete(ResultPoint).where(ResultPoint.submission_id == job_id))
        session.execute(delete(PrivatePoint).where(PrivatePoint.submission_id == job_id))
        columns = add_results(session, job_id, report, private, tokens)
        session.flush()
        bump_board(session, track_id)
        return _finish(session, job_id, worker_id, status=Status.DONE.value, error=None, problems=None, **columns)


def release(factory: sessionmaker[Session], job_id: int, worker_id: str) -> bool:
    """Hand a job back to the queue at once (a worker stopping gracefully): PENDING again, at its old
    place in the queue, and the interrupted attempt does not count towards ``max_attempts``."""
    with factory.begin() as session:
        res = session.execute(
            update(Submission).where(Submission.id == job_id, Submission.lease_owner == worker_id,
                                     Submission.status == Status.RUNNING.value)
            .values(status=Status.PENDING.value, lease_owner=None, lease_expires_at=None,
                    attempts=Submission.attempts - 1)
            .execution_options(synchronize_session=False))
        return (res.rowcount or 0) == 1


def fail(factory: sessionmaker[Session], job_id: int, worker_id: str, message: str,
         problems: list[dict[str, Any]] | None = None) -> bool:
    with factory.begin() as session:
        return _finish(session, job_id, worker_id, status=Status.FAILED.value, error=message, problems=problems)


def queue_position(session: Session, sub: Submission) -> int | None:
    """1-based place among pending jobs (0 while running); None once finished."""
    if sub.status == Status.RUNNING.value:
        return 0
    if sub.status != Status.PENDING.value:
        return None
    ahead = session.execute(select(func.count()).select_from(Submission).where(
        Submission.status == Status.PENDING.value,
        or_(Submission.queued_at < sub.queued_at,
            and_(Submission.queued_at == sub.queued_at, Submission.id < sub.id)))).scalar_one()
    return int(ahead) + 1


def heartbeat(factory: sessionmaker[Session], worker_id: str, *, state: str, current: int | None = None,
              jobs_done: int | None = None) -> None:
    now = utcnow()
    with factory.begin() as session:
        w = session.get(Worker, worker_id)
        if w is None:
            w = Worker(worker_id=worker_id, hostname=socket.gethostname(), pid=os.getpid(), started_at=now,
                       last_heartbeat=now, state=state, current_submission_id=current, jobs_done=jobs_done or 0)
            session.add(w)
        else:
            w.last_heartbeat, w.state, w.current_submission_id = now, state, current
            if jobs_done is not None:
                w.jobs_done = jobs_done
