"""Shared fixtures. Tests build their own data; the default track is generated once per session
into a temporary data directory, never into the user's cache."""

from __future__ import annotations

import os
import tempfile

import pytest

_DATA = tempfile.mkdtemp(prefix="routerboard-test-data-")
os.environ["ROUTERBOARD_DATA_DIR"] = _DATA

import evaluator  # noqa: E402  (after the data directory is pinned)
from hypothesis import settings as hypothesis_settings  # noqa: E402

# CI replays the same generated examples every run (a red build always means the same bug);
# locally each run explores new ones.
hypothesis_settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    hypothesis_settings.load_profile("ci")


@pytest.fixture(scope="session")
def sim_bundle() -> evaluator.Bundle:
    """The full default track with its hidden part (generated once per test session)."""
    return evaluator.load_bundle("vlrb-sim")


def pytest_sessionfinish(session, exitstatus):
    import shutil

    shutil.rmtree(_DATA, ignore_errors=True)


# ------------------------------------------------------------------------------ databases
from pgschema import fresh_schema  # noqa: E402
from pgschema import unavailable  # noqa: E402

PG_UNAVAILABLE = unavailable()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    """Each test runs on a SQLite file and on a fresh PostgreSQL schema (skipped, with the reason,
    only where PostgreSQL does not answer)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'routerboard.db'}"
        return
    if PG_UNAVAILABLE:
        pytest.skip(PG_UNAVAILABLE)
    url, drop = fresh_schema()
    yield url
    from sqlalchemy.orm import close_all_sessions

    close_all_sessions()
    drop()


@pytest.fixture()
def pg_url():
    if PG_UNAVAILABLE:
        pytest.skip(PG_UNAVAILABLE)
    url, drop = fresh_schema()
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
