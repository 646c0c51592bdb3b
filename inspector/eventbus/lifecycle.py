"""Start and stop a worker's event bus: its feed (chosen by database), pruning, recording."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from sqlalchemy.engine import Engine

from inspector.db import TRANSIENT_DATABASE_ERRORS
from inspector.eventbus.bus import PRUNE_EVERY_S, FeedState, PlatformEventBus
from inspector.eventbus.feeds import InProcessFeed, PostgresFeed
from inspector.eventbus.publish import record_events, stop_recording

log = logging.getLogger("inspector.eventbus")


class PlatformEvents:
    """The bus of one worker process: PostgreSQL LISTEN/NOTIFY, or in-process on SQLite."""

    def __init__(self, engine: Engine, feed: PostgresFeed | None = None) -> None:
        self.bus = PlatformEventBus(engine)
        self.feed: PostgresFeed | InProcessFeed
        if engine.dialect.name == "postgresql":
            self.feed = feed or PostgresFeed(self.bus, engine.url.render_as_string(hide_password=False))
            record_events(engine)
        else:
            self.feed = InProcessFeed(self.bus)
            record_events(engine, self.feed.wake)
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        """Deliver from the newest stored event on (older ones are for ``Last-Event-ID``)."""
        self.bus.last_id = await asyncio.to_thread(self.bus.newest_id)
        self._tasks = [
            asyncio.create_task(self.feed.run(), name="event-feed"),
            asyncio.create_task(self._prune_periodically(), name="event-prune"),
        ]
        for task in self._tasks:
            task.add_done_callback(self._ended)

    def _ended(self, task: asyncio.Task[None]) -> None:
        """A feed or pruner that stops by itself is a bug: say so, and stop taking viewers."""
        if task.cancelled():
            return
        self.bus.state = FeedState.DOWN
        log.error("%s stopped: %r; this worker hears no more events", task.get_name(), task.exception())

    async def stop(self) -> None:
        stop_recording(self.bus.engine)
        self.bus.close()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []

    async def _prune_periodically(self) -> None:
        while True:
            try:
                pruned = await asyncio.to_thread(self.bus.prune)
                if pruned:
                    log.info("pruned %d old events", pruned)
            except TRANSIENT_DATABASE_ERRORS as exc:
                log.warning("could not prune old events (%s); trying again later", exc)
            await asyncio.sleep(PRUNE_EVERY_S)
