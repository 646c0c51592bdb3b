"""The database photo store: photos in 256 KiB chunks in the deployment's own database.

Every platform worker on every machine reaches the same PostgreSQL, so a photo one worker took
is served by any other, and backups of the database include the photos. Chunked ``bytea`` rows
rather than PostgreSQL large objects: rows follow transactions, ``ON DELETE CASCADE`` and the
tables' permissions like any other data, need no ``lo_unlink`` bookkeeping (a forgotten large
object leaks until ``vacuumlo``) and replicate logically; one chunk per query keeps a read or a
write to one chunk in memory. PostgreSQL only: on SQLite a photo written while the request's own
transaction is open (a claim and its photos) would wait for that transaction, which waits for it.

A write inserts its chunks under a fresh ``upload_id``, each chunk in its own short transaction
(a slow sender never holds a connection); the photo becomes visible only when ``commit`` inserts
its ``photo_object`` row. Two writers of the same digest both write their chunks; the insert of
the second waits for the first on the primary key, then only renews the time it was stored, and
the loser deletes its own chunks. A write that dies midway leaves chunks no row names: invisible,
listed by ``files`` and swept with the other leftovers.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, delete, exists, func, insert, select, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection, Engine

from inspector.db import TRANSIENT_DATABASE_ERRORS
from inspector.photostore.interface import (
    CHUNK_BYTES,
    MAX_PHOTO_BYTES,
    IncomingPhoto,
    PhotoReader,
    PhotoStore,
    PhotoStoreError,
    PhotoStoreUnavailable,
    Shelf,
    StoredFile,
    check_digest,
)
from inspector.photostore.tables import chunk_table, object_table, upload_table

CHUNKS_PER_QUERY = 4  # 1 MiB per round trip when reading
_LIST_PAGE = 500


@contextlib.contextmanager
def _reachable() -> Iterator[None]:
    """The database down, hanging or out of connections is the store being unavailable."""
    try:
        yield
    except TRANSIENT_DATABASE_ERRORS as exc:
        raise PhotoStoreUnavailable() from exc


def _drop_upload(conn: Connection, upload_id: str) -> None:
    """Delete a write's chunks and the write, unless a photo row names it (then it is a photo)."""
    if conn.execute(select(object_table.c.sha256).where(object_table.c.upload_id == upload_id)).first():
        return
    conn.execute(delete(chunk_table).where(chunk_table.c.upload_id == upload_id))
    conn.execute(delete(upload_table).where(upload_table.c.upload_id == upload_id))


class DatabasePhotoStore(PhotoStore):
    def __init__(self, engine: Engine, shelf: Shelf) -> None:
        if engine.dialect.name != "postgresql":
            raise ValueError(
                f"INSPECTOR_PHOTO_STORE=database needs a PostgreSQL DATABASE_URL, not {engine.dialect.name}; "
                "keep photos as files (fs) with SQLite"
            )
        self.engine = engine
        self.shelf = shelf

    def __eq__(self, other: object) -> bool:
        return isinstance(other, DatabasePhotoStore) and (other.engine, other.shelf) == (
            self.engine,
            self.shelf,
        )

    def __hash__(self) -> int:
        return hash((id(self.engine), self.shelf))

    def _is(self, digest: str) -> Any:
        return and_(object_table.c.shelf == self.shelf.value, object_table.c.sha256 == digest)

    def incoming(self, digest: str, limit: int = MAX_PHOTO_BYTES) -> IncomingPhoto:
        return _IncomingRows(self, check_digest(digest), limit)

    def exists(self, digest: str) -> bool:
        check_digest(digest)
        with _reachable(), self.engine.connect() as conn:
            return conn.execute(select(object_table.c.size).where(self._is(digest))).first() is not None

    def open(self, digest: str) -> PhotoReader:
        check_digest(digest)
        with _reachable(), self.engine.connect() as conn:
            row = conn.execute(
                select(object_table.c.upload_id, object_table.c.size).where(self._is(digest))
            ).first()
        if row is None:
            raise PhotoStoreError("no photo with this digest")
        return PhotoReader(digest, int(row.size), self._chunks(row.upload_id))

    def _chunks(self, upload_id: str) -> Iterator[bytes]:
        """The write's chunks in order, a few per query, each query on a connection of its own."""
        seq = 0
        while True:
            with _reachable(), self.engine.connect() as conn:
                rows = conn.execute(
                    select(chunk_table.c.seq, chunk_table.c.data)
                    .where(chunk_table.c.upload_id == upload_id, chunk_table.c.seq >= seq)
                    .order_by(chunk_table.c.seq)
                    .limit(CHUNKS_PER_QUERY)
                ).all()
            for row in rows:
                if row.seq != seq:  # a missing chunk: the reader reports the photo as corrupt
                    return
                yield bytes(row.data)
                seq += 1
            if len(rows) < CHUNKS_PER_QUERY:
                return

    def delete(self, digest: str) -> None:
        check_digest(digest)
        with _reachable(), self.engine.begin() as conn:
            upload_id = conn.execute(
                delete(object_table).where(self._is(digest)).returning(object_table.c.upload_id)
            ).scalar_one_or_none()
            if upload_id is not None:
                _drop_upload(conn, upload_id)

    def files(self) -> Iterator[StoredFile]:
        after = ""
        while True:  # by pages in digest order: a large store is never listed in one query
            with _reachable(), self.engine.connect() as conn:
                rows = conn.execute(
                    select(object_table.c.sha256, object_table.c.size, object_table.c.stored_at)
                    .where(object_table.c.shelf == self.shelf.value, object_table.c.sha256 > after)
                    .order_by(object_table.c.sha256)
                    .limit(_LIST_PAGE)
                ).all()
            for row in rows:
                yield StoredFile(row.sha256, row.sha256, row.stored_at.timestamp(), int(row.size))
            if len(rows) < _LIST_PAGE:
                break
            after = rows[-1].sha256
        yield from self._leftovers()

    def _leftovers(self) -> list[StoredFile]:
        """Writes that never became a photo (crashed, aborted but unreachable, or in progress)."""
        written = (
            select(func.coalesce(func.sum(func.length(chunk_table.c.data)), 0))
            .where(chunk_table.c.upload_id == upload_table.c.upload_id)
            .scalar_subquery()
        )
        named = exists().where(object_table.c.upload_id == upload_table.c.upload_id)
        with _reachable(), self.engine.connect() as conn:
            rows = conn.execute(
                select(upload_table.c.upload_id, upload_table.c.started_at, written.label("size")).where(
                    upload_table.c.shelf == self.shelf.value, ~named
                )
            ).all()
        return [StoredFile(r.upload_id, None, r.started_at.timestamp(), int(r.size)) for r in rows]

    def discard(self, entry: StoredFile) -> None:
        if entry.digest is not None:
            self.delete(entry.digest)
            return
        with _reachable(), self.engine.begin() as conn:
            mine = conn.execute(
                select(upload_table.c.upload_id).where(
                    upload_table.c.upload_id == entry.name, upload_table.c.shelf == self.shelf.value
                )
            ).first()
            if mine is not None:
                _drop_upload(conn, entry.name)


def _upsert(values: dict[str, Any]) -> Any:
    """Insert the photo's row, or only renew ``stored_at`` when the digest is stored already."""
    stmt = postgresql.insert(object_table).values(**values)
    return stmt.on_conflict_do_update(
        index_elements=["shelf", "sha256"], set_={"stored_at": values["stored_at"]}
    )


class _IncomingRows(IncomingPhoto):
    def __init__(self, store: DatabasePhotoStore, digest: str, limit: int) -> None:
        super().__init__(digest, limit)
        self._store = store
        self.upload_id = secrets.token_hex(16)
        self._buffer = bytearray()
        self._seq = 0
        with _reachable(), store.engine.begin() as conn:
            conn.execute(
                insert(upload_table).values(
                    upload_id=self.upload_id, shelf=store.shelf.value, started_at=datetime.now(UTC)
                )
            )

    def _write(self, chunk: bytes) -> None:
        self._buffer += chunk
        while len(self._buffer) >= CHUNK_BYTES:
            self._flush(CHUNK_BYTES)

    def _flush(self, n: int) -> None:
        piece = bytes(self._buffer[:n])
        del self._buffer[:n]
        with _reachable(), self._store.engine.begin() as conn:
            # No flush to disk per chunk: the photo row's own (synchronous) commit flushes the log
            # up to it, chunks included; a chunk lost in a crash belonged to no photo yet.
            conn.execute(text("SET LOCAL synchronous_commit = off"))
            conn.execute(insert(chunk_table).values(upload_id=self.upload_id, seq=self._seq, data=piece))
        self._seq += 1

    def _keep(self) -> None:
        if self._buffer:
            self._flush(len(self._buffer))
        store = self._store
        values = {
            "shelf": store.shelf.value,
            "sha256": self.digest,
            "upload_id": self.upload_id,
            "size": self.size,
            "stored_at": datetime.now(UTC),
        }
        with _reachable(), store.engine.begin() as conn:
            conn.execute(_upsert(values))
            owner = conn.execute(select(object_table.c.upload_id).where(store._is(self.digest))).scalar_one()
            if owner != self.upload_id:  # stored before (or by a concurrent writer): ours is a spare copy
                _drop_upload(conn, self.upload_id)

    def _discard(self) -> None:
        # Unreachable now: the chunks stay, invisible, until a sweep removes them.
        with contextlib.suppress(PhotoStoreUnavailable), _reachable(), self._store.engine.begin() as conn:
            _drop_upload(conn, self.upload_id)
