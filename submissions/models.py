"""Database schema (SQLAlchemy 2 ORM). Migrations in ``submissions/migrations`` create exactly this.

Only aggregates are stored: per point, per family and per dataset. Nothing per sample of the test
split is ever written here, so nothing the app can serve reveals test labels.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (JSON, Boolean, Date, DateTime, Float, ForeignKey, Index, Integer, String, Text,
                        UniqueConstraint)
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


class Submission(Base):
    __tablename__ = "submissions"
    __table_args__ = (
        # One live copy of a file per user and track; withdrawn ones clear dedup_key (NULLs never collide).
        UniqueConstraint("owner_id", "track_id", "dedup_key", name="uq_submission_dedup"),
        Index("ix_submissions_queue", "status", "created_at"),
        Index("ix_submissions_owner", "owner_id", "track_id"),
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
    accuracy: Mapped[float] = mapped_column(Float)
    cost: Mapped[float] = mapped_column(Float)
    total_cost: Mapped[float] = mapped_column(Float)
    rank_score: Mapped[float] = mapped_column(Float)
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
    level: Mapped[str] = mapped_column(String(10))  # "family" | "dataset"
    name: Mapped[str] = mapped_column(String(200))
    accuracy: Mapped[float | None] = mapped_column(Float, nullable=True)
    cost: Mapped[float | None] = mapped_column(Float, nullable=True)
    rank_score: Mapped[float | None] = mapped_column(Float, nullable=True)
    n: Mapped[int] = mapped_column(Integer)


class QuotaUsage(Base):
    """One counter per (user, track, UTC day), bumped with a conditional UPDATE: race-free anywhere."""

    __tablename__ = "quota_usage"
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    track_id: Mapped[int] = mapped_column(ForeignKey("tracks.id"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    used: Mapped[int] = mapped_column(Integer, default=0)


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
