"""Claim photos: kept only for a claim that passed every check, swept when nothing names them.

A request's photos are decoded and re-encoded in memory first (``inspector.photoclean``);
nothing is written until the claim (or the re-inspection) they belong to has been checked
and inserted. Then the photos are written to the uploads store (``Shelf.UPLOADS`` of the
configured backend, served at ``/photos/{sha256}`` like station photos) and a ``ClaimUpload`` row per
photo is added in the claim's own transaction. If that transaction never commits (a race
lost, a crash, a full database), the files stay without a row; ``expire_unreferenced``
deletes uploaded files that no row names once they are older than ``UPLOAD_TTL``, together
with half-written files a crash left. Station photos live in another store and are never
touched.

The sweep runs when the web app starts and then every ``SWEEP_INTERVAL`` (see
``sweep_periodically``), and on demand with ``inspector warranty expire-uploads``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from inspector.i18n import N_
from inspector.photoclean import CleanPhoto
from inspector.photostore import PhotoStore
from warranty.errors import Unavailable
from warranty.tables import ClaimUpload

log = logging.getLogger(__name__)

UPLOAD_TTL = timedelta(hours=24)
SWEEP_INTERVAL = timedelta(hours=1)
_LOOKUP_CHUNK = 500


class UploadPurpose(StrEnum):
    """Why a photo was uploaded for a claim."""

    BUYER = "buyer"  # with the claim, by the buyer
    REINSPECTION = "reinspection"  # with a re-inspection, by staff


def distinct(photos: Iterable[CleanPhoto]) -> list[CleanPhoto]:
    """The photos without repeats (the same file chosen twice), in order."""
    seen: dict[str, CleanPhoto] = {}
    for p in photos:
        seen.setdefault(p.sha256, p)
    return list(seen.values())


def keep_photos(
    session: Session,
    store: PhotoStore,
    claim_id: int,
    photos: Sequence[CleanPhoto],
    purpose: UploadPurpose,
    now: datetime | None = None,
) -> list[str]:
    """Write ``photos`` and record that claim ``claim_id`` uses them; the caller commits.

    Call only once the claim has passed every check. Raises ``Unavailable`` when the store
    cannot be written (full disk, no permission); the caller then rolls back.
    """
    now = now or datetime.now(UTC)
    digests: list[str] = []
    for photo in distinct(photos):
        try:
            store.put(photo.data)
        except OSError as exc:
            log.error("cannot write an uploaded photo: %s", exc)
            raise Unavailable(N_("the photos cannot be saved right now; try again in a few minutes")) from exc
        session.add(
            ClaimUpload(
                claim_id=claim_id,
                sha256=photo.sha256,
                purpose=purpose.value,
                size_bytes=len(photo.data),
                created_at=now,
            )
        )
        digests.append(photo.sha256)
    return digests


@dataclass(frozen=True)
class SweepReport:
    """What one sweep of the uploads store did."""

    deleted: int
    freed_bytes: int
    kept: int


def _referenced(engine: Engine, digests: Sequence[str]) -> set[str]:
    found: set[str] = set()
    with Session(engine) as session:
        for i in range(0, len(digests), _LOOKUP_CHUNK):
            chunk = digests[i : i + _LOOKUP_CHUNK]
            rows = session.exec(select(ClaimUpload.sha256).where(col(ClaimUpload.sha256).in_(chunk)))
            found.update(rows)
    return found


def expire_unreferenced(
    engine: Engine, store: PhotoStore, *, now: datetime | None = None, ttl: timedelta = UPLOAD_TTL
) -> SweepReport:
    """Delete uploaded files older than ``ttl`` that no claim names, and stale half-written files.

    An entry is judged by when it was last stored, which ``PhotoStore.put`` renews when the same
    photo is stored again, so a re-upload in flight is never old.
    """
    cutoff = (now or datetime.now(UTC)).timestamp() - ttl.total_seconds()
    old = [f for f in store.files() if f.mtime < cutoff]
    referenced = _referenced(engine, [f.digest for f in old if f.digest])
    deleted = freed = 0
    for f in old:
        if f.digest in referenced:
            continue
        store.discard(f)
        deleted += 1
        freed += f.size
    if deleted:
        log.info("expired %d unreferenced uploads (%d bytes)", deleted, freed)
    return SweepReport(deleted=deleted, freed_bytes=freed, kept=len(referenced))


async def sweep_periodically(engine: Engine, store: PhotoStore, interval: timedelta = SWEEP_INTERVAL) -> None:
    """Sweep now and then every ``interval`` until cancelled (run by the web app's lifespan)."""
    while True:
        started = time.monotonic()
        try:
            await asyncio.to_thread(expire_unreferenced, engine, store)
        except Exception:  # a database or disk fault must not end the sweeps: log it and retry later
            log.exception("sweeping expired uploads failed; retrying in %s", interval)
        await asyncio.sleep(max(1.0, interval.total_seconds() - (time.monotonic() - started)))
