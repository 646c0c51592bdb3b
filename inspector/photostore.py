"""Content-addressed photo store: a photo's name is the SHA-256 of its bytes.

Certificates sign these digests, so a stored photo can never be swapped without the
signature check failing. Writes are atomic (temp file + rename): a crash mid-write
leaves either no photo or the whole photo, never a truncated one. A store that cannot be
written or read (disk full, read-only, wrong permissions) raises ``PhotoStoreUnavailable``,
which the web app answers with a 503 where no caller turned it into a refusal of its own.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
MAX_PHOTO_BYTES = 20 * 1024 * 1024
_INCOMING = ".incoming-"
# Folders of the data directory: what stations photograph (signed by certificates, kept for
# good) and what people upload (buyers' and staff's claim photos, which may expire).
PHOTOS_DIR = "photos"
UPLOADS_DIR = "uploads"


class PhotoStoreError(ValueError):
    """A photo that cannot be stored or found (too large, bad digest, missing)."""


class PhotoStoreUnavailable(OSError):
    """The store's disk refused a read or write (full, read-only, permissions): try again later.

    An ``OSError``, so callers that already treat a failed write as "unavailable" still do."""

    def __init__(self) -> None:
        super().__init__("photo storage unavailable")


@dataclass(frozen=True)
class StoredFile:
    """A file in the store: a photo (``digest`` set) or a write that never finished."""

    path: Path
    digest: str | None
    mtime: float
    size: int


class PhotoStore:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def _path(self, digest: str) -> Path:
        if not _SHA256.match(digest):
            raise PhotoStoreError("a photo is named by the 64 hex digits of its SHA-256")
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
                os.utime(path)  # stored again: as young as a new file for anything that expires files
                return digest
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=_INCOMING)
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

    def incoming(self, digest: str, limit: int = MAX_PHOTO_BYTES) -> IncomingPhoto:
        """A photo that arrives in pieces and is kept only if its bytes have ``digest``."""
        return IncomingPhoto(self, self._path(digest), digest, limit)

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
        except (FileNotFoundError, NotADirectoryError) as exc:
            raise PhotoStoreError("no photo with this digest") from exc
        except OSError as exc:
            raise PhotoStoreUnavailable() from exc
        if hashlib.sha256(data).hexdigest() != digest:
            raise PhotoStoreError("this photo is corrupt on disk")
        return data

    def path(self, digest: str) -> Path:
        return self._path(digest)

    def delete(self, digest: str) -> None:
        """Remove a photo (nothing happens when it is already gone)."""
        self._path(digest).unlink(missing_ok=True)

    def files(self) -> Iterator[StoredFile]:
        """Every file in the store, with its age, including half-written ones a crash left."""
        if not self.root.is_dir():
            return
        for folder in sorted(self.root.iterdir()):
            if not folder.is_dir():
                continue
            for path in folder.iterdir():
                try:
                    st = path.stat()
                except FileNotFoundError:  # removed meanwhile
                    continue
                digest = path.name if _SHA256.match(path.name) and folder.name == path.name[:2] else None
                if digest is None and not path.name.startswith(_INCOMING):
                    continue  # not ours: leave it alone
                yield StoredFile(path, digest, st.st_mtime, st.st_size)


class IncomingPhoto:
    """A photo written as it arrives (never whole in memory), hashed and counted on the way.

    ``commit`` keeps it under its digest (atomically, like ``put``) only when the bytes match;
    leaving the ``with`` block without a commit removes what was written.
    """

    def __init__(self, store: PhotoStore, path: Path, digest: str, limit: int) -> None:
        self.path = path
        self.digest = digest
        self.limit = limit
        self.size = 0
        self._hash = hashlib.sha256()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=_INCOMING)
        except OSError as exc:
            raise PhotoStoreUnavailable() from exc
        self._tmp = Path(tmp)
        self._fh: BinaryIO | None = os.fdopen(fd, "wb")

    def write(self, chunk: bytes) -> None:
        assert self._fh is not None, "already committed or aborted"
        self.size += len(chunk)
        if self.size > self.limit:
            raise PhotoStoreError(f"photo is larger than {self.limit / 1e6:.0f} MB")
        self._hash.update(chunk)
        try:
            self._fh.write(chunk)
        except OSError as exc:
            raise PhotoStoreUnavailable() from exc

    def commit(self) -> int:
        """Keep the photo; its size. ``PhotoStoreError`` when the bytes are not the digest's."""
        assert self._fh is not None, "already committed or aborted"
        if self._hash.hexdigest() != self.digest:
            raise PhotoStoreError("the photo's bytes do not have the digest it was sent under")
        try:
            self._fh.flush()
            os.fsync(self._fh.fileno())
            self._fh.close()
            self._fh = None
            os.replace(self._tmp, self.path)
        except OSError as exc:
            raise PhotoStoreUnavailable() from exc
        return self.size

    def abort(self) -> None:
        if self._fh is not None:
            with contextlib.suppress(OSError):
                self._fh.close()
            self._fh = None
            with contextlib.suppress(OSError):
                self._tmp.unlink(missing_ok=True)

    def __enter__(self) -> IncomingPhoto:
        return self

    def __exit__(self, *exc: object) -> None:
        self.abort()
