"""The PostgreSQL listener when the database cannot be reached: capped backoff, and a limit of
consecutive failures that is said once, as an error, while it keeps trying."""

from __future__ import annotations

import asyncio
import logging
import socket

import pytest
from sqlalchemy.engine import Engine

from inspector.eventbus import FeedState, PlatformEventBus
from inspector.eventbus.feeds import PostgresFeed


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # nothing listens there once the socket is closed


def test_a_listener_that_cannot_connect_says_so_once_and_keeps_trying(
    sqlite_engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    """Each refused connection is a warning with the wait before the next try (doubling, capped);
    the third in a row turns the bus down with one error naming the cap; later ones log nothing more."""
    bus = PlatformEventBus(sqlite_engine)
    url = f"postgresql+psycopg://postgres@127.0.0.1:{_closed_port()}/none"
    feed = PostgresFeed(bus, url, backoff_s=0.1, backoff_cap_s=0.2, max_failures=3, connect_timeout_s=2)

    async def main() -> None:
        task = asyncio.create_task(feed.run())
        while feed.failures < 6:
            await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    with caplog.at_level(logging.WARNING, logger="inspector.eventbus"):
        asyncio.run(main())
    assert bus.state is FeedState.DOWN
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert [w.rsplit("retrying in ", 1)[1] for w in warnings] == ["0.1 s", "0.2 s"]
    assert len(errors) == 1 and "failed 3 times in a row" in errors[0]
