"""Engine, sessions and migrations. ``connect(url)`` brings any empty database to the current schema."""

from __future__ import annotations

import logging
import os
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, TypeVar

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from submissions.models import Track, User

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
log = logging.getLogger(__name__)
T = TypeVar("T")


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record) -> None:
            # WAL lets readers (the app) run while a worker writes; foreign keys are off by default.
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        return engine
    # application_name lets an operator (and the tests) tell the project's connections apart in pg_stat_activity
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10, connect_args={
        "application_name": os.environ.get("ROUTERBOARD_DB_APPLICATION_NAME", "routerboard")})


def migrate(engine: Engine) -> None:
    """Run the Alembic migrations up to head (idempotent; safe when several processes start at once)."""
    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            # Serialise concurrent first starts: only one process creates the tables.
            connection.exec_driver_sql("SELECT pg_advisory_xact_lock(727274)")
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "head")


def connect(url: str) -> tuple[Engine, sessionmaker[Session]]:
    engine = make_engine(url)
    migrate(engine)
    return engine, sessionmaker(engine, expire_on_commit=False)


#: PostgreSQL error classes that say the connection or the server went away, not that the request was
#: wrong: 08 connection exception, 57P0x operator intervention (admin/crash shutdown, cannot connect now)
_PG_TRANSIENT = ("08", "57P")
_TRANSIENT_WORDS = ("database is locked", "database is busy", "could not connect", "connection refused", "connection failed",
                    "server closed the connection", "connection is closed", "terminating connection",
                    "connection timed out", "the database system is")


def is_transient(exc: BaseException) -> bool:
    """A database error that says nothing about the job: the connection dropped (a restart, a
    failover, ``pg_terminate_backend``), the server is not reachable yet, or SQLite is busy — the same
    call may succeed once the database is back. Not a wrong password, a missing table or a read-only
    file: those are retried by no one and reported."""
    if not isinstance(exc, DBAPIError):
        return False
    if exc.connection_invalidated:
        return True
    code = str(getattr(exc.orig, "sqlstate", "") or "")
    if code:
        return code.startswith(_PG_TRANSIENT)
    if isinstance(exc, (OperationalError, InterfaceError)):
        text = str(exc.orig if exc.orig is not None else exc).lower()
        return any(w in text for w in _TRANSIENT_WORDS)
    return False


def retrying(fn: Callable[..., T], *args: Any, stop: threading.Event | None = None, what: str = "database call",
             max_wait: float = 30.0, **kwargs: Any) -> T:
    """Call ``fn`` until it does not fail with a transient database error, backing off from 0.5 s to
    ``max_wait`` between tries; forever unless ``stop`` is set (then the last error is raised).
    Each ``fn`` here is one transaction, so a retry never applies half of one twice."""
    delay = 0.5
    while True:
        try:
            return fn(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 — only transient errors are retried
            if not is_transient(exc) or (stop is not None and stop.is_set()):
                raise
            log.warning("%s failed (%s: %s); retrying in %.1f s", what, type(exc).__name__,
                        str(exc).strip().splitlines()[0][:200] if str(exc).strip() else "", delay)
            if stop is not None:
                if stop.wait(delay):
                    raise
            else:
                time.sleep(delay)
            delay = min(max_wait, delay * 2)


def utcnow() -> datetime:
    """Every time stored is timezone-aware UTC."""
    return datetime.now(timezone.utc)


def insert_ignore(session: Session, model, **values) -> None:
    """INSERT … ON CONFLICT DO NOTHING on PostgreSQL and SQLite: the race-free way to create a row
    that a concurrent request may be creating too."""
    ins = pg_insert if session.bind.dialect.name == "postgresql" else sqlite_insert
    session.execute(ins(model).values(**values).on_conflict_do_nothing())


def bump_board(session: Session, track_id: int) -> None:
    """Say that what the track's board shows changed (inside the transaction that changed it)."""
    session.execute(update(Track).where(Track.id == track_id).values(board_version=Track.board_version + 1)
                    .execution_options(synchronize_session=False))


def ensure_track(factory: sessionmaker[Session], bundle, public_path: str) -> int:
    """The id of a track (an ``evaluator.Bundle``), registered on first sight, race-free."""
    for _ in range(3):
        with factory() as session:
            row = session.execute(select(Track).where(Track.name == bundle.name, Track.version == bundle.version)
                                  ).scalar_one_or_none()
            if row is not None:
                return row.id
            session.add(Track(name=bundle.name, version=bundle.version, public_path=str(public_path),
                              simulated=bundle.provenance.simulated, created_at=utcnow()))
            try:
                session.commit()
            except IntegrityError:  # another process registered it first
                session.rollback()
    raise RuntimeError(f"could not register track {bundle.track_id}")


def ensure_user(session: Session, username: str, *, is_admin: bool = False) -> User:
    """The user row, created if missing — without racing a concurrent first request of the same
    user (INSERT … ON CONFLICT DO NOTHING, then read)."""
    user = session.execute(select(User).where(User.username == username)).scalar_one_or_none()
    if user is None:
        insert_ignore(session, User, username=username, display_name=username, is_admin=is_admin,
                      created_at=utcnow())
        user = session.execute(select(User).where(User.username == username)).scalar_one()
    return user
