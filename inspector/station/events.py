"""Live event stream of the station: every step start/end, operator answer and verdict.

Events are published from pipeline worker threads and consumed by asyncio SSE handlers,
so the bus hands each subscriber its own ``asyncio.Queue`` fed through
``loop.call_soon_threadsafe``. A bounded ring of recent events lets a reconnecting
viewer catch up with ``Last-Event-ID`` instead of missing steps.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

RING_SIZE = 1000
QUEUE_SIZE = 1000
CLOSE = "_close"  # internal: tells a stream handler to finish


class EventBus:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seq = 0
        self._ring: deque[dict[str, Any]] = deque(maxlen=RING_SIZE)
        self._subs: list[tuple[asyncio.AbstractEventLoop, asyncio.Queue[dict[str, Any]]]] = []
        self._listeners: list[Callable[[dict[str, Any]], None]] = []

    @property
    def last_id(self) -> int:
        return self._seq

    def publish(self, type_: str, **data: Any) -> dict[str, Any]:
        with self._lock:
            self._seq += 1
            event = {"id": self._seq, "type": type_, "ts": time.time(), **data}
            self._ring.append(event)
            subs = list(self._subs)
            listeners = list(self._listeners)
        for loop, q in subs:
            with contextlib.suppress(RuntimeError):  # loop already closed: subscriber is gone
                loop.call_soon_threadsafe(_offer, q, event)
        for fn in listeners:
            fn(event)
        return event

    def close(self) -> None:
        """End every open stream (service shutdown), so web servers can stop without waiting."""
        with self._lock:
            subs, self._subs = list(self._subs), []
        for loop, q in subs:
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(_offer, q, {"type": CLOSE})

    def add_listener(self, fn: Callable[[dict[str, Any]], None]) -> None:
        """Synchronous listener (terminal progress, tests); called in the publishing thread."""
        with self._lock:
            self._listeners.append(fn)

    def remove_listener(self, fn: Callable[[dict[str, Any]], None]) -> None:
        with self._lock, contextlib.suppress(ValueError):
            self._listeners.remove(fn)

    def since(self, last_id: int) -> list[dict[str, Any]]:
        with self._lock:
            return [e for e in self._ring if e["id"] > last_id]

    def subscribe(self) -> asyncio.Queue[dict[str, Any]]:
        q: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=QUEUE_SIZE)
        with self._lock:
            self._subs.append((asyncio.get_running_loop(), q))
        return q

    def unsubscribe(self, q: asyncio.Queue[dict[str, Any]]) -> None:
        with self._lock:
            self._subs = [(lp, x) for lp, x in self._subs if x is not q]


def _offer(q: asyncio.Queue[dict[str, Any]], event: dict[str, Any]) -> None:
    if q.full():
        # A stalled viewer loses the oldest events, never blocks the station.
        with contextlib.suppress(asyncio.QueueEmpty):
            q.get_nowait()
    q.put_nowait(event)
