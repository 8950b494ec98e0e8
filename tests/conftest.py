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
