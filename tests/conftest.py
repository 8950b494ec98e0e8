"""Shared fixtures. Tests build their own data; the default track is generated once per session
into a temporary data directory, never into the user's cache.

Every cache a test can fill lives in one temporary directory too: routerboard's data directory and
the Hugging Face caches (``datasets`` once cached a test folder called ``repo`` in the user's
``~/.cache/huggingface``, and a later, different folder of that name read back as it). The
variables are set here, before anything imports ``datasets`` or ``huggingface_hub`` (both read them
once, at import), and subprocesses the tests start inherit them with ``os.environ``.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

#: Where the Hugging Face caches were before the suite pointed them away (what it must not write).
REAL_HF_HOME = Path(os.environ.get("HF_HOME") or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
                    / "huggingface")
REAL_HF_DATASETS_CACHE = Path(os.environ.get("HF_DATASETS_CACHE") or REAL_HF_HOME / "datasets")
_TMP = tempfile.mkdtemp(prefix="routerboard-test-")
_DATA = os.path.join(_TMP, "data")
HF_HOME = os.path.join(_TMP, "huggingface")
os.environ["ROUTERBOARD_DATA_DIR"] = _DATA
os.environ.update({"HF_HOME": HF_HOME, "HF_DATASETS_CACHE": os.path.join(HF_HOME, "datasets"),
                   "HF_HUB_CACHE": os.path.join(HF_HOME, "hub"), "HF_MODULES_CACHE": os.path.join(HF_HOME, "modules"),
                   "HF_ASSETS_CACHE": os.path.join(HF_HOME, "assets"), "HF_XET_CACHE": os.path.join(HF_HOME, "xet")})
for _elsewhere in ("HUGGINGFACE_HUB_CACHE", "HUGGINGFACE_ASSETS_CACHE", "TRANSFORMERS_CACHE", "HF_TOKEN_PATH",
                   "HF_DATASETS_DOWNLOADED_DATASETS_PATH", "HF_DATASETS_EXTRACTED_DATASETS_PATH"):
    os.environ.pop(_elsewhere, None)  # older or finer-grained names that would point outside HF_HOME

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

    shutil.rmtree(_TMP, ignore_errors=True)


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
