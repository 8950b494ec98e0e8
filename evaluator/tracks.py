"""Built-in tracks by name, and where bundles live on disk.

``ROUTERBOARD_DATA_DIR`` (default ``~/.cache/routerboard``; on a Hugging Face Space with persistent
storage ``/data/routerboard``) holds generated bundles under
``tracks/<name>-<version>/``. A built-in track is generated on first use; concurrent first uses are
safe because :meth:`Bundle.save` renames a finished directory into place.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Callable

from evaluator import vlrb_sim, vlrb_sim_tracks
from evaluator.bundle import READABLE_FORMATS, Bundle, read_bundle
from evaluator.errors import BundleError

DATA_DIR_ENV = "ROUTERBOARD_DATA_DIR"
#: a Hugging Face Space's persistent storage, when the Space has it (the only place that outlives a restart)
SPACE_STORAGE = Path("/data")
DEFAULT_TRACK = vlrb_sim.NAME
#: name → (version, generator)
BUILTIN_TRACKS: dict[str, tuple[str, Callable[[], Bundle]]] = {
    vlrb_sim.NAME: (vlrb_sim.VERSION, vlrb_sim.generate),
    vlrb_sim_tracks.HELDOUT: (vlrb_sim_tracks.VERSION, vlrb_sim_tracks.generate_heldout),
    vlrb_sim_tracks.NEWMODELS: (vlrb_sim_tracks.VERSION, vlrb_sim_tracks.generate_newmodels),
}
#: what the app serves when ``ROUTERBOARD_TRACKS`` is not set: the default track first (it is the
#: app's default), then the generalisation tracks
DEFAULT_TRACKS: tuple[str, ...] = (vlrb_sim.NAME, vlrb_sim_tracks.HELDOUT, vlrb_sim_tracks.NEWMODELS)
#: generalisation track → what it measures, against the in-distribution ``DEFAULT_TRACK``
GENERALISATION_TRACKS: dict[str, str] = {vlrb_sim_tracks.HELDOUT: "held-out datasets",
                                         vlrb_sim_tracks.NEWMODELS: "new models"}


def data_dir() -> Path:
    if os.environ.get(DATA_DIR_ENV):
        return Path(os.environ[DATA_DIR_ENV])
    if os.environ.get("SPACE_ID") and SPACE_STORAGE.is_dir() and os.access(SPACE_STORAGE, os.W_OK):
        return SPACE_STORAGE / "routerboard"
    return Path.home() / ".cache" / "routerboard"


def builtin_track_dir(name: str) -> Path:
    version, _ = BUILTIN_TRACKS[name]
    return data_dir() / "tracks" / f"{name}-{version}"


def _format_version(path: Path) -> int | None:
    try:
        return json.loads((path / "public" / "bundle.json").read_text(encoding="utf-8")).get("format_version")
    except (OSError, ValueError):
        return None


def ensure_builtin(name: str) -> Path:
    """Directory of a built-in track, generated (with its hidden part) when not there yet — or
    generated again when it was written in an older bundle format (generation is deterministic,
    so the rebuilt track has the same samples and matrices)."""
    path = builtin_track_dir(name)
    if _format_version(path) not in READABLE_FORMATS:
        _, generate = BUILTIN_TRACKS[name]
        generate().save(path)
    return path


def load_bundle(path_or_track: str | os.PathLike[str], hidden: str | os.PathLike[str] | bool | None = None,
                images: bool = True) -> Bundle:
    """Load a bundle directory or a built-in track by name (``"vlrb-sim"`` is built on first use).

    ``hidden``: ``None`` loads ``<bundle>/hidden`` when present, ``False`` never reads test labels
    (what the web process does), a path names a hidden directory kept elsewhere.
    """
    key = str(path_or_track)
    if key in BUILTIN_TRACKS and not Path(key).exists():
        return read_bundle(ensure_builtin(key), hidden=hidden, images=images)
    path = Path(path_or_track)
    if not path.exists():
        raise BundleError(
            f"no bundle at {path!s} and no built-in track of that name; built-in tracks: "
            f"{sorted(BUILTIN_TRACKS)}. Make a bundle with `routerboard import vlrb DIR --out {path}`."
        )
    return read_bundle(path, hidden=hidden, images=images)
