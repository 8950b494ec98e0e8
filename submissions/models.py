"""Database schema (SQLAlchemy 2 ORM). Migrations in ``submissions/migrations`` create exactly this.

Only aggregates are stored: per point, per family and per dataset. Nothing per sample of the test
split is ever written here, so nothing the app can serve reveals test labels.

Two kinds of results are kept apart on purpose. ``result_points``/``breakdowns`` hold what the live
leaderboard may show: a user's points on the public part as the Ladder released them (held points
carry no values), reference entries exactly. ``private_points`` hold every submission's exact scores
on the private part, which no view reads until an admin cuts a release (``releases``/``release_entries``).
"""

from __future__ import annotations

from datetime import date, datetime, timezone

from sqlalchemy import (JSON, Boolean, Date, DateTime, Float, ForeignKey, Index, Integer, LargeBinary, String, Text,
                        UniqueConstraint, false, true)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from submissions.status import Kind, Status, Visibility


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str | None] = mapped_column(String(300), nullable=True)
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Track(Base):
    __tablename__ = "tracks"
    __table_args__ = (UniqueConstraint("name", "version", name="uq_track_name_version"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    version: Mapped[str] = mapped_column(String(50))
    public_path: Mapped[str] = mapped_column(Text)
    simulated: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    #: bumped by every change of what the board shows (a result written, an entry withdrawn, hidden or
    #: re-run, reference entries scored): readers derive the board once per version, not per visitor
    board_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    #: what re-pricing needs of the track (``evaluator.pricing.PricingBasis``), computed by a worker
    #: where the hidden part is; read by the web process to derive cost bounds under any price table
    pricing: Mapped[dict | None] = mapped_column(JSON, nullable=True)


class Submission(Base):
    __tablename__ = "submissions"
    __table_args__ = (
        # One live copy of a file per user and track; withdrawn ones clear dedup_key (NULLs never collide).
        UniqueConstraint("owner_id", "track_id", "dedup_key", name="uq_submission_dedup"),
        Index("ix_submissions_queue", "status", "queued_at"),
        Index("ix_submissions_owner", "owner_id", "track_id"),
        Index("ix_submissions_ladder", "track_id", "ladder_key"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    track_id: Mapped[int] = mapped_column(ForeignKey("tracks.id"))
    kind: Mapped[str] = mapped_column(String(20), default=Kind.USER.value)
    split: Mapped[str] = mapped_column(String(10), default="test")
    router_name: Mapped[str] = mapped_column(String(200))
    team: Mapped[str] = mapped_column(String(200), default="")
    router_type: Mapped[str] = mapped_column(String(30), default="other")
    paper_url: Mapped[str] = mapped_column(Text, default="")
    code_url: Mapped[str] = mapped_column(Text, default="")
    description: Mapped[str] = mapped_column(Text, default="")
    uses_images: Mapped[bool] = mapped_column(Boolean, default=False)
    file_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    file_format: Mapped[str] = mapped_column(String(20), default="")
    file_gzip: Mapped[bool] = mapped_column(Boolean, default=False)
    file_size: Mapped[int] = mapped_column(Integer, default=0)
    dedup_key: Mapped[str | None] = mapped_column(String(64), nullable=True)
    status: Mapped[str] = mapped_column(String(20), default=Status.PENDING.value)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    problems: Mapped[list | None] = mapped_column(JSON, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    visibility: Mapped[str] = mapped_column(String(20), default=Visibility.PUBLIC.value)
    lease_owner: Mapped[str | None] = mapped_column(String(200), nullable=True)
    lease_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    #: when the job last entered the queue (its submission, a re-run, a re-scoring after an upgrade):
    #: the queue's order and its pending timeout count from here, ``created_at`` stays the submission time
    queued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=lambda: datetime.now(timezone.utc))
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    n_points: Mapped[int] = mapped_column(Integer, default=0)
    # Curve metrics (multi-point entries) and the headline point.
    best_point: Mapped[str | None] = mapped_column(String(200), nullable=True)
    nauc: Mapped[float | None] = mapped_column(Float, nullable=True)
    ps: Mapped[float | None] = mapped_column(Float, nullable=True)
    qnc: Mapped[float | None] = mapped_column(Float, nullable=True)
    gap_closed: Mapped[float | None] = mapped_column(Float, nullable=True)
    report: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    #: whose Ladder the points climb: ``user:<name>`` per researcher, ``starter:<router>`` per starter
    #: router; None for reference entries (shown exactly)
    ladder_key: Mapped[str | None] = mapped_column(String(300), nullable=True)
    #: chosen by its owner as a final submission, scored in releases on the private part
    final_choice: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    #: the router's own inference throughput, K tokens/s over the test questions, and where it was
    #: measured; ``throughput_source`` says who measured it (see submissions.status.Throughput)
    throughput: Mapped[float | None] = mapped_column(Float, nullable=True)
    throughput_hardware: Mapped[str] = mapped_column(String(200), default="", server_default="")
    throughput_source: Mapped[str] = mapped_column(String(20), default="", server_default="")

    owner: Mapped[User] = relationship()
    track: Mapped[Track] = relationship()
    points: Mapped[list["ResultPoint"]] = relationship(back_populates="submission", cascade="all, delete-orphan",
                                                       order_by="ResultPoint.point_order")


class ResultPoint(Base):
    __tablename__ = "result_points"
    __table_args__ = (UniqueConstraint("submission_id", "point", name="uq_result_point"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id", ondelete="CASCADE"), index=True)
    point: Mapped[str] = mapped_column(String(200))
    point_order: Mapped[int] = mapped_column(Integer)
    #: False: held by the Ladder — no value of the point is stored (and nothing says why)
    released: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    accuracy: Mapped[float | None] = mapped_column(Float, nullable=True)
    cost: Mapped[float | None] = mapped_column(Float, nullable=True)
    total_cost: Mapped[float | None] = mapped_column(Float, nullable=True)
    rank_score: Mapped[float | None] = mapped_column(Float, nullable=True)
    #: per model, the input and then the output token sums of the public-part samples the point
    #: routed to it (float64 bytes, 2 × models): re-pricing data, never served (it is what hidden
    #: costs are made of); NULL without token data
    tokens: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    accuracy_lo: Mapped[float | None] = mapped_column(Float, nullable=True)
    accuracy_hi: Mapped[float | None] = mapped_column(Float, nullable=True)
    cost_lo: Mapped[float | None] = mapped_column(Float, nullable=True)
    cost_hi: Mapped[float | None] = mapped_column(Float, nullable=True)
    rank_score_lo: Mapped[float | None] = mapped_column(Float, nullable=True)
    rank_score_hi: Mapped[float | None] = mapped_column(Float, nullable=True)
    delta_accuracy: Mapped[float | None] = mapped_column(Float, nullable=True)
    p_accuracy: Mapped[float | None] = mapped_column(Float, nullable=True)
    delta_rank_score: Mapped[float | None] = mapped_column(Float, nullable=True)
    p_rank_score: Mapped[float | None] = mapped_column(Float, nullable=True)

    submission: Mapped[Submission] = relationship(back_populates="points")
    breakdowns: Mapped[list["Breakdown"]] = relationship(cascade="all, delete-orphan")


class Breakdown(Base):
    __tablename__ = "breakdowns"
    __table_args__ = (UniqueConstraint("result_point_id", "level", "name", name="uq_breakdown"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    result_point_id: Mapped[int] = mapped_column(ForeignKey("result_points.id", ondelete="CASCADE"), index=True)
    level: Mapped[str] = mapped_column(String(10))  # "family" | "dataset" | "heldout" (evaluator.generalisation.LEVEL)
    name: Mapped[str] = mapped_column(String(200))
    accuracy: Mapped[float | None] = mapped_column(Float, nullable=True)
    cost: Mapped[float | None] = mapped_column(Float, nullable=True)
    rank_score: Mapped[float | None] = mapped_column(Float, nullable=True)
    n: Mapped[int] = mapped_column(Integer)


class PrivatePoint(Base):
    """A point's exact score on the private part. Read only when a release is cut."""

    __tablename__ = "private_points"
    __table_args__ = (UniqueConstraint("submission_id", "point", name="uq_private_point"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id", ondelete="CASCADE"), index=True)
    point: Mapped[str] = mapped_column(String(200))
    point_order: Mapped[int] = mapped_column(Integer)
    accuracy: Mapped[float] = mapped_column(Float)
    cost: Mapped[float] = mapped_column(Float)
    total_cost: Mapped[float] = mapped_column(Float)
    rank_score: Mapped[float] = mapped_column(Float)
    rank_score_lo: Mapped[float | None] = mapped_column(Float, nullable=True)
    rank_score_hi: Mapped[float | None] = mapped_column(Float, nullable=True)
    per_family: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    #: samples in the private part
    n: Mapped[int | None] = mapped_column(Integer, nullable=True)


class Ladder(Base):
    """One participant's Ladder on a track. ``version`` is bumped with every result written to it,
    so a worker that judged a file against an outdated set of released points finds out when it
    writes (optimistic concurrency: two files of one participant scored at once by two workers
    never both pass against the same old best)."""

    __tablename__ = "ladders"
    track_id: Mapped[int] = mapped_column(ForeignKey("tracks.id"), primary_key=True)
    ladder_key: Mapped[str] = mapped_column(String(300), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, default=0)


class Release(Base):
    """A release: each participant's final submissions ranked on the private part, cut by an admin."""

    __tablename__ = "releases"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    track_id: Mapped[int] = mapped_column(ForeignKey("tracks.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(100))
    note: Mapped[str] = mapped_column(Text, default="")
    n_entries: Mapped[int] = mapped_column(Integer, default=0)
    entries: Mapped[list["ReleaseEntry"]] = relationship(cascade="all, delete-orphan",
                                                         order_by="ReleaseEntry.private_rank")


class ReleaseEntry(Base):
    __tablename__ = "release_entries"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    release_id: Mapped[int] = mapped_column(ForeignKey("releases.id", ondelete="CASCADE"), index=True)
    submission_id: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20))
    owner: Mapped[str] = mapped_column(String(100))
    router_name: Mapped[str] = mapped_column(String(200))
    team: Mapped[str] = mapped_column(String(200), default="")
    router_type: Mapped[str] = mapped_column(String(30), default="other")
    paper_url: Mapped[str] = mapped_column(Text, default="")
    code_url: Mapped[str] = mapped_column(Text, default="")
    point: Mapped[str] = mapped_column(String(200))
    accuracy: Mapped[float] = mapped_column(Float)
    cost: Mapped[float] = mapped_column(Float)
    rank_score: Mapped[float] = mapped_column(Float)
    rank_score_lo: Mapped[float | None] = mapped_column(Float, nullable=True)
    rank_score_hi: Mapped[float | None] = mapped_column(Float, nullable=True)
    private_rank: Mapped[int] = mapped_column(Integer)
    public_rank: Mapped[int | None] = mapped_column(Integer, nullable=True)
    public_rank_score: Mapped[float | None] = mapped_column(Float, nullable=True)
    #: every point of the entry on the private part, for the release's Pareto plot
    points: Mapped[list | None] = mapped_column(JSON, nullable=True)
    per_family: Mapped[dict | None] = mapped_column(JSON, nullable=True)


class QuotaUsage(Base):
    """One counter per (user, track, UTC day), bumped with a conditional UPDATE: race-free anywhere."""

    __tablename__ = "quota_usage"
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    track_id: Mapped[int] = mapped_column(ForeignKey("tracks.id"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    used: Mapped[int] = mapped_column(Integer, default=0)
    #: files that failed validation today (recorded without their bytes; capped per day)
    failed: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class Worker(Base):
    """Heartbeats: the app shows whether a worker is alive and what it is doing."""

    __tablename__ = "workers"
    worker_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    hostname: Mapped[str] = mapped_column(String(200))
    pid: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_heartbeat: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    state: Mapped[str] = mapped_column(String(20), default="idle")
    current_submission_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    jobs_done: Mapped[int] = mapped_column(Integer, default=0)
