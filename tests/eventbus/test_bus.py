"""The platform's event bus inside one process: on SQLite (in-process backend) and on PostgreSQL
(LISTEN/NOTIFY heard by the same process), publishing in a transaction, catch-up, hooks, limits."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from inspector.eventbus import (
    Event,
    EventTooLarge,
    EventType,
    PlatformEvents,
    on_certificate_status_changed,
    publish_in,
)
from inspector.eventbus.bus import RETENTION
from inspector.eventbus.tables import PlatformEvent

GUARD_S = 30.0  # a failure guard, not a measurement: the event arrives long before


def _publish(engine: Engine, event_type: EventType, *, commit: bool = True, **data: Any) -> Event | None:
    with Session(engine) as session:
        event = publish_in(session, event_type, **data)
        if commit:
            session.commit()
        else:
            session.rollback()
    return event


async def _in_thread(engine: Engine, event_type: EventType, **kwargs: Any) -> Event | None:
    """Publish from a worker thread, as a request handler does."""
    return await asyncio.to_thread(_publish, engine, event_type, **kwargs)


def _run(engine: Engine, scenario: Callable[[PlatformEvents], Awaitable[None]]) -> None:
    async def main() -> None:
        events = PlatformEvents(engine)
        await events.start()
        try:
            await scenario(events)
        finally:
            await events.stop()

    asyncio.run(main())


def test_a_committed_event_reaches_subscribers_and_a_rolled_back_one_never_does(engine: Engine) -> None:
    """A subscriber sees what committed, in order, and nothing of a transaction that rolled back."""

    async def scenario(events: PlatformEvents) -> None:
        queue = events.bus.subscribe()
        await _in_thread(engine, EventType.CLAIM_OPENED, commit=False, ref="W-ROLLED")
        first = await _in_thread(engine, EventType.CLAIM_OPENED, ref="W-1", state="submitted")
        second = await _in_thread(engine, EventType.CLAIM_CHANGED, ref="W-1", state="accepted")
        got = [await asyncio.wait_for(queue.get(), GUARD_S) for _ in range(2)]
        assert [(e.id, e.type, e.data["ref"]) for e in got if e] == [
            (first.id, EventType.CLAIM_OPENED, "W-1"),  # type: ignore[union-attr]
            (second.id, EventType.CLAIM_CHANGED, "W-1"),  # type: ignore[union-attr]
        ]
        assert queue.empty()

    _run(engine, scenario)


def test_a_viewer_catches_up_after_the_last_id_it_saw(engine: Engine) -> None:
    """``since(id)`` answers exactly the events after that id, oldest first (Last-Event-ID)."""

    async def scenario(events: PlatformEvents) -> None:
        ids = [
            (await _in_thread(engine, EventType.STATION_ENROLLED, station_id=f"st-{i}")).id  # type: ignore[union-attr]
            for i in range(4)
        ]
        missed = await asyncio.to_thread(events.bus.since, ids[1])
        assert [e.id for e in missed] == ids[2:]
        assert [e.data["station_id"] for e in missed] == ["st-2", "st-3"]

    _run(engine, scenario)


def test_an_event_too_large_for_notify_still_arrives_whole(engine: Engine) -> None:
    """Data over PostgreSQL's 8000-byte NOTIFY limit travels by id and is read from the table."""
    big = "x" * 20_000

    async def scenario(events: PlatformEvents) -> None:
        queue = events.bus.subscribe()
        await _in_thread(engine, EventType.CLAIM_CHANGED, ref="W-BIG", note=big)
        got = await asyncio.wait_for(queue.get(), GUARD_S)
        assert got is not None and got.data["note"] == big

    _run(engine, scenario)


def test_an_event_larger_than_the_limit_is_refused_and_not_stored(engine: Engine) -> None:
    """A publisher sending documents instead of ids hears so, and its transaction can go on."""

    async def scenario(events: PlatformEvents) -> None:
        with pytest.raises(EventTooLarge, match="at most"):
            await _in_thread(engine, EventType.CLAIM_CHANGED, ref="W-HUGE", note="x" * 100_000)

    _run(engine, scenario)
    with Session(engine) as session:
        assert session.exec(select(PlatformEvent)).all() == []


def test_a_station_database_records_no_events(engine: Engine) -> None:
    """Without a platform bus on the engine, publishing stores nothing (a station's database)."""
    assert _publish(engine, EventType.CLAIM_OPENED, ref="W-STATION") is None
    with Session(engine) as session:
        assert session.exec(select(PlatformEvent)).all() == []


def test_the_status_hook_runs_after_commit_only(engine: Engine) -> None:
    """A verify cache hears a status change once it committed, in the publishing process even
    without a bus (a station), and again from the bus as every other worker hears it; never a
    change that rolled back, and no more once the hook is removed."""
    changed = EventType.CERTIFICATE_STATUS_CHANGED
    heard: list[str] = []
    remove = on_certificate_status_changed(heard.append)
    try:
        _publish(engine, changed, commit=False, human_id="ROLLED", status="revoked")
        assert heard == []
        _publish(engine, changed, human_id="K7M2", status="revoked")
        assert heard == ["K7M2"]

        async def scenario(events: PlatformEvents) -> None:
            queue = events.bus.subscribe()
            await _in_thread(engine, changed, human_id="P3Q4", status="suspended")
            await asyncio.wait_for(queue.get(), GUARD_S)
            assert heard == ["K7M2", "P3Q4", "P3Q4"]

        _run(engine, scenario)
    finally:
        remove()
    _publish(engine, changed, human_id="AFTER", status="revoked")
    assert "AFTER" not in heard


def test_old_events_are_pruned(engine: Engine) -> None:
    """Events older than the retention are deleted; newer ones stay for catch-up."""

    async def scenario(events: PlatformEvents) -> None:
        old = await _in_thread(engine, EventType.STATION_ENROLLED, station_id="old")
        new = await _in_thread(engine, EventType.STATION_ENROLLED, station_id="new")
        with Session(engine) as session:
            row = session.get(PlatformEvent, old.id)  # type: ignore[union-attr]
            assert row is not None
            row.created_at = datetime.now(UTC) - RETENTION - timedelta(minutes=1)
            session.add(row)
            session.commit()
        # the bus's own pruner may get there first (it runs at start and every few minutes)
        assert await asyncio.to_thread(events.bus.prune) in (0, 1)
        assert [e.id for e in await asyncio.to_thread(events.bus.since, 0)] == [new.id]  # type: ignore[union-attr]

    _run(engine, scenario)


def test_closing_the_bus_ends_every_stream(sqlite_engine: Engine) -> None:
    """On shutdown each subscriber gets the end marker, so its SSE response finishes."""

    async def main() -> None:
        events = PlatformEvents(sqlite_engine)
        await events.start()
        queues = [events.bus.subscribe() for _ in range(3)]
        await events.stop()
        assert [await asyncio.wait_for(q.get(), GUARD_S) for q in queues] == [None, None, None]

    asyncio.run(main())


def test_an_event_of_a_type_this_version_does_not_know_is_skipped(engine: Engine) -> None:
    """During a rolling upgrade a newer worker may publish a new kind of event; older workers
    skip it and go on delivering the ones they know."""

    async def scenario(events: PlatformEvents) -> None:
        queue = events.bus.subscribe()
        with Session(engine) as session:
            session.add(PlatformEvent(type="future.kind", data="{}"))
            session.commit()
        known = await _in_thread(engine, EventType.CLAIM_OPENED, ref="W-KNOWN")
        got = await asyncio.wait_for(queue.get(), GUARD_S)
        assert got is not None and got.id == known.id  # type: ignore[union-attr]
        assert [e.data.get("ref") for e in await asyncio.to_thread(events.bus.since, 0)] == ["W-KNOWN"]

    _run(engine, scenario)
