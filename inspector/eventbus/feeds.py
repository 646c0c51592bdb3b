"""How a worker hears what was published: PostgreSQL LISTEN, or a wake-up inside one process.

``PostgresFeed`` keeps one listening connection per worker process. When it is lost (server
restart, ``pg_terminate_backend``, network) it reconnects with a capped exponential backoff, and
after ``max_failures`` consecutive failures says so once as an error (``FeedState.DOWN``) while it
keeps trying at the cap. Each (re)connection listens first and then reads back from the table
what was committed meanwhile, so an outage delays events but loses none.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import psycopg
from sqlalchemy.engine import make_url

from inspector.db import TRANSIENT_DATABASE_ERRORS
from inspector.eventbus.bus import FeedState, PlatformEventBus
from inspector.eventbus.kinds import Event
from inspector.eventbus.publish import NOTIFY_CHANNEL

log = logging.getLogger("inspector.eventbus")

# Lost connection, server restart, a hang: worth reconnecting (any psycopg error on the listener).
RECONNECT_ON: tuple[type[Exception], ...] = (psycopg.Error, *TRANSIENT_DATABASE_ERRORS)
LISTENER_NAME = "inspector-events"
"""``application_name`` of the listening connections (to find them in ``pg_stat_activity``)."""


class InProcessFeed:
    """SQLite or a single process: a commit that recorded an event wakes the bus, which reads the table."""

    def __init__(self, bus: PlatformEventBus) -> None:
        self.bus = bus
        self._wake = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None

    def wake(self) -> None:
        """Called after a commit, from any thread."""
        loop = self._loop
        if loop is not None:
            with contextlib.suppress(RuntimeError):  # the loop closed: nobody is listening
                loop.call_soon_threadsafe(self._wake.set)

    async def run(self) -> None:
        self._loop = asyncio.get_running_loop()
        self.bus.state = FeedState.LISTENING
        # A commit before this task first ran found no loop to wake: read what it recorded now,
        # as the PostgreSQL feed does after each (re)connect.
        self._wake.set()
        try:
            while True:
                await self._wake.wait()
                self._wake.clear()
                await self.bus.catch_up()
        finally:
            self._loop = None


class PostgresFeed:
    """LISTEN on the event channel; reconnect with capped backoff; catch up after each reconnect."""

    def __init__(
        self,
        bus: PlatformEventBus,
        database_url: str,
        *,
        backoff_s: float = 0.5,
        backoff_cap_s: float = 30.0,
        max_failures: int = 8,
        idle_check_s: float = 30.0,
        connect_timeout_s: int = 5,
    ) -> None:
        self.bus = bus
        self.conninfo = (
            make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
        )
        self.backoff_s, self.backoff_cap_s, self.max_failures = backoff_s, backoff_cap_s, max_failures
        self.idle_check_s, self.connect_timeout_s = idle_check_s, connect_timeout_s
        self.failures = 0

    async def run(self) -> None:
        while True:
            try:
                await self._listen()
            except RECONNECT_ON as exc:
                await self._failed(exc)

    async def _listen(self) -> None:
        conn = await psycopg.AsyncConnection.connect(
            self.conninfo,
            autocommit=True,
            application_name=LISTENER_NAME,
            connect_timeout=self.connect_timeout_s,
            keepalives=1,
            keepalives_idle=10,
            keepalives_interval=5,
            keepalives_count=3,
        )
        async with conn:
            await conn.execute(f"LISTEN {NOTIFY_CHANNEL}")
            await self.bus.catch_up()  # committed while nobody here listened
            if self.bus.state is not FeedState.LISTENING:
                log.info("event listener is listening (after %d failed attempts)", self.failures)
            self.failures = 0
            self.bus.state = FeedState.LISTENING
            while True:
                async for notify in conn.notifies(timeout=self.idle_check_s):
                    await self._take(notify.payload)
                await conn.execute("SELECT 1")  # a quiet connection may be a dead one

    async def _take(self, payload: str) -> None:
        try:
            event = Event.from_json(payload) if payload.startswith("{") else None
        except (ValueError, KeyError, TypeError):  # a newer worker's event type, or not ours
            event = None
        if event is None or event.id > self.bus.last_id + 1:
            # carried by id (too large to notify), unreadable here, or after a gap (usually a
            # rolled-back id): read from the table, in order
            await self.bus.catch_up()
        if event is not None:
            self.bus.deliver(event)

    async def _failed(self, exc: BaseException) -> None:
        self.failures += 1
        delay = min(self.backoff_cap_s, self.backoff_s * 2 ** (self.failures - 1))
        if self.failures == self.max_failures:
            self.bus.state = FeedState.DOWN
            log.error(
                "event listener failed %d times in a row (%s); other workers' events are not heard "
                "until it reconnects; retrying every %.0f s",
                self.failures,
                exc,
                self.backoff_cap_s,
            )
        elif self.failures < self.max_failures:
            self.bus.state = FeedState.FAILING
            log.warning("event listener lost its connection (%s); retrying in %.1f s", exc, delay)
        await asyncio.sleep(delay)
