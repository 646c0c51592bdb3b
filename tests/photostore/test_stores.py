"""Every photo store backend behaves the same: one suite, run on files and on PostgreSQL.

What a deployment would notice if a backend differed: a photo that comes back different, a
half-sent photo that shows up, the same photo stored twice, a 50 MB upload accepted, a corrupt
photo served whole, a sweep that cannot see or remove leftovers.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest
from photo_cases import StoreCase, elsewhere
from sqlalchemy import text

from inspector.photostore import CHUNK_BYTES, FileSystemPhotoStore, PhotoStoreError


def corrupt(case: StoreCase, digest: str) -> None:
    """Flip one byte of the stored photo behind the store's back (size unchanged)."""
    if isinstance(case.store, FileSystemPhotoStore):
        path = case.store.path(digest)
        data = bytearray(path.read_bytes())
        data[10] ^= 0xFF
        path.write_bytes(bytes(data))
        return
    assert case.engine is not None
    with case.engine.begin() as conn:
        row = conn.execute(
            text(
                "select c.upload_id, c.data from photo_chunk c"
                " join photo_object o on o.upload_id = c.upload_id where o.sha256 = :d and c.seq = 0"
            ),
            {"d": digest},
        ).one()
        data = bytearray(row.data)
        data[10] ^= 0xFF
        conn.execute(
            text("update photo_chunk set data = :x where upload_id = :u and seq = 0"),
            {"x": bytes(data), "u": row.upload_id},
        )


def test_a_photo_comes_back_byte_for_byte_in_chunks_with_its_size_first(case: StoreCase) -> None:
    """A 600 KB photo is named by its SHA-256, its size is known before reading, and it is read
    back in several chunks of at most 256 KiB that join to the very same bytes."""
    photo = os.urandom(600_000)
    digest = case.store.put(photo)
    assert digest == hashlib.sha256(photo).hexdigest()
    assert case.store.exists(digest)
    with case.store.open(digest) as reader:
        assert reader.size == len(photo)
        chunks = list(reader)
    assert len(chunks) >= 3 and all(len(c) <= CHUNK_BYTES for c in chunks)
    assert b"".join(chunks) == photo == case.store.get(digest)


def test_a_photo_written_in_pieces_is_kept_only_when_its_bytes_have_its_digest(case: StoreCase) -> None:
    """The streamed writer keeps a photo sent in odd-sized pieces; bytes that are not the digest's
    are refused at commit and leave nothing behind, not even a leftover for the sweep."""
    photo = os.urandom(700_001)
    digest = hashlib.sha256(photo).hexdigest()
    with case.store.incoming(digest) as incoming:
        for start in range(0, len(photo), 65_537):
            incoming.write(photo[start : start + 65_537])
        assert incoming.commit() == len(photo)
    assert case.store.get(digest) == photo

    other = "ab" * 32
    with case.store.incoming(other) as incoming:
        incoming.write(os.urandom(300_000))
        with pytest.raises(PhotoStoreError, match="do not have the digest"):
            incoming.commit()
    assert not case.store.exists(other)
    assert [f.digest for f in case.store.files()] == [digest]


def test_uploads_over_the_limit_and_names_that_are_not_digests_are_refused(case: StoreCase) -> None:
    """A writer stops at its limit, a 50 MB photo is refused before anything is written, and a
    name that is not 64 hex digits (a path trick) is refused by every method."""
    photo = os.urandom(5_000)
    digest = hashlib.sha256(photo).hexdigest()
    with case.store.incoming(digest, limit=4_096) as incoming:
        incoming.write(photo[:4_000])
        with pytest.raises(PhotoStoreError, match="larger than"):
            incoming.write(photo[4_000:])
    with pytest.raises(PhotoStoreError, match="limit"):
        case.store.put(b"\x00" * (50 * 1024 * 1024))
    for call in (case.store.open, case.store.exists, case.store.delete, case.store.incoming):
        with pytest.raises(PhotoStoreError, match="SHA-256"):
            call("../../etc/passwd")
    assert list(case.store.files()) == []


def test_a_write_torn_by_a_killed_process_never_becomes_a_photo(case: StoreCase, tmp_path: Path) -> None:
    """A process killed (SIGKILL) halfway through a 1 MB photo leaves no photo under its digest:
    it is not found, not served, listed only as a leftover that the sweep can discard; the whole
    photo stored afterwards reads back intact."""
    photo = os.urandom(1_000_000)
    digest = hashlib.sha256(photo).hexdigest()
    spilled = tmp_path / "photo.bin"
    spilled.write_bytes(photo)
    torn = elsewhere(
        case,
        """
        data = Path(sys.argv[1]).read_bytes()
        incoming = store.incoming(sys.argv[2])
        incoming.write(data[:600_000])
        os.kill(os.getpid(), signal.SIGKILL)
        """,
        str(spilled),
        digest,
    )
    assert torn.returncode == -9, torn.stderr
    assert not case.store.exists(digest)
    with pytest.raises(PhotoStoreError, match="no photo"):
        case.store.open(digest)
    (leftover,) = case.store.files()
    assert leftover.digest is None and leftover.size > 0
    case.store.discard(leftover)
    assert list(case.store.files()) == []
    assert case.store.get(case.store.put(photo)) == photo


def test_the_same_photo_stored_twice_is_one_photo_made_young_again(case: StoreCase) -> None:
    """Storing a photo again keeps one copy (one listing entry, no leftovers) and renews its age,
    so an upload sweep never removes a photo that was just sent again."""
    photo = os.urandom(300_000)
    digest = case.store.put(photo)
    (first,) = case.store.files()
    assert case.store.put(photo) == digest
    (again,) = case.store.files()
    assert again.digest == digest and again.size == len(photo)
    assert again.mtime >= first.mtime
    assert case.store.get(digest) == photo


def test_deleting_a_photo_removes_it_and_deleting_again_is_harmless(case: StoreCase) -> None:
    """A deleted photo is gone from reads and listings; a second delete changes nothing."""
    keep, drop = case.store.put(b"keep me" * 1000), case.store.put(b"drop me" * 1000)
    case.store.delete(drop)
    case.store.delete(drop)
    assert not case.store.exists(drop) and case.store.exists(keep)
    with pytest.raises(PhotoStoreError, match="no photo"):
        case.store.get(drop)
    assert [f.digest for f in case.store.files()] == [keep]


def test_the_listing_names_every_photo_with_its_size(case: StoreCase) -> None:
    """``files`` lists each stored photo once with its size, for the sweep of old uploads."""
    photos = [os.urandom(n) for n in (10, 300_000, 600_000)]
    digests = {case.store.put(p): len(p) for p in photos}
    assert {f.digest: f.size for f in case.store.files()} == digests


def test_a_photo_corrupted_in_the_store_is_never_handed_out_whole(case: StoreCase) -> None:
    """One flipped byte: reading stops with ``corrupt`` before the last chunk, so a server
    streaming it cuts the response short instead of serving the altered photo as the signed one."""
    photo = os.urandom(600_000)
    digest = case.store.put(photo)
    corrupt(case, digest)
    received = bytearray()
    with pytest.raises(PhotoStoreError, match="corrupt"):
        for chunk in case.store.open(digest):
            received += chunk
    assert len(received) < len(photo)
