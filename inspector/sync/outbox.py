"""The station's outbox: what is waiting for the platform, in the order it must arrive.

A certificate's photos are queued before it, in the transaction that issues it; the pusher
sends the oldest waiting item first and marks it sent (with the platform's receipt) or refused
(with the platform's reason). Rows are never deleted: a refused item stays here, with its data.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import event, func
from sqlmodel import Session, col, select

from inspector.station.ports import Publication
from inspector.sync.tables import ItemKind, OutboxItem

_waiters: set[threading.Event] = set()
_waiters_lock = threading.Lock()


def _now() -> datetime:
    return datetime.now(UTC)


def aware(when: datetime | None) -> datetime | None:
    """SQLite hands datetimes back without their zone; every one stored here is UTC."""
    return when.replace(tzinfo=UTC) if when is not None and when.tzinfo is None else when


def add_waiter(ready: threading.Event) -> None:
    """``ready`` is set whenever a transaction that queued something commits in this process."""
    with _waiters_lock:
        _waiters.add(ready)


def remove_waiter(ready: threading.Event) -> None:
    with _waiters_lock:
        _waiters.discard(ready)


def _wake(_session: Session) -> None:
    with _waiters_lock:
        for ready in _waiters:
            ready.set()


def photo_digests(credential: dict[str, Any]) -> list[str]:
    """The photos a certificate signs (each photo and its overlay), each once, in order."""
    subject = credential.get("credentialSubject")
    photos = subject.get("photos") if isinstance(subject, dict) else None
    seen: dict[str, None] = {}
    for photo in photos if isinstance(photos, list) else []:
        for key in ("sha256", "overlay_sha256"):
            digest = photo.get(key) if isinstance(photo, dict) else None
            if isinstance(digest, str):
                seen.setdefault(digest)
    return list(seen)


def _queue(session: Session, station_id: str, kind: ItemKind, ref: str) -> None:
    found = session.exec(
        select(OutboxItem.seq).where(
            OutboxItem.station_id == station_id, OutboxItem.kind == kind.value, OutboxItem.ref == ref
        )
    ).first()
    if found is None:
        session.add(OutboxItem(station_id=station_id, kind=kind.value, ref=ref))


def enqueue_certificate(session: Session, station_id: str, credential: dict[str, Any]) -> None:
    """Queue a certificate and its photos (in the caller's transaction, which issued it)."""
    for digest in photo_digests(credential):
        _queue(session, station_id, ItemKind.PHOTO, digest)
    _queue(session, station_id, ItemKind.CERTIFICATE, str(credential["credentialSubject"]["human_id"]))
    session.flush()
    event.listen(session, "after_commit", _wake, once=True)


def _waiting(station_id: str) -> Any:
    return (
        OutboxItem.station_id == station_id,
        col(OutboxItem.sent_at).is_(None),
        col(OutboxItem.refused_at).is_(None),
    )


def next_batch(session: Session, station_id: str, photos: int) -> list[OutboxItem]:
    """The oldest waiting item and the photos right behind it (at most ``photos``), to send at once.

    A certificate is only ever first, so it goes after every photo queued before it (its own),
    while the next certificate's photos travel beside it; the next certificate waits for them.
    """
    items = session.exec(
        select(OutboxItem).where(*_waiting(station_id)).order_by(col(OutboxItem.seq)).limit(1 + photos)
    ).all()
    batch: list[OutboxItem] = []
    for item in items:
        if batch and item.kind != ItemKind.PHOTO.value:
            break
        batch.append(item)
    return batch


def mark_sent(session: Session, seq: int, receipt: str) -> None:
    item = session.get(OutboxItem, seq)
    assert item is not None
    item.sent_at, item.receipt, item.attempts = _now(), receipt, item.attempts + 1
    session.add(item)


def mark_refused(session: Session, seq: int, reason: str, kind: str = "") -> None:
    """Set an item aside for good, with the platform's reason and its kind (a ``wire.Refusal``)."""
    item = session.get(OutboxItem, seq)
    assert item is not None
    item.refused_at, item.refusal, item.attempts = _now(), reason[:2000], item.attempts + 1
    item.refusal_kind = kind[:32]
    session.add(item)


def count_attempt(session: Session, seq: int) -> None:
    item = session.get(OutboxItem, seq)
    if item is not None:
        item.attempts += 1
        session.add(item)


@dataclass(frozen=True)
class RefusedItem:
    """An item the platform refused for good: which, when, why (its kind and the platform's words)."""

    kind: str
    ref: str
    refused_at: datetime
    refusal_kind: str
    reason: str


@dataclass(frozen=True)
class Backlog:
    """What this station still has to send, and what the platform refused (kept here)."""

    waiting: dict[str, int] = field(default_factory=dict)
    refused: dict[str, int] = field(default_factory=dict)
    oldest_waiting_at: datetime | None = None
    last_refused_certificate: RefusedItem | None = None


def _refused_item(item: OutboxItem) -> RefusedItem:
    when = aware(item.refused_at)
    assert when is not None
    return RefusedItem(item.kind, item.ref, when, item.refusal_kind, item.refusal)


def refused_items(session: Session, station_id: str, limit: int = 100) -> list[RefusedItem]:
    """What the platform refused for good, newest first."""
    rows = session.exec(
        select(OutboxItem)
        .where(OutboxItem.station_id == station_id, col(OutboxItem.refused_at).is_not(None))
        .order_by(col(OutboxItem.refused_at).desc(), col(OutboxItem.seq).desc())
        .limit(limit)
    ).all()
    return [_refused_item(item) for item in rows]


def backlog(session: Session, station_id: str) -> Backlog:
    waiting = dict(
        session.exec(
            select(OutboxItem.kind, func.count()).where(*_waiting(station_id)).group_by(OutboxItem.kind)
        ).all()
    )
    refused = dict(
        session.exec(
            select(OutboxItem.kind, func.count())
            .where(OutboxItem.station_id == station_id, col(OutboxItem.refused_at).is_not(None))
            .group_by(OutboxItem.kind)
        ).all()
    )
    oldest = session.exec(select(func.min(OutboxItem.created_at)).where(*_waiting(station_id))).one()
    last = (
        session.exec(
            select(OutboxItem)
            .where(
                OutboxItem.station_id == station_id,
                OutboxItem.kind == ItemKind.CERTIFICATE.value,
                col(OutboxItem.refused_at).is_not(None),
            )
            .order_by(col(OutboxItem.refused_at).desc(), col(OutboxItem.seq).desc())
        ).first()
        if refused.get(ItemKind.CERTIFICATE.value)
        else None
    )
    every = [k.value for k in ItemKind]
    return Backlog(
        waiting={k: int(waiting.get(k, 0)) for k in every},
        refused={k: int(refused.get(k, 0)) for k in every},
        oldest_waiting_at=aware(oldest),
        last_refused_certificate=_refused_item(last) if last is not None else None,
    )


def _certificate_item(session: Session, station_id: str, human_id: str) -> OutboxItem | None:
    return session.exec(
        select(OutboxItem).where(
            OutboxItem.station_id == station_id,
            OutboxItem.kind == ItemKind.CERTIFICATE.value,
            OutboxItem.ref == human_id,
        )
    ).first()


def publication(session: Session, station_id: str, human_id: str) -> tuple[Publication, str] | None:
    """Where this certificate stands with the platform, and the platform's reason if it refused it.

    None: it was never queued (a stand-alone station's own certificate).
    """
    item = _certificate_item(session, station_id, human_id)
    if item is None:
        return None
    if item.sent_at is not None:
        return Publication.ON_PLATFORM, ""
    if item.refused_at is not None:
        return Publication.REFUSED, item.refusal
    return Publication.WAITING, ""


def on_platform(session: Session, station_id: str, human_id: str) -> bool | None:
    """Has the platform taken this certificate? None: it was never queued (a stand-alone one)."""
    item = _certificate_item(session, station_id, human_id)
    return None if item is None else item.sent_at is not None
