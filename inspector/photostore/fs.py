"""The filesystem photo store (the default): ``<root>/<first two hex digits>/<digest>``.

A write goes to a temp file beside its photo, is fsynced and renamed into place: a crash leaves
either no photo or the whole photo, plus at most a temp file that ``files`` lists for sweeping.
Renaming over an existing copy is atomic, so two processes storing the same photo at once end
with one intact file.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from inspector.photostore.interface import (
    CHUNK_BYTES,
    MAX_PHOTO_BYTES,
    IncomingPhoto,
    PhotoReader,
    PhotoStore,
    PhotoStoreError,
    PhotoStoreUnavailable,
    StoredFile,
    check_digest,
    is_digest,
)

_INCOMING = ".incoming-"


class FileSystemPhotoStore(PhotoStore):
    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, FileSystemPhotoStore) and other.root == self.root

    def __hash__(self) -> int:
        return hash(self.root)

    def path(self, digest: str) -> Path:
        """Where the photo ``digest`` lives (this backend only; callers outside it use ``open``)."""
        check_digest(digest)
        return self.root / digest[:2] / digest

    def incoming(self, digest: str, limit: int = MAX_PHOTO_BYTES) -> IncomingPhoto:
        return _IncomingFile(self.path(digest), digest, limit)

    def exists(self, digest: str) -> bool:
        try:
            return self.path(digest).is_file()
        except OSError as exc:
            raise PhotoStoreUnavailable() from exc

    def open(self, digest: str) -> PhotoReader:
        path = self.path(digest)
        try:
            fh = path.open("rb")
            size = os.fstat(fh.fileno()).st_size
        except (FileNotFoundError, NotADirectoryError) as exc:
            raise PhotoStoreError("no photo with this digest") from exc
        except OSError as exc:  # a folder in its place, no permission, an I/O error
            raise PhotoStoreUnavailable() from exc
        return PhotoReader(digest, size, _chunks(fh), fh.close)

    def delete(self, digest: str) -> None:
        self.path(digest).unlink(missing_ok=True)

    def files(self) -> Iterator[StoredFile]:
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
                digest = path.name if is_digest(path.name) and folder.name == path.name[:2] else None
                if digest is None and not path.name.startswith(_INCOMING):
                    continue  # not ours: leave it alone
                yield StoredFile(f"{folder.name}/{path.name}", digest, st.st_mtime, st.st_size)

    def discard(self, entry: StoredFile) -> None:
        folder, _, name = entry.name.partition("/")
        photo = is_digest(name) and folder == name[:2]
        leftover = name.startswith(_INCOMING) and "/" not in name and folder not in ("", ".", "..")
        if not (photo or leftover):
            raise PhotoStoreError(f"not an entry of this store: {entry.name!r}")
        (self.root / folder / name).unlink(missing_ok=True)


def _chunks(fh: BinaryIO) -> Iterator[bytes]:
    try:
        while chunk := fh.read(CHUNK_BYTES):
            yield chunk
    except OSError as exc:
        raise PhotoStoreUnavailable() from exc


class _IncomingFile(IncomingPhoto):
    def __init__(self, path: Path, digest: str, limit: int) -> None:
        super().__init__(digest, limit)
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=_INCOMING)
        except OSError as exc:
            raise PhotoStoreUnavailable() from exc
        self._tmp = Path(tmp)
        self._fh: BinaryIO = os.fdopen(fd, "wb")

    def _write(self, chunk: bytes) -> None:
        try:
            self._fh.write(chunk)
        except OSError as exc:
            raise PhotoStoreUnavailable() from exc

    def _keep(self) -> None:
        try:
            self._fh.flush()
            os.fsync(self._fh.fileno())
            self._fh.close()
            os.replace(self._tmp, self.path)
        except OSError as exc:  # the caller's abort removes the temp file
            raise PhotoStoreUnavailable() from exc

    def _discard(self) -> None:
        with contextlib.suppress(OSError):
            self._fh.close()
        with contextlib.suppress(OSError):
            self._tmp.unlink(missing_ok=True)
