"""Content-addressed photo store: a photo's name is the SHA-256 of its bytes.

Certificates sign these digests, so a stored photo can never be swapped without the
signature check failing. Writes are atomic (temp file + rename): a crash mid-write
leaves either no photo or the whole photo, never a truncated one.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
MAX_PHOTO_BYTES = 20 * 1024 * 1024


class PhotoStoreError(ValueError):
    """A photo that cannot be stored or found (too large, bad digest, missing)."""


class PhotoStore:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def _path(self, digest: str) -> Path:
        if not _SHA256.match(digest):
            raise PhotoStoreError(f"not a SHA-256 hex digest: {digest[:80]!r}")
        return self.root / digest[:2] / digest

    def put(self, data: bytes) -> str:
        """Store ``data`` and return its SHA-256 hex digest (idempotent)."""
        if len(data) > MAX_PHOTO_BYTES:
            raise PhotoStoreError(
                f"photo is {len(data) / 1e6:.1f} MB; the limit is {MAX_PHOTO_BYTES / 1e6:.0f} MB"
            )
        digest = hashlib.sha256(data).hexdigest()
        path = self._path(digest)
        if path.exists():
            return digest
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".incoming-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return digest

    def exists(self, digest: str) -> bool:
        return self._path(digest).exists()

    def get(self, digest: str) -> bytes:
        """Return the photo's bytes, re-checking the digest so on-disk corruption is caught."""
        path = self._path(digest)
        try:
            data = path.read_bytes()
        except FileNotFoundError as exc:
            raise PhotoStoreError(f"no photo {digest}") from exc
        if hashlib.sha256(data).hexdigest() != digest:
            raise PhotoStoreError(f"photo {digest} is corrupt on disk")
        return data

    def path(self, digest: str) -> Path:
        return self._path(digest)
