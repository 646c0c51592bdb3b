"""Attempt limits kept in the database, so they survive restarts and hold across workers.

A limit held in one process's memory is reset by a restart, is per worker, and must be
cleared when it grows; an attacker only has to outlast it. Here each attempt is a row update in
the station's (or platform's) own database, in its own short transaction, so a handler that
rolls back still leaves the attempt counted.

The window slides: the count of the previous fixed window is weighted by how much of it still
overlaps the sliding one (the "sliding window counter" of Cloudflare and the ``limits`` package),
which costs two rows per key instead of one row per attempt and has no burst at window edges.
Keys are stored as SHA-256, never in clear (they are client addresses, user names, certificate
ids). Only allowed attempts are counted: a refused one changes nothing.
"""

from __future__ import annotations

import hashlib
import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from fastapi import Request
from sqlalchemy import BigInteger, Column, Integer, String, Table, and_, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine
from sqlmodel import SQLModel

# A Core table (no ORM model: nothing but the limiter reads it), created by migration auth_0002.
attempt_table = Table(
    "auth_attempt",
    SQLModel.metadata,
    Column("scope", String(32), primary_key=True),
    Column("key_hash", String(64), primary_key=True),
    Column("window_start", BigInteger, primary_key=True),
    Column("count", Integer, nullable=False),
)

PURGE_ONE_IN = 200  # how often a hit also deletes other keys' stale rows of its scope


@dataclass(frozen=True)
class Decision:
    """What a limiter said about one attempt."""

    allowed: bool
    remaining: int
    retry_after_s: int  # 0 when allowed: seconds until the window frees a slot

    @property
    def retry_after_minutes(self) -> int:
        """Whole minutes to wait, rounded up, for messages a person reads."""
        return max(1, math.ceil(self.retry_after_s / 60)) if self.retry_after_s else 0


def _key_hash(scope: str, key: str) -> str:
    return hashlib.sha256(f"{scope}\0{key}".encode()).hexdigest()


def client_address(request: Request) -> str:
    """The client's IP address as the server saw it (the key of per-client limits)."""
    return request.client.host if request.client else "unknown"


class AttemptLimiter:
    """At most ``limit`` attempts per key in any sliding ``window``, counted in the database."""

    def __init__(
        self,
        scope: str,
        limit: int,
        window: timedelta,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not scope or len(scope) > 32:
            raise ValueError("scope must be 1-32 characters")
        if limit < 1:
            raise ValueError("limit must be at least 1")
        self.scope = scope
        self.limit = limit
        self.window_s = int(window.total_seconds())
        if self.window_s < 1:
            raise ValueError("window must be at least one second")
        self.clock = clock

    # -- public -----------------------------------------------------------------------------

    def hit(self, engine: Engine, key: str, cost: int = 1) -> Decision:
        """Count ``cost`` attempts for ``key`` if the limit allows them; committed at once."""
        now = self.clock()
        current = self._window_start(now)
        key_hash = _key_hash(self.scope, key)
        with engine.begin() as conn:
            count = self._increment(conn, key_hash, current, cost)
            previous = self._count(conn, key_hash, current - self.window_s)
            weighted = self._weighted(now, previous, count)
            if weighted > self.limit:
                self._add(conn, key_hash, current, -cost)
                decision = self._decision(now, previous, count - cost, allowed=False)
            else:
                decision = self._decision(now, previous, count, allowed=True)
            conn.execute(
                delete(attempt_table).where(
                    and_(
                        attempt_table.c.scope == self.scope,
                        attempt_table.c.key_hash == key_hash,
                        attempt_table.c.window_start < current - self.window_s,
                    )
                )
            )
            if random.randrange(PURGE_ONE_IN) == 0:
                self._purge(conn, current)
        return decision

    def peek(self, engine: Engine, key: str) -> Decision:
        """What the next attempt would get, without counting it."""
        now = self.clock()
        current = self._window_start(now)
        key_hash = _key_hash(self.scope, key)
        with engine.connect() as conn:
            count = self._count(conn, key_hash, current)
            previous = self._count(conn, key_hash, current - self.window_s)
        allowed = self._weighted(now, previous, count + 1) <= self.limit
        return self._decision(now, previous, count, allowed=allowed)

    def reset(self, engine: Engine, key: str) -> None:
        """Forget every attempt of ``key`` (e.g. after a successful sign-in)."""
        with engine.begin() as conn:
            conn.execute(
                delete(attempt_table).where(
                    and_(
                        attempt_table.c.scope == self.scope,
                        attempt_table.c.key_hash == _key_hash(self.scope, key),
                    )
                )
            )

    # -- internals --------------------------------------------------------------------------

    def _window_start(self, now: float) -> int:
        return int(now // self.window_s) * self.window_s

    def _weighted(self, now: float, previous: int, current: int) -> float:
        elapsed = now - self._window_start(now)
        return previous * (1.0 - elapsed / self.window_s) + current

    def _decision(self, now: float, previous: int, current: int, allowed: bool) -> Decision:
        remaining = max(0, math.floor(self.limit - self._weighted(now, previous, current)))
        if allowed:
            return Decision(True, remaining, 0)
        return Decision(False, 0, self._retry_after(now, previous, current))

    def _retry_after(self, now: float, previous: int, current: int) -> int:
        """Seconds until one more attempt fits under the limit."""
        start = self._window_start(now)
        elapsed = now - start
        if current + 1 <= self.limit and previous > 0:
            # Within this window, once enough of the previous one has slid out.
            needed = self.window_s * (1.0 - (self.limit - current - 1) / previous)
            return max(1, math.ceil(needed - elapsed))
        # In the next window, once enough of this one has slid out.
        wait_next = self.window_s - elapsed
        needed = self.window_s * (1.0 - (self.limit - 1) / current) if current else 0.0
        return max(1, math.ceil(wait_next + max(0.0, needed)))

    def _count(self, conn: Connection, key_hash: str, window_start: int) -> int:
        value = conn.execute(
            select(attempt_table.c.count).where(
                and_(
                    attempt_table.c.scope == self.scope,
                    attempt_table.c.key_hash == key_hash,
                    attempt_table.c.window_start == window_start,
                )
            )
        ).scalar_one_or_none()
        return int(value or 0)

    def _increment(self, conn: Connection, key_hash: str, window_start: int, cost: int) -> int:
        """Upsert and return the new count; the row stays locked until the transaction ends."""
        values = {"scope": self.scope, "key_hash": key_hash, "window_start": window_start, "count": cost}
        dialect = conn.dialect.name
        keys = ["scope", "key_hash", "window_start"]
        bump = {"count": attempt_table.c.count + cost}
        if dialect == "postgresql":
            pg = postgresql.insert(attempt_table).values(**values)
            stmt = pg.on_conflict_do_update(index_elements=keys, set_=bump).returning(attempt_table.c.count)
        elif dialect == "sqlite":
            lite = sqlite.insert(attempt_table).values(**values)
            stmt = lite.on_conflict_do_update(index_elements=keys, set_=bump).returning(attempt_table.c.count)
        else:
            raise RuntimeError(f"attempt limits support SQLite and PostgreSQL, not {dialect}")
        return int(conn.execute(stmt).scalar_one())

    def _add(self, conn: Connection, key_hash: str, window_start: int, delta: int) -> None:
        conn.execute(
            update(attempt_table)
            .where(
                and_(
                    attempt_table.c.scope == self.scope,
                    attempt_table.c.key_hash == key_hash,
                    attempt_table.c.window_start == window_start,
                )
            )
            .values(count=attempt_table.c.count + delta)
        )

    def _purge(self, conn: Connection, current: int) -> None:
        conn.execute(
            delete(attempt_table).where(
                and_(
                    attempt_table.c.scope == self.scope,
                    attempt_table.c.window_start < current - self.window_s,
                )
            )
        )
