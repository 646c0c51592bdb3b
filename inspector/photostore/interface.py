"""What every photo store does: photos named by their SHA-256, written and read in chunks.

Certificates sign these digests, so a stored photo can never be swapped without the signature
check failing. A write goes through an ``IncomingPhoto`` that hashes and counts while it writes
and keeps the photo only when its bytes have the digest it was sent under; until then nothing is
visible, so a torn write never becomes a photo. A read is a ``PhotoReader``: the photo's size
first, then its chunks, re-hashed on the way so corruption in the store is caught before the
last chunk leaves. A store that cannot be written or read (disk full, read-only, database down)
raises ``PhotoStoreUnavailable``, which the web app answers with a 503 where no caller turned it
into a refusal of its own.
"""

from __future__ import annotations

import hashlib
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import StrEnum

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
MAX_PHOTO_BYTES = 20 * 1024 * 1024
# Reads and database writes move photos in pieces of this size: one piece in memory at a time.
CHUNK_BYTES = 256 * 1024


class Shelf(StrEnum):
    """The two stores a deployment keeps (also the folder names of the filesystem store)."""

    STATION = "photos"
    """What stations photograph: signed by certificates, kept for good."""
    UPLOADS = "uploads"
    """What people upload (buyers' and staff's claim photos): may expire."""


PHOTOS_DIR = Shelf.STATION.value
UPLOADS_DIR = Shelf.UPLOADS.value


class PhotoStoreError(ValueError):
    """A photo that cannot be stored or found (too large, bad digest, missing, corrupt)."""


class PhotoStoreUnavailable(OSError):
    """The store refused a read or write (full, read-only, permissions, database down): try later.

    An ``OSError``, so callers that already treat a failed write as "unavailable" still do."""

    def __init__(self) -> None:
        super().__init__("photo storage unavailable")


def check_digest(digest: str) -> str:
    """``digest`` when it is 64 lowercase hex digits; ``PhotoStoreError`` otherwise (path tricks)."""
    if not _SHA256.match(digest):
        raise PhotoStoreError("a photo is named by the 64 hex digits of its SHA-256")
    return digest


def is_digest(name: str) -> bool:
    return bool(_SHA256.match(name))


@dataclass(frozen=True)
class StoredFile:
    """An entry of a store: a photo (``digest`` set) or a write that never finished (``None``).

    ``name`` identifies the entry to its own store's ``discard``; ``mtime`` is when it was last
    stored (a photo stored again is as young as a new one)."""

    name: str
    digest: str | None
    mtime: float
    size: int


class PhotoReader:
    """One stored photo, read as chunks; its size is known before the first byte.

    Iterating yields the photo's bytes in order and re-hashes them; the last chunk is held back
    until the whole photo matched its digest and size, so a corrupt photo is never handed out
    whole (``PhotoStoreError`` instead). Iterate once; ``close`` (or ``with``) frees the source.
    """

    def __init__(
        self, digest: str, size: int, chunks: Iterator[bytes], close: Callable[[], None] | None = None
    ) -> None:
        self.digest = digest
        self.size = size
        self._chunks = chunks
        self._close = close

    def __iter__(self) -> Iterator[bytes]:
        hasher = hashlib.sha256()
        total = 0
        held: bytes | None = None
        try:
            for chunk in self._chunks:
                if not chunk:
                    continue
                total += len(chunk)
                hasher.update(chunk)
                if held is not None:
                    yield held
                held = chunk
            if total != self.size or hasher.hexdigest() != self.digest:
                raise PhotoStoreError("this photo is corrupt in the store")
            if held is not None:
                yield held
        finally:
            self.close()

    def read_all(self) -> bytes:
        """The whole photo in memory: for decoding one photo (grading, a thumbnail), never a set."""
        return b"".join(self)

    def close(self) -> None:
        if self._close is not None:
            close, self._close = self._close, None
            close()

    def __enter__(self) -> PhotoReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class IncomingPhoto(ABC):
    """A photo written as it arrives (never whole in memory), hashed and counted on the way.

    ``commit`` keeps it under its digest (atomically) only when the bytes match; leaving the
    ``with`` block without a commit removes what was written. A backend supplies how pieces are
    written (``_write``), kept (``_keep``) and thrown away (``_discard``).
    """

    def __init__(self, digest: str, limit: int) -> None:
        self.digest = check_digest(digest)
        self.limit = limit
        self.size = 0
        self._hash = hashlib.sha256()
        self._open = True

    def write(self, chunk: bytes) -> None:
        assert self._open, "already committed or aborted"
        self.size += len(chunk)
        if self.size > self.limit:
            raise PhotoStoreError(f"photo is larger than {self.limit / 1e6:.0f} MB")
        self._hash.update(chunk)
        self._write(chunk)

    def commit(self) -> int:
        """Keep the photo; its size. ``PhotoStoreError`` when the bytes are not the digest's."""
        assert self._open, "already committed or aborted"
        if self._hash.hexdigest() != self.digest:
            raise PhotoStoreError("the photo's bytes do not have the digest it was sent under")
        self._keep()
        self._open = False
        return self.size

    def abort(self) -> None:
        """Throw away what was written (nothing happens after a commit or a second abort)."""
        if self._open:
            self._open = False
            self._discard()

    @abstractmethod
    def _write(self, chunk: bytes) -> None: ...

    @abstractmethod
    def _keep(self) -> None:
        """Make the written bytes visible under the digest, atomically; a second copy is one."""

    @abstractmethod
    def _discard(self) -> None:
        """Remove what was written; must not raise for a store that is unavailable."""

    def __enter__(self) -> IncomingPhoto:
        return self

    def __exit__(self, *exc: object) -> None:
        self.abort()


class PhotoStore(ABC):
    """A content-addressed photo store; every backend behaves the same (tests/photostore)."""

    @abstractmethod
    def incoming(self, digest: str, limit: int = MAX_PHOTO_BYTES) -> IncomingPhoto:
        """A photo that arrives in pieces and is kept only if its bytes have ``digest``."""

    @abstractmethod
    def open(self, digest: str) -> PhotoReader:
        """The stored photo, to read in chunks; ``PhotoStoreError`` when there is none."""

    @abstractmethod
    def exists(self, digest: str) -> bool: ...

    @abstractmethod
    def delete(self, digest: str) -> None:
        """Remove a photo (nothing happens when it is already gone)."""

    @abstractmethod
    def files(self) -> Iterator[StoredFile]:
        """Every entry in the store, with its age, including half-written ones a crash left."""

    @abstractmethod
    def discard(self, entry: StoredFile) -> None:
        """Remove an entry ``files`` listed: a photo or a write that never finished."""

    def put(self, data: bytes) -> str:
        """Store ``data`` and return its SHA-256 hex digest (idempotent; renews its age)."""
        if len(data) > MAX_PHOTO_BYTES:
            raise PhotoStoreError(
                f"photo is {len(data) / 1e6:.1f} MB; the limit is {MAX_PHOTO_BYTES / 1e6:.0f} MB"
            )
        digest = hashlib.sha256(data).hexdigest()
        with self.incoming(digest) as incoming:
            for start in range(0, len(data), CHUNK_BYTES):
                incoming.write(data[start : start + CHUNK_BYTES])
            incoming.commit()
        return digest

    def get(self, digest: str) -> bytes:
        """One photo's bytes, checked against its digest: only for decoding a single photo."""
        with self.open(digest) as reader:
            return reader.read_all()
