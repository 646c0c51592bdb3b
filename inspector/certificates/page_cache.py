"""Verified and rendered verify pages, kept per process so a busy certificate costs one verification.

A certificate never changes once issued; what can change is rare: its status (revoked, suspended,
reinstated), its station's key (revoked, replaced), its warranty (a sale recorded, a claim opened
or decided) and the transparency log's size. So ``/c/{id}`` and ``/c/{id}/verify.json`` are
verified and rendered once and the bytes kept in a bounded LRU of this process, one entry per
certificate and variant (the JSON, or the page in one language).

Freshness, from the strongest guarantee to the weakest:

* the code paths that change what a page says call ``drop_on_commit`` (or ``invalidate_*``):
  the entry leaves every cache of this process once that change is committed, so the next
  request in this process shows it;
* an entry not checked for ``max_age_s`` is checked again, so the other worker processes (which
  did not see the change) converge within seconds, before any cross-process signal exists. The
  check reads the entry's ``stamp`` (what can change: status, key status, sale; two queries)
  and verifies and renders again only when it differs, or when the entry is
  ``FULL_REFILL_CHECKS`` max ages old (the log's size and the warranty's days left move on with
  time).
  While that one check runs, readers still get the entry they had (at most twice ``max_age_s``
  since its last check), so no reader waits for a page already kept;
* a fill that began before an invalidation is not stored (a generation counter), so a request
  racing a revocation cannot put the old state back.

``invalidate_certificate`` and ``invalidate_all`` are what an event bus between processes calls.
Only anonymous, reader-independent content goes in: the routes bypass the cache for a signed-in
reader (the page carries that reader's CSRF token) and never cache a 404.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, replace
from typing import Any, Generic, TypeVar

from sqlalchemy import event
from sqlalchemy.orm import Session as OrmSession

log = logging.getLogger(__name__)

_PENDING = "verify_cache_pending"  # Session.info key: ids to drop once the transaction commits
ALL = "*"  # a pending "drop everything" (a key revoked or replaced)


FULL_REFILL_CHECKS = 12  # an entry this many max ages old is made again even if its stamp holds


@dataclass(frozen=True)
class CachedBody:
    """A rendered response: its bytes, media type and strong ETag; when it was made and last
    found current (``time.monotonic``), and the stamp of the state it shows."""

    body: bytes
    media_type: str
    etag: str
    made_at: float
    checked_at: float
    stamp: Hashable = None


def strong_etag(body: bytes) -> str:
    """A strong validator: the same bytes, the same tag, in every worker process."""
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def cached_body(
    body: bytes, media_type: str, stamp: Hashable = None, made_at: float | None = None
) -> CachedBody:
    """``made_at`` on ``time.monotonic``'s clock (default: now)."""
    at = time.monotonic() if made_at is None else made_at
    return CachedBody(body, media_type, strong_etag(body), made_at=at, checked_at=at, stamp=stamp)


class VerifyCache:
    """A bounded LRU of rendered verify responses, keyed ``(human id, variant)``, with a max age.

    Thread-safe: hits are read on the event loop, fills and invalidations come from worker threads.
    ``max_entries`` 0 turns it off (every request verifies and renders).
    """

    def __init__(self, max_entries: int, max_age_s: float) -> None:
        if max_entries < 0 or max_age_s < 0:
            raise ValueError("verify cache size and max age must not be negative")
        self.max_entries = max_entries
        self.max_age_s = max_age_s
        self._entries: OrderedDict[tuple[str, str], CachedBody] = OrderedDict()
        self._lock = threading.Lock()
        self._generation = 0
        _caches.add(self)

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def generation(self) -> int:
        """Taken before a fill starts; ``put`` refuses the fill if anything was invalidated since."""
        return self._generation

    def get(self, human_id: str, variant: str) -> CachedBody | None:
        """The entry if it is younger than the max age."""
        found, fresh = self.lookup(human_id, variant)
        return found if fresh else None

    def lookup(self, human_id: str, variant: str) -> tuple[CachedBody | None, bool]:
        """The entry and whether it is younger than the max age; one older than twice the max
        age is gone (None), one in between may be served only while it is made again."""
        key = (human_id, variant)
        with self._lock:
            found = self._entries.get(key)
            if found is None:
                return None, False
            age = time.monotonic() - found.checked_at
            if age > 2 * self.max_age_s:
                del self._entries[key]
                return None, False
            self._entries.move_to_end(key)
            return found, age <= self.max_age_s

    def put(self, human_id: str, variant: str, value: CachedBody, generation: int) -> None:
        if self.max_entries == 0:
            return
        with self._lock:
            if generation != self._generation:
                return  # verified before a change this process committed since: may be stale
            self._entries[(human_id, variant)] = value
            self._entries.move_to_end((human_id, variant))
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def needs_refill(self, entry: CachedBody) -> bool:
        """Is ``entry`` old enough to be made again whatever its stamp says?"""
        return time.monotonic() - entry.made_at > FULL_REFILL_CHECKS * self.max_age_s

    def confirm(self, human_id: str, variant: str, entry: CachedBody, generation: int) -> CachedBody:
        """``entry`` was found current: it counts as checked now (unless something changed since)."""
        renewed = replace(entry, checked_at=time.monotonic())
        with self._lock:
            key = (human_id, variant)
            if generation == self._generation and self._entries.get(key) is entry:
                self._entries[key] = renewed
        return renewed

    def drop(self, human_id: str) -> None:
        with self._lock:
            self._generation += 1
            for key in [k for k in self._entries if k[0] == human_id]:
                del self._entries[key]

    def clear(self) -> None:
        with self._lock:
            self._generation += 1
            self._entries.clear()


T = TypeVar("T")
# Refreshes at once per process: entries made together expire together, and each one takes a
# database connection and a worker thread.
MAX_BACKGROUND_REFRESHES = 4


class SingleFlight(Generic[T]):
    """Requests for an entry being filled wait for that one fill instead of each starting theirs.

    Event loop only. Without it, 64 connections asking for a certificate whose entry just expired
    would verify it up to 64 times at once, each holding the interpreter for milliseconds.
    """

    def __init__(self) -> None:
        self._running: dict[tuple[str, str], asyncio.Future[T | None]] = {}
        self._background: set[asyncio.Task[T]] = set()

    def refresh(self, key: tuple[str, str], fill: Callable[[], Awaitable[T]]) -> None:
        """Start ``fill`` in the background unless one for ``key`` runs already, or too many do
        (the next reader of a kept entry asks again)."""
        if key in self._running or len(self._background) >= MAX_BACKGROUND_REFRESHES:
            return
        task = asyncio.get_running_loop().create_task(self.run(key, fill))
        self._background.add(task)
        task.add_done_callback(self._refreshed)

    def _refreshed(self, task: asyncio.Task[T]) -> None:
        self._background.discard(task)
        if not task.cancelled() and (exc := task.exception()) is not None:
            log.warning("refreshing a kept verify page failed: %s", exc)  # the next reader tries again

    async def run(self, key: tuple[str, str], fill: Callable[[], Awaitable[T]]) -> T:
        running = self._running.get(key)
        if running is not None:
            shared = await asyncio.shield(running)
            if shared is not None:
                return shared
            return await fill()  # the fill we waited for failed: try on our own
        future: asyncio.Future[T | None] = asyncio.get_running_loop().create_future()
        self._running[key] = future
        try:
            made = await fill()
        except BaseException:
            future.set_result(None)
            raise
        finally:
            del self._running[key]
        future.set_result(made)
        return made


# Every cache of this process (one per app; tests run several apps in one process).
_caches: weakref.WeakSet[VerifyCache] = weakref.WeakSet()


def invalidate_certificate(cert_id: str) -> None:
    """Drop certificate ``cert_id`` (its human id) from every verify cache of this process."""
    for cache in list(_caches):
        cache.drop(cert_id)


def invalidate_all() -> None:
    """Drop every entry of every verify cache of this process (a station key revoked or replaced)."""
    for cache in list(_caches):
        cache.clear()


def drop_on_commit(session: OrmSession, cert_id: str = ALL) -> None:
    """Invalidate ``cert_id`` (default: everything) once ``session``'s transaction commits.

    After the commit, not before: a request in between would read and cache the old state.
    """
    pending: set[str] = session.info.setdefault(_PENDING, set())
    pending.add(cert_id)


@event.listens_for(OrmSession, "after_commit")
def _after_commit(session: OrmSession) -> None:
    pending: set[str] = session.info.pop(_PENDING, set())
    if ALL in pending:
        invalidate_all()
        return
    for cert_id in pending:
        invalidate_certificate(cert_id)


@event.listens_for(OrmSession, "after_rollback")
def _after_rollback(session: OrmSession, *_: Any) -> None:
    session.info.pop(_PENDING, None)
