"""Settings from the environment, with defaults that need no set-up (SQLite file, local store).

Every knob is read in one place so the README can list them all; see ``Settings.from_env``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from evaluator.tracks import DEFAULT_TRACKS, data_dir

MB = 1 << 20


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ValueError(f"environment variable {name}={raw!r} must be a whole number") from None


@dataclass(frozen=True)
class Settings:
    database_url: str
    store_dir: Path
    daily_quota: int = 5
    #: files that fail validation a user may send per track and UTC day (their problems are kept, not their bytes)
    daily_failed: int = 20
    max_upload_bytes: int = 256 * MB
    max_decompressed_bytes: int = 1024 * MB
    lease_seconds: int = 60
    max_attempts: int = 3
    heartbeat_seconds: int = 5
    sandbox_memory_bytes: int = 6 * 1024 * MB
    sandbox_cpu_seconds: int = 300
    sandbox_wall_seconds: float = 600
    #: upload validation runs in child processes: memory each may add, wall time per file, how many
    validation_memory_bytes: int = 1024 * MB
    validation_wall_seconds: float = 60
    validation_processes: int = 2
    #: a job no worker has picked up for this long fails with a message instead of waiting forever
    pending_timeout_seconds: int = 24 * 3600
    admins: frozenset[str] = field(default_factory=frozenset)
    #: bundle directories or built-in track names served by the app and its worker
    tracks: tuple[str, ...] = ("vlrb-sim",)
    #: the app trains missing starter routers in the background on start (ROUTERBOARD_TRAIN_STARTERS=0: never)
    train_starters: bool = True

    @classmethod
    def from_env(cls) -> "Settings":
        base = data_dir()
        url = os.environ.get("DATABASE_URL") or f"sqlite:///{base / 'routerboard.db'}"
        if url.startswith("postgres://"):  # the form many hosts hand out
            url = "postgresql://" + url[len("postgres://"):]
        if url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url[len("postgresql://"):]
        return cls(
            database_url=url,
            store_dir=Path(os.environ.get("ROUTERBOARD_STORE_DIR") or base / "uploads"),
            daily_quota=_int("ROUTERBOARD_DAILY_QUOTA", 5),
            daily_failed=_int("ROUTERBOARD_DAILY_FAILED", 20),
            max_upload_bytes=_int("ROUTERBOARD_MAX_UPLOAD_MB", 256) * MB,
            max_decompressed_bytes=_int("ROUTERBOARD_MAX_DECOMPRESSED_MB", 1024) * MB,
            lease_seconds=_int("ROUTERBOARD_LEASE_SECONDS", 60),
            max_attempts=_int("ROUTERBOARD_MAX_ATTEMPTS", 3),
            heartbeat_seconds=_int("ROUTERBOARD_HEARTBEAT_SECONDS", 5),
            sandbox_memory_bytes=_int("ROUTERBOARD_SANDBOX_MEMORY_MB", 6 * 1024) * MB,
            sandbox_cpu_seconds=_int("ROUTERBOARD_SANDBOX_CPU_SECONDS", 300),
            sandbox_wall_seconds=float(os.environ.get("ROUTERBOARD_SANDBOX_WALL_SECONDS") or 600),
            validation_memory_bytes=_int("ROUTERBOARD_VALIDATION_MEMORY_MB", 1024) * MB,
            validation_wall_seconds=float(os.environ.get("ROUTERBOARD_VALIDATION_WALL_SECONDS") or 60),
            validation_processes=_int("ROUTERBOARD_VALIDATION_PROCESSES", 2),
            pending_timeout_seconds=_int("ROUTERBOARD_PENDING_TIMEOUT_HOURS", 24) * 3600,
            admins=frozenset(a.strip() for a in os.environ.get("ROUTERBOARD_ADMINS", "").split(",") if a.strip()),
            tracks=tuple(t.strip() for t in (os.environ.get("ROUTERBOARD_TRACKS") or ",".join(DEFAULT_TRACKS)).split(",")
                         if t.strip()),
            train_starters=(os.environ.get("ROUTERBOARD_TRAIN_STARTERS") or "1").strip().lower()
            not in ("0", "false", "no", "off"),
        )
