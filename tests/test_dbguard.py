"""PostgreSQL faults through a real TCP proxy: every wait for the database ends, with a clear error.

The bounds these tests rely on are the client timeouts they configure; a hang shows up as the
pytest timeout or a thread that never finishes, never as a slow-but-passing test.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pytest
import sqlalchemy.exc as sa_exc
from faultproxy import Mode
from proxied_postgres import ProxiedPostgres
from sqlalchemy import text
from sqlalchemy.engine import Engine

from inspector.config import Settings
from inspector.db import DatabaseLimits, DatabaseUnavailable, make_engine, migrate
from inspector.dbguard import DatabaseGate, GateState, NoAnswer, RecentlyUnreachable, gate_for
from inspector.web.app import create_app

T = TypeVar("T")

# Small limits so that a fault is found in a few seconds.
FAST = DatabaseLimits(connect_timeout_s=2, statement_timeout_s=1.0, answer_grace_s=1.0, retry_after_s=60.0)
JOIN_S = 60.0  # far above every limit above: a thread still running after this is hung


def finishes(fn: Callable[[], T]) -> T | BaseException:
    """Run ``fn`` in a thread; its result or exception. Fails the test if it is still running."""
    box: list[T | BaseException] = []

    def run() -> None:
        try:
            box.append(fn())
        except BaseException as exc:  # handed back to the test to inspect
            box.append(exc)

    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join(JOIN_S)
    assert not t.is_alive(), "the call was still waiting for the database"
    return box[0]


def _select_one(engine: Engine) -> Callable[[], int]:
    def query() -> int:
        with engine.connect() as conn:
            return int(conn.execute(text("select 1")).scalar_one())

    return query


def test_a_query_on_a_hanging_database_ends_with_no_answer(proxied_postgres: ProxiedPostgres) -> None:
    """A pooled connection whose server stops answering fails its next query instead of blocking."""
    engine = make_engine(proxied_postgres.url, FAST)
    query = _select_one(engine)
    assert query() == 1
    proxied_postgres.proxy.set_mode(Mode.HANG)
    err = finishes(query)
    assert isinstance(err, sa_exc.OperationalError)
    # The pool's ping found no answer; the reconnect that followed was refused by the gate.
    assert isinstance(err.orig, (NoAnswer, RecentlyUnreachable))
    gate = gate_for(engine)
    assert gate is not None and gate.state is GateState.DOWN


def test_after_a_hang_new_connections_fail_fast_until_the_database_is_back(
    proxied_postgres: ProxiedPostgres,
) -> None:
    """Once a hang is seen, connecting fails at once (no connect timeout per request); when the
    retry time has passed and the database answers again, queries work again."""
    engine = make_engine(proxied_postgres.url, FAST)
    with engine.connect() as conn:
        conn.execute(text("select 1"))
    gate = gate_for(engine)
    assert gate is not None and gate.state is GateState.UP
    proxied_postgres.proxy.set_mode(Mode.HANG)
    with pytest.raises(sa_exc.OperationalError), engine.connect() as conn:
        conn.execute(text("select 1"))
    assert gate.state is GateState.DOWN
    accepted = proxied_postgres.proxy.connections_accepted
    for _ in range(20):
        with pytest.raises(sa_exc.OperationalError) as caught, engine.connect():
            pass
        assert isinstance(caught.value.orig, RecentlyUnreachable)
    assert proxied_postgres.proxy.connections_accepted == accepted  # not one attempt reached the proxy

    proxied_postgres.proxy.set_mode(Mode.PASS)
    gate.retry_after_s = 0.0
    gate.failed()  # the retry time is now: the next attempt probes the server
    with engine.connect() as conn:
        assert conn.execute(text("select 1")).scalar_one() == 1
    assert gate.state is GateState.UP
    engine.dispose()


def test_the_server_cancels_a_statement_over_the_statement_timeout(proxied_postgres: ProxiedPostgres) -> None:
    """statement_timeout is set on every connection (server options in the URL are kept): a slow
    statement is cancelled, the connection lives."""
    engine = make_engine(f"{proxied_postgres.url}?options=-c%20application_name%3Dstation-7", FAST)
    with engine.connect() as conn:
        assert conn.execute(text("show application_name")).scalar_one() == "station-7"
        with pytest.raises(sa_exc.OperationalError, match="statement timeout"):
            conn.execute(text("select pg_sleep(30)"))
        conn.rollback()
        assert conn.execute(text("select 1")).scalar_one() == 1
    engine.dispose()


@pytest.mark.parametrize("mode", [Mode.HANG, Mode.DROP])
def test_migrate_fails_with_a_clear_message_when_the_database_is_down_or_hangs(
    proxied_postgres: ProxiedPostgres, mode: Mode
) -> None:
    """Start-up's first step (migrate) ends with DatabaseUnavailable naming host and port and what to
    do, not a driver message with SQL, when the server hangs or drops connections."""
    proxied_postgres.proxy.set_mode(mode)
    err = finishes(lambda: migrate(proxied_postgres.url, FAST))
    assert isinstance(err, DatabaseUnavailable), repr(err)
    msg = str(err)
    assert f"127.0.0.1:{proxied_postgres.proxy.port}" in msg
    assert "check that it is running" in msg
    if mode is Mode.HANG:
        assert "did not answer within 2 s" in msg
    for leak in ("select", "SELECT", "postgres@", "sqlalche.me", "psycopg"):
        assert leak not in msg


def test_create_app_fails_fast_on_a_hanging_database(
    proxied_postgres: ProxiedPostgres, tmp_path: Path
) -> None:
    """create_app with its own engine reports the hanging database instead of blocking for ever."""
    proxied_postgres.proxy.set_mode(Mode.HANG)
    settings = Settings(data_dir=tmp_path, database_url=proxied_postgres.url, db_connect_timeout_s=2)
    err = finishes(lambda: create_app(settings))
    assert isinstance(err, DatabaseUnavailable), repr(err)
    assert "did not answer within 2 s" in str(err)


def test_gate_lets_one_probe_through_and_a_probe_without_verdict_does_not_lock_it() -> None:
    """While down the gate admits one probe per retry time and refuses the rest; a probe that ends
    without a verdict (bad settings, Ctrl-C) frees the slot instead of closing the gate for good."""
    now = [100.0]
    gate = DatabaseGate(retry_after_s=5.0, clock=lambda: now[0])
    gate.admit()  # unknown: let through
    gate.failed()
    with pytest.raises(RecentlyUnreachable, match="about 5 s"):
        gate.admit()
    now[0] += 5.0
    gate.admit()  # the probe
    with pytest.raises(RecentlyUnreachable):
        gate.admit()  # everyone else while it runs
    gate.abandoned()
    gate.admit()  # the next probe
    gate.succeeded()
    assert gate.state is GateState.UP and gate.seconds_until_retry() == 0.0
    gate.admit()
