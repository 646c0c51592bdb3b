"""PostgreSQL connections that give up: an answer deadline, and a gate that fails fast while the
database is unreachable.

Two faults a server database has that timeouts in the server cannot cover:

* **It hangs** (a stopped server, a black-holed network): the kernel still accepts our bytes, so
  the server's ``statement_timeout`` never fires and libpq waits for ever. ``DeadlineConnection``
  gives every round trip (query, commit, rollback, the pool's ping) a client-side deadline and
  closes the connection when it expires, so SQLAlchemy sees a disconnect and throws the
  connection away instead of handing it out again.
* **It is gone**: every request would spend the whole connect timeout finding that out again and
  hold a worker thread meanwhile. ``DatabaseGate`` remembers the failure: for ``retry_after_s``
  new connections fail at once, then one attempt probes the server while the others keep
  failing fast; the first connection that succeeds opens the gate again.

Only the ``psycopg`` (version 3) driver is guarded; SQLite has no network to hang on.
"""

from __future__ import annotations

import enum
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, cast

import psycopg
import sqlalchemy.exc as sa_exc
from psycopg.abc import PQGen
from sqlalchemy import event
from sqlalchemy.engine import Dialect, Engine, ExceptionContext
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.pool import ConnectionPoolEntry, PoolProxiedConnection

__all__ = [
    "DatabaseGate",
    "DeadlineConnection",
    "GateState",
    "NoAnswer",
    "RecentlyUnreachable",
    "gate_for",
    "guard_engine",
]

_WAIT_INTERVAL_S = 0.1  # how often psycopg's wait loop wakes up (it checks for Ctrl-C then)


class NoAnswer(psycopg.OperationalError):
    """The server accepted the connection but did not answer within the deadline."""


class RecentlyUnreachable(psycopg.OperationalError):
    """The server was unreachable moments ago; no new attempt is made until the retry time."""


class DeadlineConnection(psycopg.Connection[Any]):
    """A psycopg connection whose every wait for the server ends after ``answer_deadline_s``."""

    answer_deadline_s: float | None = None
    fresh = True  # not handed out yet: no need to ping it

    @contextmanager
    def answer_within(self, seconds: float) -> Iterator[None]:
        """A shorter deadline for what runs inside (a ping needs no statement's time)."""
        saved, self.answer_deadline_s = self.answer_deadline_s, seconds
        try:
            yield
        finally:
            self.answer_deadline_s = saved

    def wait(self, gen: PQGen[Any], interval: float = _WAIT_INTERVAL_S, timeout: float | None = None) -> Any:
        """Consume ``gen`` like psycopg does, but never for longer than the answer deadline."""
        deadline = self.answer_deadline_s if timeout is None else timeout
        try:
            return super().wait(gen, interval=interval, timeout=deadline)
        # psycopg raises its private _WaitTimeout (an OperationalError) when the timeout expires.
        except psycopg.errors._WaitTimeout as exc:
            # The protocol is mid-exchange: the connection cannot be used again. Closing it makes
            # SQLAlchemy treat the error as a disconnect and drop the connection from its pool.
            self.pgconn.finish()
            raise NoAnswer(f"the database did not answer within {deadline:g} s") from exc


class GateState(enum.StrEnum):
    """What the gate knows about the database."""

    UNKNOWN = "unknown"
    """No connection attempted yet."""
    UP = "up"
    """The last connection attempt succeeded."""
    DOWN = "down"
    """The last attempt failed: new connections fail at once until the retry time."""


class DatabaseGate:
    """Fails new connections fast while the database is known to be unreachable."""

    def __init__(self, retry_after_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.retry_after_s = retry_after_s
        self._clock = clock
        self._lock = threading.Lock()
        self._state = GateState.UNKNOWN
        self._retry_at = 0.0
        self._probing = False

    @property
    def state(self) -> GateState:
        """UNKNOWN, UP or DOWN."""
        return self._state

    def seconds_until_retry(self) -> float:
        """How long new connections keep failing fast (0 when the gate is open)."""
        with self._lock:
            if self._state is not GateState.DOWN:
                return 0.0
            return max(0.0, self._retry_at - self._clock())

    def admit(self) -> None:
        """Let a connection attempt through, or raise ``RecentlyUnreachable`` at once."""
        with self._lock:
            if self._state is not GateState.DOWN:
                return
            now = self._clock()
            if now >= self._retry_at and not self._probing:
                self._probing = True  # this attempt probes; the others keep failing fast
                return
            wait = max(1, round(self._retry_at - now)) if now < self._retry_at else 1
        raise RecentlyUnreachable(f"the database is unreachable; next attempt in about {wait} s")

    def succeeded(self) -> None:
        """A connection was made: the database is reachable."""
        with self._lock:
            self._state, self._probing = GateState.UP, False

    def abandoned(self) -> None:
        """A connection attempt ended without telling whether the server is reachable."""
        with self._lock:
            self._probing = False

    def failed(self) -> None:
        """A connection attempt failed or a connection hung: fail fast for ``retry_after_s``."""
        with self._lock:
            self._state, self._probing = GateState.DOWN, False
            self._retry_at = self._clock() + self.retry_after_s


_GATES: weakref.WeakKeyDictionary[Engine, DatabaseGate] = weakref.WeakKeyDictionary()
_GATES_LOCK = threading.Lock()


def gate_for(engine: Engine) -> DatabaseGate | None:
    """The gate guarding ``engine``'s connections, or None when it has none (SQLite)."""
    with _GATES_LOCK:
        return _GATES.get(engine)


def guard_engine(
    engine: Engine, *, answer_deadline_s: float | None, ping_deadline_s: float, retry_after_s: float
) -> DatabaseGate:
    """Make ``engine`` (psycopg) open ``DeadlineConnection``s through a ``DatabaseGate`` and ping
    each pooled connection before handing it out (instead of ``pool_pre_ping``, whose ping would
    wait the whole answer deadline on a hanging server)."""
    gate = DatabaseGate(retry_after_s)
    with _GATES_LOCK:
        _GATES[engine] = gate

    @event.listens_for(engine, "do_connect")
    def _connect(
        _dialect: Dialect, _record: ConnectionPoolEntry, cargs: tuple[Any, ...], cparams: dict[str, Any]
    ) -> DeadlineConnection:
        gate.admit()
        try:
            conn = DeadlineConnection.connect(*cargs, **cparams)
        except psycopg.OperationalError:
            gate.failed()
            raise
        except BaseException:  # not the server's fault (bad settings, Ctrl-C): no verdict
            gate.abandoned()
            raise
        conn.answer_deadline_s = answer_deadline_s
        gate.succeeded()
        return conn

    @event.listens_for(engine, "checkout")
    def _ping(dbapi_conn: Any, _record: ConnectionPoolEntry, _proxy: PoolProxiedConnection) -> None:
        if not isinstance(dbapi_conn, DeadlineConnection):
            return
        if dbapi_conn.fresh:
            dbapi_conn.fresh = False
            return
        try:
            with dbapi_conn.answer_within(ping_deadline_s):
                engine.dialect.do_ping(cast(DBAPIConnection, dbapi_conn))  # psycopg's is one
        except psycopg.Error as exc:
            if isinstance(exc, NoAnswer):
                gate.failed()
            # The pool drops this connection and every other one it holds, then connects anew
            # (through the gate, which fails fast while the server is known to be unreachable).
            raise sa_exc.InvalidatePoolError("the database did not answer a ping") from exc

    @event.listens_for(engine, "handle_error")
    def _on_error(context: ExceptionContext) -> None:
        # A hang closes the gate; a plain disconnect (a restarted server) does not: the next
        # connection attempt finds out whether the server is back.
        if isinstance(context.original_exception, NoAnswer):
            gate.failed()

    return gate
