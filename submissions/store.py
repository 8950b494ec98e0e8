"""Content-addressed file store: uploads are kept under their sha256, never under a user-given name.

``<root>/ab/cd/abcd…`` — the path is derived from the digest alone, so no upload can choose where it
lands, and the same bytes are stored once however often they are sent.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path

_HEX64 = re.compile(r"^[0-9a-f]{64}$")


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class FileStore:
    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    def path_for(self, digest: str) -> Path:
        if not _HEX64.match(digest):
            raise ValueError(f"not a sha256 hex digest: {digest!r}")
        return self.root / digest[:2] / digest[2:4] / digest

    def put(self, data: bytes) -> str:
        digest = sha256(data)
        dest = self.path_for(digest)
        if dest.exists():
            return digest
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, dest)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return digest

    def get(self, digest: str) -> bytes:
        data = self.path_for(digest).read_bytes()
        if sha256(data) != digest:
            raise IOError(f"stored file {digest} is corrupt (its content no longer matches its name)")
        return data

    def exists(self, digest: str) -> bool:
        return self.path_for(digest).exists()
