"""A throw-away PostgreSQL schema per test or benchmark run, so runs never see each other's rows."""

from __future__ import annotations

import os
import uuid
from typing import Callable

PG_BASE = os.environ.get("ROUTERBOARD_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _dsn(base: str) -> str:
    return base.replace("postgresql+psycopg://", "postgresql://")


def unavailable(base: str = PG_BASE) -> str | None:
    """None when PostgreSQL answers, else why not (a skip message)."""
    try:
        import psycopg

        with psycopg.connect(_dsn(base), connect_timeout=3) as conn:
            conn.execute("SELECT 1")
        return None
    except Exception as exc:  # noqa: BLE001 — any failure means: no PostgreSQL here
        return f"PostgreSQL at {base} does not answer ({type(exc).__name__}: {str(exc).strip()[:120]})"


def fresh_schema(base: str = PG_BASE, prefix: str = "rb") -> tuple[str, Callable[[], None]]:
    """A SQLAlchemy URL whose search_path is a new schema, and a function that drops it."""
    import psycopg

    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(_dsn(base), autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')

    def drop() -> None:
        with psycopg.connect(_dsn(base), autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')

    sep = "&" if "?" in base else "?"
    return f"{base}{sep}options=-csearch_path%3D{schema}", drop
