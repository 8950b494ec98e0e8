"""Shared fixtures. Tests build their own data; the default track is generated once per session
into a temporary data directory, never into the user's cache."""

from __future__ import annotations

import os
import tempfile

import pytest

_DATA = tempfile.mkdtemp(prefix="routerboard-test-data-")
os.environ["ROUTERBOARD_DATA_DIR"] = _DATA

import evaluator  # noqa: E402  (after the data directory is pinned)


@pytest.fixture(scope="session")
def sim_bundle() -> evaluator.Bundle:
    """The full default track with its hidden part (generated once per test session)."""
    return evaluator.load_bundle("vlrb-sim")


def pytest_sessionfinish(session, exitstatus):
    import shutil

    shutil.rmtree(_DATA, ignore_errors=True)


# ------------------------------------------------------------------------------ databases
PG_BASE = os.environ.get("ROUTERBOARD_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _pg_reason() -> str | None:
    """None when PostgreSQL answers, else why not (the skip message)."""
    try:
        import psycopg

        dsn = PG_BASE.replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(dsn, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
        return None
    except Exception as exc:  # noqa: BLE001 — any failure means: no PostgreSQL here
        return f"PostgreSQL at {PG_BASE} does not answer ({type(exc).__name__}: {str(exc).strip()[:120]})"


PG_UNAVAILABLE = _pg_reason()


def pg_schema_url() -> tuple[str, callable]:
    """A fresh schema in the test database and a function that drops it."""
    import uuid

    import psycopg

    schema = f"rb_{uuid.uuid4().hex[:12]}"
    dsn = PG_BASE.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')

    def drop() -> None:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')

    sep = "&" if "?" in PG_BASE else "?"
    return f"{PG_BASE}{sep}options=-csearch_path%3D{schema}", drop


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    """Each test runs on a SQLite file and on a fresh PostgreSQL schema (skipped, with the reason,
    only where PostgreSQL does not answer)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'routerboard.db'}"
        return
    if PG_UNAVAILABLE:
        pytest.skip(PG_UNAVAILABLE)
    url, drop = pg_schema_url()
    yield url
    from sqlalchemy.orm import close_all_sessions

    close_all_sessions()
    drop()


@pytest.fixture()
def pg_url():
    if PG_UNAVAILABLE:
        pytest.skip(PG_UNAVAILABLE)
    url, drop = pg_schema_url()
    yield url
    drop()


@pytest.fixture(scope="session")
def sim_sources(sim_bundle):
    """(public dir, hidden dir) of the generated default track, as a worker is given them."""
    from evaluator.tracks import builtin_track_dir
    from submissions.worker import TrackSource

    root = builtin_track_dir("vlrb-sim")
    return [TrackSource(str(root), str(root / "hidden"))]


def make_settings(db_url: str, tmp_path, **overrides):
    from submissions.config import Settings

    base = dict(database_url=db_url, store_dir=tmp_path / "store", heartbeat_seconds=1, lease_seconds=30)
    base.update(overrides)
    return Settings(**base)
