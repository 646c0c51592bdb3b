"""One worker's view of the platform's events: catch-up from the table, fan-out to its subscribers.

A feed (``feeds.py``) tells the bus what was published, by any process; the bus hands every event
once, in id order, to each subscriber's queue (SSE streams) and to synchronous listeners. The
table is the source of truth: a reconnecting viewer or a listener that lost its connection reads
what it missed from it, so nothing depends on a notification being heard.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from sqlalchemy import delete, func
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from inspector.eventbus.kinds import Event, EventType
from inspector.eventbus.publish import certificate_status_changed
from inspector.eventbus.tables import PlatformEvent

log = logging.getLogger("inspector.eventbus")

QUEUE_SIZE = 1000
CATCH_UP_LIMIT = 10_000
RETENTION = timedelta(hours=24)
"""Events older than this are pruned; a viewer away longer reloads instead of catching up."""
PRUNE_EVERY_S = 600.0


class FeedState(StrEnum):
    """Whether this worker hears what other workers publish."""

    CONNECTING = "connecting"
    """Starting up; nothing heard yet."""
    LISTENING = "listening"
    """Hearing every commit."""
    FAILING = "failing"
    """Lost its connection, retrying with backoff; missed events are read back on reconnect."""
    DOWN = "down"
    """Failed too many times in a row (logged as an error); still retrying at the longest backoff."""


class PlatformEventBus:
    """Subscribers and listeners of one process; events arrive through ``deliver`` on its loop."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.state = FeedState.CONNECTING
        self.last_id = 0
        self._subs: set[asyncio.Queue[Event | None]] = set()
        self._listeners: list[tuple[EventType, Callable[[Event], None]]] = []

    def subscribe(self) -> asyncio.Queue[Event | None]:
        """A queue of every event delivered from now on; ``None`` means the bus closed."""
        q: asyncio.Queue[Event | None] = asyncio.Queue(maxsize=QUEUE_SIZE)
        self._subs.add(q)
        return q

    def unsubscribe(self, q: asyncio.Queue[Event | None]) -> None:
        self._subs.discard(q)

    def add_listener(self, event_type: EventType, fn: Callable[[Event], None]) -> None:
        """``fn(event)`` for each event of ``event_type``, on the bus's event loop (keep it quick)."""
        self._listeners.append((event_type, fn))

    def deliver(self, event: Event) -> None:
        """Hand ``event`` on unless it was already delivered (ids only grow)."""
        if event.id <= self.last_id:
            return
        self.last_id = event.id
        for q in list(self._subs):
            if q.full():  # a stalled viewer loses its oldest events, never blocks the others
                with contextlib.suppress(asyncio.QueueEmpty):
                    q.get_nowait()
            q.put_nowait(event)
        for event_type, fn in list(self._listeners):
            if event_type is event.type:
                try:
                    fn(event)
                except Exception:  # one listener's bug must not stop delivery to the rest
                    log.exception("event listener %r failed on event %s", fn, event.id)
        if event.type is EventType.CERTIFICATE_STATUS_CHANGED:
            certificate_status_changed(str(event.data.get("human_id", "")))

    def close(self) -> None:
        """End every subscriber's stream (shutdown), so servers stop without waiting for them."""
        for q in list(self._subs):
            with contextlib.suppress(asyncio.QueueEmpty):
                while q.full():
                    q.get_nowait()
            q.put_nowait(None)
        self._subs.clear()

    def since(self, after: int, limit: int = CATCH_UP_LIMIT) -> list[Event]:
        """Events with an id above ``after``, oldest first, at most ``limit`` (blocking: a thread)."""
        with Session(self.engine) as session:
            rows = session.exec(
                select(PlatformEvent)
                .where(col(PlatformEvent.id) > after)
                .order_by(col(PlatformEvent.id))
                .limit(limit)
            ).all()
        return [event for event in map(_event, rows) if event is not None]

    def newest_id(self) -> int:
        """The id of the newest stored event, 0 when there is none (blocking)."""
        with Session(self.engine) as session:
            newest = session.exec(select(func.max(PlatformEvent.id))).one()
        return int(newest or 0)

    async def catch_up(self) -> None:
        """Deliver whatever was stored after the last delivered event."""
        for event in await asyncio.to_thread(self.since, self.last_id):
            self.deliver(event)

    def prune(self, now: datetime | None = None) -> int:
        """Delete events older than ``RETENTION``; returns how many (blocking)."""
        cutoff = (now or datetime.now(UTC)) - RETENTION
        with Session(self.engine) as session:
            done = session.execute(delete(PlatformEvent).where(col(PlatformEvent.created_at) < cutoff))
            session.commit()
        return int(done.rowcount)  # type: ignore[attr-defined]


def _event(row: PlatformEvent) -> Event | None:
    """The stored event, or None for a type this version does not know (a newer worker's)."""
    assert row.id is not None
    if row.type not in EventType.__members__.values():
        log.warning("skipping event %s of unknown type %r", row.id, row.type)
        return None
    created = row.created_at if row.created_at.tzinfo else row.created_at.replace(tzinfo=UTC)
    return Event(id=row.id, type=EventType(row.type), data=json.loads(row.data), at=created.timestamp())
