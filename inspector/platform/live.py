"""The platform's live event stream for staff: what changed in any worker, as server-sent events.

Each worker process has its own ``PlatformEvents`` (``app.state.platform_events``); a viewer may
land on any of them and, reconnecting with ``Last-Event-ID``, on another, and still misses
nothing newer than the retention. The ``X-Inspector-Worker`` header names the process that
serves the stream (staff only), so multi-worker set-ups can be checked from outside.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import StreamingResponse
from sqlmodel import Session, select

from inspector.auth import Role, User, require_roles
from inspector.auth.tenancy import Scope, scope_of
from inspector.eventbus import Event, EventType, FeedState, PlatformEvents
from inspector.eventbus.bus import CATCH_UP_LIMIT
from inspector.platform.tables import EnrolledStation
from inspector.web.deps import SessionDep
from inspector.web.responses import body_of, refusals

HEARTBEAT_S = 15.0
WORKER_HEADER = "X-Inspector-Worker"

router = APIRouter(tags=["platform"], responses=refusals(401, 403, 503))
staff_only = require_roles(Role.staff, Role.supervisor, Role.admin)


def _last_event_id(request: Request, after: int | None) -> int | None:
    """A reconnecting browser's ``Last-Event-ID``, else ``after`` (the id a page was rendered at)."""
    last = request.headers.get("last-event-id", "")
    return int(last) if last.isascii() and last.isdigit() and len(last) < 19 else after


class SellerFilter:
    """Which events a viewer may see: those of the stations in their scope (``tenancy``).

    Every event names its station; the station-to-seller map is read once per stream and again
    when a station is enrolled (a station may move to another seller then). An event that names
    no station is for the platform admin only.
    """

    def __init__(self, scope: Scope, engine: Any) -> None:
        self.scope = scope
        self.engine = engine
        self.sellers: dict[str, str | None] = {}

    def load(self) -> None:
        if self.scope.everything:
            return
        with Session(self.engine) as session:
            rows = session.exec(select(EnrolledStation.station_id, EnrolledStation.seller_id)).all()
        self.sellers = dict(rows)

    def shows(self, event: Event) -> bool:
        if self.scope.everything:
            return True
        station = event.data.get("station_id")
        return isinstance(station, str) and self.sellers.get(station) == self.scope.seller_id


def _sse(event: Event) -> str:
    body = {"id": event.id, "type": event.type.value, "data": event.data, "at": event.at}
    return f"id: {event.id}\nevent: {event.type.value}\ndata: {json.dumps(body)}\n\n"


@router.get(
    "/api/platform/events",
    summary="Live events for staff: certificates, stations, claims (server-sent events)",
    responses=body_of("text/event-stream"),
)
async def platform_events(
    request: Request,
    session: SessionDep,
    after: int | None = Query(None, ge=0, le=2**62, description="resume after this event id"),
    user: User = Depends(staff_only),
) -> StreamingResponse:
    """Every certificate received or changed, station enrolled or revoked, claim opened or moved.

    Reconnect with ``Last-Event-ID``, or open with ``?after=ID`` (the newest id when a page was
    read, or a ``hello``'s ``last_event_id``), to receive what came after it; ``event: reset`` means
    too much was missed (reload the view). Comments (``: ping``) keep proxies from closing it.
    """
    seen = SellerFilter(scope_of(user), session.get_bind())
    session.close()  # the sign-in check's database connection goes back now, not when the stream ends
    events: PlatformEvents = request.app.state.platform_events
    bus = events.bus
    if bus.state is FeedState.DOWN:
        raise HTTPException(503, "the event stream is not available now; try again shortly")
    queue = bus.subscribe()
    last = _last_event_id(request, after)
    try:
        await asyncio.to_thread(seen.load)
        backlog = await asyncio.to_thread(bus.since, last) if last is not None else []
    except BaseException:
        bus.unsubscribe(queue)
        raise
    reset = len(backlog) >= CATCH_UP_LIMIT

    async def stream() -> AsyncIterator[str]:
        sent = last or 0
        try:
            yield f"retry: 2000\nevent: hello\ndata: {json.dumps({'last_event_id': bus.last_id})}\n\n"
            if reset:
                yield "event: reset\ndata: {}\n\n"
            else:
                for event in backlog:
                    sent = event.id
                    if seen.shows(event):
                        yield _sse(event)
            while True:
                try:
                    live: Event | None = await asyncio.wait_for(queue.get(), timeout=HEARTBEAT_S)
                except TimeoutError:
                    if await request.is_disconnected():
                        return
                    yield ": ping\n\n"
                    continue
                if live is None:  # the worker is shutting down: the browser reconnects elsewhere
                    return
                if live.id > sent:
                    sent = live.id
                    if live.type is EventType.STATION_ENROLLED:
                        await asyncio.to_thread(seen.load)
                    if seen.shows(live):
                        yield _sse(live)
        finally:
            bus.unsubscribe(queue)

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no", WORKER_HEADER: str(os.getpid())},
    )


@contextmanager
def streams_closed_on_signal(events: PlatformEvents) -> Iterator[None]:
    """On SIGTERM/SIGINT end the open streams at once, then let the server's own handler run:
    the server waits for open responses before it stops, and a stream never ends by itself."""
    if threading.current_thread() is not threading.main_thread():
        yield  # an app run in a test client's thread: nothing to chain
        return
    previous: dict[signal.Signals, Any] = {}

    def chained(old: Callable[[int, FrameType | None], Any]) -> Callable[[int, FrameType | None], None]:
        def handler(signum: int, frame: FrameType | None) -> None:
            events.bus.close()
            old(signum, frame)

        return handler

    for sig in (signal.SIGTERM, signal.SIGINT):
        old = signal.getsignal(sig)
        if callable(old):
            previous[sig] = old
            signal.signal(sig, chained(old))
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
