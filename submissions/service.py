"""The service API that the app and the CLI both use: validate, submit, status, list, withdraw,
admin re-run/hide, leaderboard rows and results.

It never loads a track's hidden part: validation needs only the public split ids and model pool,
and scores come from the database, where workers write aggregates.
"""

from __future__ import annotations

import math
import re
import threading
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import and_, delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

import evaluator
from evaluator.generalisation import LEVEL as HELDOUT_LEVEL
from evaluator.generalisation import REPORT_KEY as HELDOUT_KEY
from evaluator.predictions import CONTROL_CHARS, Problem
from evaluator.pricing import PricingBasis
from submissions import queue as jobs
from submissions import releases
from submissions.config import Settings
from submissions.db import bump_board, connect, ensure_track, ensure_user, insert_ignore
from submissions.formats import Limits
from submissions.isolation import validate_isolated
from submissions.models import (Breakdown, QuotaUsage, Release, ReleaseEntry, ResultPoint, Submission,
                                Track, User, Worker)
from submissions.status import ROUTER_TYPES, Kind, Status, Throughput, Visibility
from submissions.store import FileStore, sha256
from submissions.validation import ValidationResult

MAX_NAME = 100
MAX_TEXT = 5000
MAX_URL = 2000
#: K tokens/s: a stated throughput above this is a typo (the fastest inference stacks serve well under it)
MAX_THROUGHPUT = 1e5
_URL = re.compile(r"^https?://[^\s<>\"']+$", re.IGNORECASE)


_LINE_BREAKS = "\t\n\r"


def _control_chars(text: str, allow_newlines: bool) -> str:
    """The control characters in ``text``, named (``NUL, U+001B``); empty when there are none.
    Tabs and newlines are fine in a multi-line field only."""
    found = sorted(set(CONTROL_CHARS.findall(text or "")) - (set(_LINE_BREAKS) if allow_newlines else set()))
    return ", ".join("NUL" if c == "\x00" else f"U+{ord(c):04X}" for c in found)


#: how many final submissions a participant may choose per track for releases (Kaggle's default)
MAX_FINAL = 2


def ladder_key_of(username: str) -> str:
    """A researcher's Ladder: one per user and track, across all their files and router names."""
    return f"user:{username}"


class ServiceError(Exception):
    """A request the service refuses, with a message for the user (not found, not allowed, …)."""


@dataclass
class SubmissionMeta:
    router_name: str
    team: str = ""
    router_type: str = "other"
    paper_url: str = ""
    code_url: str = ""
    description: str = ""
    uses_images: bool = False
    visibility: str = Visibility.PUBLIC.value
    #: the router's own inference throughput in K tokens/s over the test questions (self-reported),
    #: and the hardware it was measured on (required with a throughput)
    throughput: float | None = None
    hardware: str = ""

    def problems(self) -> list[Problem]:
        out: list[Problem] = []
        if self.throughput is not None:
            value = self.throughput
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
                    or not 0 < value <= MAX_THROUGHPUT:
                out.append(Problem("bad_throughput", f"throughput must be a number of K tokens/s above 0 and at most "
                                   f"{MAX_THROUGHPUT:g} (leave it empty if not measured)", [str(value)[:40]]))
            if not self.hardware.strip():
                out.append(Problem("missing_hardware", "say which hardware the throughput was measured on "
                                   "(e.g. '1× A100 80GB, batch 32')"))
        if len(self.hardware) > MAX_NAME:
            out.append(Problem("too_long", f"the hardware is at most {MAX_NAME} characters"))
        if not self.router_name.strip():
            out.append(Problem("missing_router_name", "give the router a name"))
        for label, value, multiline in (("router name", self.router_name, False), ("team", self.team, False),
                                        ("description", self.description, True), ("paper link", self.paper_url, False),
                                        ("code link", self.code_url, False), ("hardware", self.hardware, False)):
            bad = _control_chars(value, allow_newlines=multiline)
            if bad:
                out.append(Problem("control_characters", f"the {label} contains control characters ({bad}); "
                                   "remove them (databases cannot store a NUL byte, and none of them would display)",
                                   [value[:60]]))
        if len(self.router_name) > MAX_NAME or len(self.team) > MAX_NAME:
            out.append(Problem("too_long", f"router and team names are at most {MAX_NAME} characters"))
        if len(self.description) > MAX_TEXT:
            out.append(Problem("too_long", f"the description is at most {MAX_TEXT} characters"))
        if self.router_type not in ROUTER_TYPES:
            out.append(Problem("bad_router_type", f"router type must be one of {list(ROUTER_TYPES)}",
                               [self.router_type]))
        for label, url in (("paper link", self.paper_url), ("code link", self.code_url)):
            if len(url) > MAX_URL:
                out.append(Problem("too_long", f"the {label} is at most {MAX_URL} characters"))
            elif url and not _URL.match(url.strip()):
                out.append(Problem("bad_url", f"the {label} must be an http(s) address", [url[:100]]))
        if self.visibility not in (Visibility.PUBLIC.value, Visibility.PRIVATE.value):
            out.append(Problem("bad_visibility", "visibility must be 'public' or 'private'", [self.visibility]))
        return out


@dataclass
class SubmitResult:
    accepted: bool
    message: str
    submission_id: int | None = None
    status: str | None = None
    problems: list[dict[str, Any]] = field(default_factory=list)
    duplicate_of: int | None = None
    queue_position: int | None = None
    quota_left: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class SubmissionView:
    id: int
    track: str
    kind: str
    router_name: str
    team: str
    router_type: str
    paper_url: str
    code_url: str
    description: str
    uses_images: bool
    status: str
    visibility: str
    error: str | None
    problems: list[dict[str, Any]] | None
    attempts: int
    created_at: str
    finished_at: str | None
    queue_position: int | None
    owner: str
    best_point: str | None = None
    nauc: float | None = None
    ps: float | None = None
    qnc: float | None = None
    gap_closed: float | None = None
    #: accuracy and rank score of the headline point (DONE only), also in list views
    accuracy: float | None = None
    rank_score: float | None = None
    points: list[dict[str, Any]] = field(default_factory=list)
    #: points the Ladder held (no value shown), each with the released point that covers it
    held: list[dict[str, Any]] = field(default_factory=list)
    #: chosen by the owner as a final submission for releases
    final_choice: bool = False
    #: operating points in the file, and how many of them the Ladder released (DONE only)
    n_points: int = 0
    n_released: int | None = None
    #: the router's throughput (K tokens/s), its hardware and who measured it (see status.Throughput)
    throughput: float | None = None
    throughput_hardware: str = ""
    throughput_source: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _iso(d: datetime | None) -> str | None:
    d = jobs.as_utc(d)
    return d.isoformat(timespec="seconds") if d else None


class SubmissionService:
    def __init__(self, settings: Settings, tracks: list[str] | None = None) -> None:
        """``tracks``: public bundle paths or built-in track names (default: the embedded track)."""
        self.settings = settings
        self.engine, self.factory = connect(settings.database_url)
        self.store = FileStore(settings.store_dir)
        self.limits = Limits(settings.max_upload_bytes, settings.max_decompressed_bytes)
        self.bundles: dict[str, evaluator.Bundle] = {}
        self.track_ids: dict[str, int] = {}
        #: track → (board version, rows): the board is derived once per change (see leaderboard_rows)
        self._boards: dict[str, tuple[int, list[dict[str, Any]]]] = {}
        self._tokens: dict[str, tuple[int, RepricingData]] = {}
        self._board_locks: dict[str, threading.Lock] = {}
        for spec in tracks or [evaluator.DEFAULT_TRACK]:
            self.add_track(spec)

    # ------------------------------------------------------------------ tracks
    def add_track(self, spec: str) -> str:
        bundle = evaluator.load_bundle(spec, hidden=False)  # the public part only, always
        path = spec
        if spec in evaluator.tracks.BUILTIN_TRACKS:
            path = str(evaluator.tracks.builtin_track_dir(spec))
        self.bundles[bundle.track_id] = bundle
        self.track_ids[bundle.track_id] = ensure_track(self.factory, bundle, path)
        return bundle.track_id

    def bundle(self, track: str) -> evaluator.Bundle:
        try:
            return self.bundles[track]
        except KeyError:
            raise ServiceError(f"unknown track {track!r}; tracks here: {sorted(self.bundles)}") from None

    @property
    def default_track(self) -> str:
        return next(iter(self.bundles))

    # -------------------------------------------------------------- validation
    def validate(self, track: str, filename: str, data: bytes, split: str = "test") -> ValidationResult:
        """Instant check; uses no quota and stores nothing."""
        return validate_isolated(self.bundle(track), data, filename, split, self.limits, self.settings)

    # ------------------------------------------------------------------ submit
    def _consume_quota(self, session: Session, user_id: int, track_id: int, counter: str = "used") -> int | None:
        """Take one unit of today's quota of accepted files (``used``) or of files that failed
        validation (``failed``); remaining units, or None when exhausted (race-free)."""
        limit = self.settings.daily_quota if counter == "used" else self.settings.daily_failed
        column = getattr(QuotaUsage, counter)
        today = jobs.utcnow().date()
        insert_ignore(session, QuotaUsage, user_id=user_id, track_id=track_id, day=today, used=0, failed=0)
        res = session.execute(update(QuotaUsage).where(
            QuotaUsage.user_id == user_id, QuotaUsage.track_id == track_id, QuotaUsage.day == today,
            column < limit).values({counter: column + 1})
            .execution_options(synchronize_session=False))
        if (res.rowcount or 0) != 1:
            return None
        used = session.execute(select(column).where(QuotaUsage.user_id == user_id, QuotaUsage.track_id
                                                    == track_id, QuotaUsage.day == today)).scalar_one()
        return limit - used

    def quota_left(self, username: str, track: str) -> int:
        track_id = self.track_ids[self.bundle(track).track_id]
        with self.factory() as session:
            user_id = session.execute(select(User.id).where(User.username == username)).scalar_one_or_none()
            return self.settings.daily_quota if user_id is None else self._left(session, user_id, track_id)

    def submit(self, username: str, track: str, filename: str, data: bytes, meta: SubmissionMeta) -> SubmitResult:
        """Validate and queue a file. A bad file is recorded as a FAILED submission with its problems
        but not its bytes (no quota used; at most ``daily_failed`` a day); a duplicate, over-quota or
        bad-metadata request changes nothing."""
        bundle = self.bundle(track)
        track_id = self.track_ids[bundle.track_id]
        meta_problems = meta.problems()
        if meta_problems:
            return SubmitResult(False, "the submission form has problems: " + "; ".join(p.message for p in meta_problems),
                                problems=[p.to_dict() for p in meta_problems])
        result = validate_isolated(bundle, data, filename, "test", self.limits, self.settings)
        digest = sha256(data)
        stored = result.ok  # a refused file's problems are kept, its bytes are not (junk cannot fill the disk)
        if stored:
            self.store.put(data)
        try:
            with self.factory.begin() as session:
                user = ensure_user(session, username, is_admin=username in self.settings.admins)
                earlier = session.execute(select(Submission).where(
                    Submission.owner_id == user.id, Submission.track_id == track_id,
                    Submission.dedup_key == digest)).scalar_one_or_none()
                if earlier is not None:
                    return SubmitResult(False, f"you already submitted this exact file to {bundle.track_id} as "
                                        f"submission #{earlier.id} ({earlier.status}); change the file to submit "
                                        "again", duplicate_of=earlier.id, submission_id=earlier.id,
                                        status=earlier.status)
                sub = Submission(owner_id=user.id, track_id=track_id, kind=Kind.USER.value, split="test",
                                 router_name=meta.router_name.strip(), team=meta.team.strip(),
                                 router_type=meta.router_type, paper_url=meta.paper_url.strip(),
                                 code_url=meta.code_url.strip(), description=meta.description,
                                 uses_images=bool(meta.uses_images), visibility=meta.visibility,
                                 file_sha256=digest if stored else None, file_format=result.file_format,
                                 file_gzip=result.gzip, file_size=len(data), dedup_key=digest,
                                 created_at=jobs.utcnow(), n_points=len(result.points),
                                 ladder_key=ladder_key_of(username),
                                 throughput=float(meta.throughput) if meta.throughput is not None else None,
                                 throughput_hardware=meta.hardware.strip() if meta.throughput is not None else "",
                                 throughput_source=Throughput.SELF_REPORTED.value if meta.throughput is not None
                                 else "")
                if not result.ok:
                    if self._consume_quota(session, user.id, track_id, "failed") is None:
                        session.rollback()
                        return SubmitResult(False, f"{self.settings.daily_failed} files sent to {bundle.track_id} "
                                            "today failed validation, the daily limit; check files with Validate "
                                            "(or `routerboard validate`), which is free and stores nothing — the "
                                            "limit resets at 00:00 UTC", problems=[p.to_dict() for p in result.problems])
                    sub.status = Status.FAILED.value
                    sub.error = "the file did not pass validation: " + "; ".join(p.message for p in result.problems[:3])
                    sub.problems = [p.to_dict() for p in result.problems]
                    sub.finished_at = sub.created_at
                    session.add(sub)
                    session.flush()
                    return SubmitResult(False, sub.error, submission_id=sub.id, status=sub.status,
                                        problems=sub.problems, quota_left=self._left(session, user.id, track_id))
                left = self._consume_quota(session, user.id, track_id)
                if left is None:
                    session.rollback()
                    return SubmitResult(False, f"daily quota reached: {self.settings.daily_quota} submissions per "
                                        f"day to {bundle.track_id}; it resets at 00:00 UTC", quota_left=0)
                sub.status = Status.PENDING.value
                session.add(sub)
                session.flush()
                position = jobs.queue_position(session, sub)
                return SubmitResult(True, f"queued as submission #{sub.id}, position {position} in the queue",
                                    submission_id=sub.id, status=sub.status, queue_position=position, quota_left=left)
        except IntegrityError:  # the same file raced in twice: the other copy won
            with self.factory() as session:
                earlier = session.execute(select(Submission).join(User, User.id == Submission.owner_id).where(
                    User.username == username, Submission.track_id == track_id,
                    Submission.dedup_key == digest)).scalar_one_or_none()
            if earlier is None:
                return SubmitResult(False, "a concurrent request conflicted with this one and nothing was stored; "
                                    "please submit again")
            return SubmitResult(False, f"you already submitted this exact file as submission #{earlier.id}",
                                duplicate_of=earlier.id, submission_id=earlier.id, status=earlier.status)

    def _left(self, session: Session, user_id: int, track_id: int) -> int:
        used = session.execute(select(QuotaUsage.used).where(QuotaUsage.user_id == user_id, QuotaUsage.track_id ==
                                                             track_id, QuotaUsage.day == jobs.utcnow().date())
                               ).scalar_one_or_none()
        return self.settings.daily_quota - (used or 0)

    # ------------------------------------------------------------------- views
    def _view(self, session: Session, sub: Submission, with_points: bool = True,
              headline: tuple[float, float] | None = None, n_released: int | None = None) -> SubmissionView:
        track = session.get(Track, sub.track_id)
        owner = session.get(User, sub.owner_id)
        points, held = [], []
        if with_points and sub.status == Status.DONE.value:
            rps = session.execute(select(ResultPoint).where(ResultPoint.submission_id == sub.id)
                                  .options(selectinload(ResultPoint.breakdowns)).order_by(ResultPoint.point_order)
                                  ).scalars().all()
            points = [_point_dict(rp) for rp in rps if rp.released]
            held = [{"point": rp.point} for rp in rps if not rp.released]
            best = next((p for p in points if p["point"] == sub.best_point), points[0] if points else None)
            headline = (best["accuracy"], best["rank_score"]) if best else None
        return SubmissionView(
            id=sub.id, track=f"{track.name}@{track.version}", kind=sub.kind, router_name=sub.router_name,
            team=sub.team, router_type=sub.router_type, paper_url=sub.paper_url, code_url=sub.code_url,
            description=sub.description, uses_images=sub.uses_images, status=sub.status, visibility=sub.visibility,
            error=sub.error, problems=sub.problems, attempts=sub.attempts, created_at=_iso(sub.created_at),
            finished_at=_iso(sub.finished_at), queue_position=jobs.queue_position(session, sub),
            owner=owner.username, best_point=sub.best_point, nauc=sub.nauc, ps=sub.ps, qnc=sub.qnc,
            gap_closed=sub.gap_closed, accuracy=headline[0] if headline else None,
            rank_score=headline[1] if headline else None, points=points, held=held,
            final_choice=bool(sub.final_choice), n_points=sub.n_points or 0,
            n_released=len(points) if with_points and sub.status == Status.DONE.value else n_released,
            throughput=sub.throughput, throughput_hardware=sub.throughput_hardware or "",
            throughput_source=sub.throughput_source or "")

    def _can_see(self, sub: Submission, username: str | None, owner: User) -> bool:
        if username is not None and (owner.username == username or username in self.settings.admins):
            return True
        return sub.visibility == Visibility.PUBLIC.value and sub.status == Status.DONE.value

    def status(self, submission_id: int, username: str | None = None) -> SubmissionView:
        """One submission; others' private, hidden or unfinished submissions are not found."""
        self.expire_stale()
        with self.factory() as session:
            sub = session.get(Submission, submission_id)
            if sub is None or not self._can_see(sub, username, session.get(User, sub.owner_id)):
                raise ServiceError(f"no submission #{submission_id} that you can see")
            return self._view(session, sub)

    results = status

    def expire_stale(self) -> int:
        """Fail submissions that waited past the pending timeout (called whenever status is read)."""
        with self.factory.begin() as session:
            return jobs.fail_stale_pending(session, self.settings.pending_timeout_seconds)

    def list_mine(self, username: str, track: str | None = None) -> list[SubmissionView]:
        self.expire_stale()
        with self.factory() as session:
            q = select(Submission).join(User, User.id == Submission.owner_id).where(User.username == username)
            if track is not None:
                q = q.where(Submission.track_id == self.track_ids[self.bundle(track).track_id])
            subs = session.execute(q.order_by(Submission.created_at.desc(), Submission.id.desc())).scalars().all()
            done = [s.id for s in subs if s.status == Status.DONE.value]
            headlines = {sid: (acc, rs) for sid, acc, rs in session.execute(
                select(ResultPoint.submission_id, ResultPoint.accuracy, ResultPoint.rank_score)
                .join(Submission, Submission.id == ResultPoint.submission_id)
                .where(ResultPoint.submission_id.in_(done), ResultPoint.released,
                       ResultPoint.point == Submission.best_point))} if done else {}
            shown = dict(session.execute(select(ResultPoint.submission_id, func.count())
                                         .where(ResultPoint.submission_id.in_(done), ResultPoint.released)
                                         .group_by(ResultPoint.submission_id)).all()) if done else {}
            return [self._view(session, s, with_points=False, headline=headlines.get(s.id),
                               n_released=shown.get(s.id, 0) if s.status == Status.DONE.value else None)
                    for s in subs]

    def withdraw(self, username: str, submission_id: int) -> SubmissionView:
        with self.factory.begin() as session:
            sub = session.get(Submission, submission_id, with_for_update=True)
            owner = session.get(User, sub.owner_id) if sub else None
            if sub is None or owner.username != username:
                raise ServiceError(f"no submission #{submission_id} of yours")
            if sub.status == Status.WITHDRAWN.value:
                return self._view(session, sub)
            sub.status = Status.WITHDRAWN.value
            sub.dedup_key = None
            sub.lease_owner = None
            sub.finished_at = sub.finished_at or jobs.utcnow()
            bump_board(session, sub.track_id)
            session.flush()
            return self._view(session, sub)

    def _admin_get(self, session: Session, admin: str, submission_id: int) -> Submission:
        if admin not in self.settings.admins:
            raise ServiceError("only an admin can do that")
        sub = session.get(Submission, submission_id, with_for_update=True)
        if sub is None:
            raise ServiceError(f"no submission #{submission_id}")
        return sub

    def rerun(self, admin: str, submission_id: int) -> SubmissionView:
        """Admin: evaluate again from scratch (results are replaced when the new run finishes)."""
        with self.factory.begin() as session:
            sub = self._admin_get(session, admin, submission_id)
            if not sub.file_sha256:
                raise ServiceError(f"submission #{submission_id} has no stored file to evaluate")
            # its points stay (on its owner's Ladder, off the board while pending) until the new run replaces them
            sub.status, sub.attempts, sub.error, sub.problems = Status.PENDING.value, 0, None, None
            sub.lease_owner = sub.lease_expires_at = sub.finished_at = sub.started_at = None
            sub.queued_at = jobs.utcnow()
            bump_board(session, sub.track_id)
            session.flush()
            return self._view(session, sub)

    def hide(self, admin: str, submission_id: int, hidden: bool = True) -> SubmissionView:
        with self.factory.begin() as session:
            sub = self._admin_get(session, admin, submission_id)
            sub.visibility = Visibility.HIDDEN.value if hidden else Visibility.PUBLIC.value
            bump_board(session, sub.track_id)
            session.flush()
            return self._view(session, sub)

    # ------------------------------------------------------------- leaderboard
    def board_version(self, track: str | None = None) -> int:
        """The track's board version: it changes whenever what the board shows changes."""
        track_id = self.track_ids[self.bundle(track or self.default_track).track_id]
        with self.engine.connect() as conn:
            return int(conn.execute(select(Track.board_version).where(Track.id == track_id)).scalar_one())

    def board(self, track: str | None = None) -> tuple[int, list[dict[str, Any]]]:
        """The board version and its rows (see :meth:`read_board`), read from the database once per
        version: every visitor between two changes gets the same list (callers must not modify it)."""
        track = track or self.default_track
        version = self.board_version(track)
        hit = self._boards.get(track)
        if hit is not None and hit[0] == version:
            return hit
        with self._board_locks.setdefault(track, threading.Lock()):  # one reader per change, not one per visitor
            hit = self._boards.get(track)
            if hit is None or hit[0] != version:
                hit = (version, self.read_board(track))
                self._boards[track] = hit
        return hit

    def leaderboard_rows(self, track: str | None = None) -> list[dict[str, Any]]:
        """The live board's rows, best rank first (shared between callers: do not modify)."""
        return self.board(track)[1]

    def read_board(self, track: str | None = None) -> list[dict[str, Any]]:
        """One row per public DONE entry (reference entries included), at its best-rank-score point,
        with per-family accuracy and curve metrics; every point is listed under ``points``.

        Three flat Core queries (entries, points, family breakdowns of the headline points), no ORM
        objects: the leaderboard is read far more often than it changes.
        """
        bundle = self.bundle(track or self.default_track)
        track_id = self.track_ids[bundle.track_id]
        S, P, B = Submission.__table__, ResultPoint.__table__, Breakdown.__table__
        visible = and_(S.c.track_id == track_id, S.c.status == Status.DONE.value,
                       S.c.visibility == Visibility.PUBLIC.value)
        with self.engine.connect() as conn:
            subs = conn.execute(select(S.c.id, S.c.router_name, S.c.team, S.c.router_type, S.c.kind, User.username,
                                       S.c.paper_url, S.c.code_url, S.c.uses_images, S.c.best_point, S.c.nauc, S.c.ps,
                                       S.c.qnc, S.c.gap_closed, S.c.created_at, S.c.description, S.c.n_points,
                                       S.c.throughput, S.c.throughput_hardware, S.c.throughput_source)
                                .join(User, User.id == S.c.owner_id).where(visible)).all()
            pts = conn.execute(select(P.c.id, P.c.submission_id, P.c.point, P.c.accuracy, P.c.cost, P.c.total_cost,
                                      P.c.rank_score,
                                      P.c.rank_score_lo, P.c.rank_score_hi, P.c.accuracy_lo, P.c.accuracy_hi,
                                      P.c.p_rank_score)
                               .join(S, S.c.id == P.c.submission_id).where(visible, P.c.released)
                               .order_by(P.c.submission_id, P.c.point_order)).all()
            fams = conn.execute(select(B.c.result_point_id, B.c.name, B.c.accuracy, B.c.level)
                                .join(P, P.c.id == B.c.result_point_id).join(S, S.c.id == P.c.submission_id)
                                .where(visible, P.c.released, B.c.level.in_(("family", HELDOUT_LEVEL)),
                                       P.c.point == S.c.best_point)).all()
        fam_by_point: dict[int, dict[str, float]] = {}
        heldout_by_point: dict[int, dict[str, float]] = {}  # held-out vs in-distribution (evaluator.generalisation)
        for pid, name, acc, level in fams:
            (fam_by_point if level == "family" else heldout_by_point).setdefault(pid, {})[name] = acc
        by_sub: dict[int, list[Any]] = {}
        for p in pts:
            by_sub.setdefault(p.submission_id, []).append(p)
        rows = []
        for sub in subs:
            points = by_sub.get(sub.id)
            if not points:
                continue
            best = next((p for p in points if p.point == sub.best_point), points[0])
            rows.append({
                "submission_id": sub.id, "router": sub.router_name, "team": sub.team, "type": sub.router_type,
                "kind": sub.kind, "owner": sub.username, "paper_url": sub.paper_url, "code_url": sub.code_url,
                "heldout": heldout_by_point.get(best.id, {}),  # held-out vs in-distribution accuracy, where it applies
                "uses_images": sub.uses_images, "description": sub.description, "point": best.point,
                "n_points": sub.n_points or len(points), "n_released": len(points), "accuracy": best.accuracy, "cost": best.cost, "rank_score": best.rank_score,
                "rank_score_lo": best.rank_score_lo, "rank_score_hi": best.rank_score_hi,
                "accuracy_lo": best.accuracy_lo, "accuracy_hi": best.accuracy_hi, "p_rank_score": best.p_rank_score,
                "nauc": sub.nauc, "ps": sub.ps, "qnc": sub.qnc, "gap_closed": sub.gap_closed,
                "families": fam_by_point.get(best.id, {}), "submitted": _iso(sub.created_at),
                "throughput": sub.throughput, "throughput_hardware": sub.throughput_hardware or "",
                "throughput_source": sub.throughput_source or "",
                "points": [{"point": p.point, "accuracy": p.accuracy, "cost": p.cost, "total_cost": p.total_cost,
                            "rank_score": p.rank_score, "accuracy_lo": p.accuracy_lo, "accuracy_hi": p.accuracy_hi}
                           for p in points],
            })
        rows.sort(key=lambda r: -r["rank_score"])
        return rows

    def pricing_basis(self, track: str | None = None) -> PricingBasis:
        """The track's pricing basis (one small read): whether and how its costs can be re-priced."""
        track_id = self.track_ids[self.bundle(track or self.default_track).track_id]
        with self.engine.connect() as conn:
            return PricingBasis.from_dict(conn.execute(select(Track.pricing).where(Track.id == track_id)).scalar_one())

    def repricing_data(self, track: str | None = None) -> tuple[int, "RepricingData"]:
        """The board version and what re-pricing the live board needs beyond its rows: per shown point,
        its token sums (server-side only, never part of a row or an API answer) and per-family accuracy,
        and the track's pricing basis; read once per version."""
        track = track or self.default_track
        version = self.board_version(track)
        hit = self._tokens.get(track)
        if hit is not None and hit[0] == version:
            return hit
        bundle = self.bundle(track)
        track_id = self.track_ids[bundle.track_id]
        S, P, B = Submission.__table__, ResultPoint.__table__, Breakdown.__table__
        visible = and_(S.c.track_id == track_id, S.c.status == Status.DONE.value,
                       S.c.visibility == Visibility.PUBLIC.value, P.c.released)
        with self.engine.connect() as conn:
            found = conn.execute(select(P.c.submission_id, P.c.point, P.c.tokens).join(S, S.c.id == P.c.submission_id)
                                 .where(visible, P.c.tokens.is_not(None))).all()
            fams = conn.execute(select(P.c.submission_id, P.c.point, B.c.level, B.c.name, B.c.accuracy)
                                .join(P, P.c.id == B.c.result_point_id).join(S, S.c.id == P.c.submission_id)
                                .where(visible, B.c.level.in_(("family", HELDOUT_LEVEL)))).all()
        families: dict[tuple[int, str], dict[str, float]] = {}
        heldout: dict[tuple[int, str], dict[str, float]] = {}
        for sid, point, level, name, acc in fams:
            (families if level == "family" else heldout).setdefault((int(sid), str(point)), {})[name] = acc
        m = len(bundle.models)
        sums = (np.frombuffer(b"".join(r.tokens for r in found), dtype="<f8").reshape(len(found), 2 * m)
                if found and all(len(r.tokens) == 16 * m for r in found) else np.zeros((0, 2 * m)))
        keys = {(int(r.submission_id), str(r.point)): k for k, r in enumerate(found)} if len(sums) else {}
        hit = (version, RepricingData(keys, sums, families, heldout, self.pricing_basis(track)))
        self._tokens[track] = hit
        return hit

    def slice_points(self, track: str, level: str, name: str) -> dict[int, list[dict[str, float]]]:
        """Per public DONE entry, the (accuracy, cost) of every point on one family or dataset."""
        bundle = self.bundle(track)
        track_id = self.track_ids[bundle.track_id]
        S, P, B = Submission.__table__, ResultPoint.__table__, Breakdown.__table__
        with self.engine.connect() as conn:
            # A router's group cost is not shown (see evaluator.ladder): its slice is drawn at its overall cost.
            rows = conn.execute(select(P.c.submission_id, P.c.point, B.c.accuracy,
                                       func.coalesce(B.c.cost, P.c.cost).label("cost"),
                                       func.coalesce(B.c.rank_score, P.c.rank_score).label("rank_score"))
                                .join(P, P.c.id == B.c.result_point_id).join(S, S.c.id == P.c.submission_id)
                                .where(S.c.track_id == track_id, S.c.status == Status.DONE.value,
                                       S.c.visibility == Visibility.PUBLIC.value, P.c.released, B.c.level == level,
                                       B.c.name == name).order_by(P.c.submission_id, P.c.point_order)).all()
        out: dict[int, list[dict[str, float]]] = {}
        for r in rows:
            out.setdefault(r.submission_id, []).append({"point": r.point, "accuracy": r.accuracy, "cost": r.cost,
                                                        "rank_score": r.rank_score})
        return out

    def import_results(self, frame) -> int:
        """Rebuild leaderboard entries from a results export (``leaderboard.hub.results_frame``):
        one DONE submission per exported entry, with its points. Entries already imported are skipped."""
        track_id = self.track_ids[self.default_track]
        added = 0
        for sid, rows in frame.groupby("submission_id", sort=False):
            first = rows.iloc[0]
            best = rows[rows["is_best_point"]].iloc[0] if rows["is_best_point"].any() else first
            points = [{"point": str(r.point), "accuracy": float(r.accuracy), "cost": float(r.cost),
                       "total_cost": float(r.total_cost), "rank_score": float(r.rank_score),
                       "ci": {"rank_score": [r.rank_score_lo, r.rank_score_hi]} if r.is_best_point else {}}
                      for r in rows.itertuples()]
            curve = {k: (None if pd_isna(first[k]) else float(first[k])) for k in ("nauc", "ps", "qnc", "gap_closed")}
            with self.factory.begin() as session:
                owner = ensure_user(session, "routerboard" if first["kind"] != Kind.USER.value else "imported")
                key = f"import:{first['track']}:{sid}"[:64]
                if session.execute(select(Submission.id).where(Submission.track_id == track_id,
                                                               Submission.dedup_key == key)).first():
                    continue
                now = jobs.utcnow()
                sub = Submission(owner_id=owner.id, track_id=track_id, kind=str(first["kind"]), split="test",
                                 router_name=str(first["router"]), team=str(first["team"] or ""),
                                 router_type=str(first["type"]), paper_url=str(first["paper_url"] or ""),
                                 code_url=str(first["code_url"] or ""), description=str(first["description"] or ""),
                                 uses_images=bool(first["uses_images"]), status=Status.DONE.value,
                                 visibility=Visibility.PUBLIC.value, dedup_key=key, created_at=now, finished_at=now,
                                 attempts=1)
                session.add(sub)
                session.flush()
                columns = jobs.add_results(session, sub.id, {"points": points, "curve": curve})
                for k, v in columns.items():
                    setattr(sub, k, v)
                sub.best_point = str(best["point"])
                bump_board(session, track_id)
            added += 1
        return added

    # --------------------------------------------------------------- releases
    def select_final(self, username: str, submission_id: int, selected: bool = True) -> SubmissionView:
        """Choose (or unchoose) one of your DONE submissions as final: releases score your finals on
        the private part (at most ``MAX_FINAL`` per track; with none chosen, your best shown one)."""
        with self.factory.begin() as session:
            user = session.execute(select(User).where(User.username == username).with_for_update()
                                   ).scalar_one_or_none()
            sub = session.get(Submission, submission_id, with_for_update=True)
            if user is None or sub is None or sub.owner_id != user.id:
                raise ServiceError(f"no submission #{submission_id} of yours")
            if selected and not sub.final_choice:
                if sub.status != Status.DONE.value or sub.visibility != Visibility.PUBLIC.value:
                    raise ServiceError(f"submission #{submission_id} is {sub.status.lower()} and {sub.visibility}; "
                                       "only finished public submissions can be final")
                if sub.best_point is None:
                    raise ServiceError(f"submission #{submission_id} has no point the Ladder showed; a release "
                                       "scores a final at its best shown point, so choose one that has one")
                chosen = session.execute(select(func.count()).select_from(Submission).where(
                    Submission.owner_id == user.id, Submission.track_id == sub.track_id, Submission.final_choice,
                    Submission.status == Status.DONE.value, Submission.visibility == Visibility.PUBLIC.value
                )).scalar_one()
                if chosen >= MAX_FINAL:
                    raise ServiceError(f"you already chose {MAX_FINAL} final submissions on this track; "
                                       "unchoose one first")
            sub.final_choice = bool(selected)
            session.flush()
            return self._view(session, sub)

    def cut_release(self, admin: str, track: str | None = None, note: str = "") -> dict[str, Any]:
        """Admin: reveal the private part — each participant's finals ranked on it (see
        :mod:`submissions.releases`). Returns the release's summary."""
        if admin not in self.settings.admins:
            raise ServiceError("only an admin can cut a release (ROUTERBOARD_ADMINS)")
        track = track or self.default_track
        track_id = self.track_ids[self.bundle(track).track_id]
        live = self.leaderboard_rows(track)
        ranks = {r["submission_id"]: (k + 1, r["rank_score"]) for k, r in enumerate(live)}
        bundle = self.bundle(track)
        with self.factory.begin() as session:
            release = releases.cut_release(session, track_id, admin, note[:MAX_TEXT], ranks,
                                           (bundle.cost_bounds.cmin, bundle.cost_bounds.cmax))
            return releases.release_summary(release)

    def releases(self, track: str | None = None) -> list[dict[str, Any]]:
        """The releases of a track, newest first."""
        track_id = self.track_ids[self.bundle(track or self.default_track).track_id]
        with self.factory() as session:
            rel = session.execute(select(Release).where(Release.track_id == track_id)
                                  .order_by(Release.id.desc())).scalars().all()
            return [releases.release_summary(r) for r in rel]

    def release_rows(self, release_id: int) -> list[dict[str, Any]]:
        """A release's board: entries ranked on the private part, with public rank and shift."""
        with self.factory() as session:
            release = session.get(Release, int(release_id))
            if release is None:
                raise ServiceError(f"no release #{release_id}")
            return releases.release_rows(release)

    def workers(self) -> list[dict[str, Any]]:
        """Known workers with their last heartbeat (the app shows whether one is alive)."""
        now = jobs.utcnow()
        with self.factory() as session:
            ws = session.execute(select(Worker).order_by(Worker.last_heartbeat.desc())).scalars().all()
            return [{"worker_id": w.worker_id, "state": w.state, "current_submission_id": w.current_submission_id,
                     "jobs_done": w.jobs_done, "last_heartbeat": _iso(w.last_heartbeat),
                     "seconds_since_heartbeat": (now - jobs.as_utc(w.last_heartbeat)).total_seconds(),
                     "alive": w.state != "stopped" and (now - jobs.as_utc(w.last_heartbeat)) <
                     timedelta(seconds=3 * self.settings.heartbeat_seconds + 5)} for w in ws]

    def pending_count(self) -> int:
        with self.factory() as session:
            return int(session.execute(select(func.count()).select_from(Submission).where(
                Submission.status.in_([Status.PENDING.value, Status.RUNNING.value]))).scalar_one())


@dataclass(frozen=True)
class RepricingData:
    """Of a live board's shown points: ``keys`` maps (submission id, point) to a row of ``sums`` (per
    model, input then output tokens on the public part); ``families`` their per-family accuracy (a
    re-priced entry may headline another point) and held-out vs in-distribution accuracy; ``basis``
    the track's pricing basis."""

    keys: dict[tuple[int, str], int]
    sums: np.ndarray
    families: dict[tuple[int, str], dict[str, float]]
    heldout: dict[tuple[int, str], dict[str, float]]
    basis: PricingBasis


def pd_isna(value: Any) -> bool:
    import pandas as pd

    return value is None or bool(pd.isna(value))


def _point_dict(rp: ResultPoint) -> dict[str, Any]:
    return {
        "point": rp.point, "accuracy": rp.accuracy, "cost": rp.cost, "total_cost": rp.total_cost,
        "rank_score": rp.rank_score,
        "ci": {"accuracy": [rp.accuracy_lo, rp.accuracy_hi], "cost": [rp.cost_lo, rp.cost_hi],
               "rank_score": [rp.rank_score_lo, rp.rank_score_hi]},
        "paired_test": {"accuracy": {"delta": rp.delta_accuracy, "p_value": rp.p_accuracy},
                        "rank_score": {"delta": rp.delta_rank_score, "p_value": rp.p_rank_score}},
        "per_family": {b.name: {"accuracy": b.accuracy, "cost": b.cost, "rank_score": b.rank_score, "n": b.n}
                       for b in rp.breakdowns if b.level == "family"},
        "per_dataset": {b.name: {"accuracy": b.accuracy, "cost": b.cost, "rank_score": b.rank_score, "n": b.n}
                        for b in rp.breakdowns if b.level == "dataset"},
        HELDOUT_KEY: {b.name: {"accuracy": b.accuracy, "cost": b.cost, "rank_score": b.rank_score, "n": b.n}
                      for b in rp.breakdowns if b.level == HELDOUT_LEVEL},
    }
