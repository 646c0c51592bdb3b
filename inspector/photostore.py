"""Content-addressed photo store: a photo's name is the SHA-256 of its bytes.

Certificates sign these digests, so a stored photo can never be swapped without the
signature check failing. Writes are atomic (temp file + rename): a crash mid-write
leaves either no photo or the whole photo, never a truncated one. A store that cannot be
written or read (disk full, read-only, wrong permissions) raises ``PhotoStoreUnavailable``,
which the web app answers with a 503, and ``put_all`` stores a request's photos all or none.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
from pathlib import Path

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
MAX_PHOTO_BYTES = 20 * 1024 * 1024


class PhotoStoreError(ValueError):
    """A photo that cannot be stored or found (too large, bad digest, missing)."""


class PhotoStoreUnavailable(Exception):
    """The store's disk refused a read or write (full, read-only, permissions): try again later."""

    def __init__(self) -> None:
        super().__init__("photo storage unavailable")


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
        try:
            if path.exists():
                return digest
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".incoming-")
        except OSError as exc:
            raise PhotoStoreUnavailable() from exc
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except BaseException as exc:
            with contextlib.suppress(OSError):
                Path(tmp).unlink(missing_ok=True)
            if isinstance(exc, OSError):
                raise PhotoStoreUnavailable() from exc
            raise
        return digest

    def put_all(self, blobs: list[bytes]) -> list[str]:
        """Store every photo or none: on a failure the photos this call added are removed again."""
        added: list[Path] = []
        digests: list[str] = []
        try:
            for data in blobs:
                path = self._path(hashlib.sha256(data).hexdigest())
                existed = self.exists_at(path)
                digests.append(self.put(data))
                if not existed:
                    added.append(path)
        except BaseException:
            for path in added:
                with contextlib.suppress(OSError):  # the store's own error is the one to report
                    path.unlink(missing_ok=True)
            raise
        return digests

    def exists(self, digest: str) -> bool:
        return self.exists_at(self._path(digest))

    @staticmethod
    def exists_at(path: Path) -> bool:
        try:
            return path.exists()
        except OSError as exc:
            raise PhotoStoreUnavailable() from exc

    def get(self, digest: str) -> bytes:
        """Return the photo's bytes, re-checking the digest so on-disk corruption is caught."""
        path = self._path(digest)
        try:
            data = path.read_bytes()
        except FileNotFoundError as exc:
            raise PhotoStoreError(f"no photo {digest}") from exc
        except OSError as exc:
            raise PhotoStoreUnavailable() from exc
        if hashlib.sha256(data).hexdigest() != digest:
            raise PhotoStoreError(f"photo {digest} is corrupt on disk")
        return data

    def path(self, digest: str) -> Path:
        return self._path(digest)
