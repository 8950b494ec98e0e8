"""Where the app listens and whether what it stores survives a restart, locally and on a Hugging Face
Space.

Listening address, first match wins: ``serve``'s arguments (``routerboard serve --host/--port``), the
project's ``ROUTERBOARD_HOST``/``ROUTERBOARD_PORT``, Gradio's own ``GRADIO_SERVER_NAME``/
``GRADIO_SERVER_PORT``, then the default — ``0.0.0.0:7860`` on a Space (``SPACE_ID`` set: the
address a Space's proxy forwards to), ``127.0.0.1:7860`` elsewhere.

Storage: on a Space only ``/data`` (persistent storage, when the Space has it) outlives a restart;
:func:`evaluator.tracks.data_dir` puts the data directory there, and :func:`storage_warning` says so
when the database or the uploaded files would be lost.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from evaluator import tracks
from submissions.config import Settings

LOCAL_HOST, SPACE_HOST, DEFAULT_PORT = "127.0.0.1", "0.0.0.0", 7860
HOST_VARIABLES = ("ROUTERBOARD_HOST", "GRADIO_SERVER_NAME")
PORT_VARIABLES = ("ROUTERBOARD_PORT", "GRADIO_SERVER_PORT")


def on_space() -> bool:
    return bool(os.environ.get("SPACE_ID"))


def _first_set(names: tuple[str, ...]) -> tuple[str, str] | None:
    for name in names:
        value = (os.environ.get(name) or "").strip()
        if value:
            return name, value
    return None


def listen_address(host: str | None = None, port: int | None = None) -> tuple[str, int]:
    """(host, port) the app listens on; see the module docstring for the order."""
    if not host:
        found = _first_set(HOST_VARIABLES)
        host = found[1] if found else SPACE_HOST if on_space() else LOCAL_HOST
    if not port:
        found = _first_set(PORT_VARIABLES)
        if found is None:
            port = DEFAULT_PORT
        else:
            name, raw = found
            try:
                port = int(raw)
            except ValueError:
                raise ValueError(f"environment variable {name}={raw!r} must be a port number") from None
    return host, int(port)


def _persistent(path: Path) -> bool:
    storage = tracks.SPACE_STORAGE
    return storage.is_dir() and Path(path).resolve().is_relative_to(storage.resolve())


def _sqlite_path(url: str) -> Path | None:
    prefix = "sqlite:///"
    return Path(url[len(prefix):]) if url.startswith(prefix) else None


def storage_warning(settings: Settings) -> str | None:
    """Markdown warning when, on a Space, submissions or uploaded files would not survive a restart
    (None locally, and on a Space whose database and store live in persistent storage)."""
    if not on_space():
        return None
    lost = []
    db = _sqlite_path(settings.database_url)
    if db is not None and not _persistent(db):
        lost.append("the database (submissions, queue and scores)")
    if not _persistent(settings.store_dir):
        lost.append("the uploaded prediction files" + ("" if lost else " (scores stay in the database)"))
    if not lost:
        return None
    return (f"**No persistent storage:** {' and '.join(lost)} live inside this Space's container and are "
            f"lost whenever it restarts. Enable persistent storage in the Space's settings (it is mounted at "
            f"`{tracks.SPACE_STORAGE}`), or set `DATABASE_URL` to a PostgreSQL database.")


def log_storage_warning(settings: Settings) -> str | None:
    """:func:`storage_warning`, also written to the log (as plain text) when there is one."""
    warning = storage_warning(settings)
    if warning:
        logging.getLogger("routerboard").warning(warning.replace("**", "").replace("`", ""))
    return warning
