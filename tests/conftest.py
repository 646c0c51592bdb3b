"""Shared fixtures.

``database_url`` runs a test once on SQLite and once on PostgreSQL (a fresh database per
test). PostgreSQL is skipped, with the reason printed, only when the server is unreachable.
``proxied_postgres`` is a fresh, migrated PostgreSQL database behind ``faultproxy.FaultProxy``,
for tests that drop or hang the database.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from faultproxy import FaultProxy
from hypothesis import HealthCheck, settings
from proxied_postgres import ProxiedPostgres
from scratch_db import postgres_reachable, scratch_postgres_database
from sqlalchemy.engine import Engine, make_url

from inspector.db import make_engine, migrate

# Tests read the pages in English unless they choose a language (Settings, Accept-Language or the
# language cookie); the servers they start as subprocesses inherit this too.
os.environ.setdefault("INSPECTOR_LOCALE", "en")

# Two test workers share two cores: the math libraries get one thread each (torch's OpenMP pool
# spins for seconds waiting for a core the other worker holds: 40 training steps of a tiny network
# took 30 s instead of 3). Set before any test module imports torch or numpy.
os.environ.setdefault("OMP_NUM_THREADS", "1")

# Property tests judge correctness, not speed: a busy 2-core CI machine must not fail them
# on timing (speed lives in bench/).
settings.register_profile(
    "project", deadline=None, suppress_health_check=[HealthCheck.too_slow], print_blob=True
)
settings.load_profile("project")

POSTGRES_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")

_pg_reachable: bool | None = None


def _postgres_reachable() -> bool:
    global _pg_reachable
    if _pg_reachable is None:
        _pg_reachable = postgres_reachable(POSTGRES_ADMIN_URL)
    return _pg_reachable


@contextmanager
def fresh_postgres_database() -> Iterator[str]:
    """Create an empty PostgreSQL database, yield its URL, drop it afterwards (skip if unreachable)."""
    if not _postgres_reachable():
        pytest.skip(f"PostgreSQL unreachable at {POSTGRES_ADMIN_URL}")
    with scratch_postgres_database(POSTGRES_ADMIN_URL) as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database URL, on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.db'}"
        return
    with fresh_postgres_database() as url:
        yield url


@pytest.fixture
def proxied_postgres() -> Iterator[ProxiedPostgres]:
    """A fresh, migrated PostgreSQL database behind a fault proxy (tests/faultproxy.py)."""
    with fresh_postgres_database() as direct:
        migrate(direct)
        target = make_url(direct)
        with FaultProxy(target.host or "127.0.0.1", target.port or 5432) as proxy:
            url = target.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
            yield ProxiedPostgres(proxy, direct, url)


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """A migrated database (every component's schema), on SQLite and on PostgreSQL."""
    migrate(database_url)
    eng = make_engine(database_url)
    yield eng
    eng.dispose()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A SQLite database URL, for tests where which database it is does not matter (page language,
    layout): they run once instead of twice."""
    return f"sqlite:///{tmp_path / 'test.db'}"


@pytest.fixture
def sqlite_engine(sqlite_url: str) -> Iterator[Engine]:
    """A migrated SQLite database (every component's schema)."""
    migrate(sqlite_url)
    eng = make_engine(sqlite_url)
    yield eng
    eng.dispose()
