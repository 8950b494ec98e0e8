"""Engine, sessions and migrations. ``connect(url)`` brings any empty database to the current schema."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from submissions.models import Track, User

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


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
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)


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


def utcnow() -> datetime:
    """Every time stored is timezone-aware UTC."""
    return datetime.now(timezone.utc)


def insert_ignore(session: Session, model, **values) -> None:
    """INSERT … ON CONFLICT DO NOTHING on PostgreSQL and SQLite: the race-free way to create a row
    that a concurrent request may be creating too."""
    ins = pg_insert if session.bind.dialect.name == "postgresql" else sqlite_insert
    session.execute(ins(model).values(**values).on_conflict_do_nothing())


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
