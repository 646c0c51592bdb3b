"""Fixtures: one platform process on a fresh PostgreSQL database, shared by the module's tests."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from browser import free_port
from scratch_db import postgres_reachable, scratch_postgres_database
from sqlalchemy.engine import Engine
from sync_processes import ServeProcess, platform_process

from inspector.db import make_engine

POSTGRES_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@pytest.fixture(scope="module")
def platform_url() -> Iterator[str]:
    """The platform's database: PostgreSQL, as in production (fresh, dropped afterwards)."""
    if not postgres_reachable(POSTGRES_ADMIN_URL):
        pytest.skip(f"PostgreSQL unreachable at {POSTGRES_ADMIN_URL}")
    with scratch_postgres_database(POSTGRES_ADMIN_URL, prefix="sync") as url:
        yield url


@pytest.fixture(scope="module")
def platform(platform_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    """``inspector serve --role platform`` on a free port (tests may stop, kill and start it)."""
    data = tmp_path_factory.mktemp("platform") / "data"
    proc = platform_process(data, platform_url, free_port()).start()
    try:
        yield proc
    finally:
        proc.stop()


@pytest.fixture(scope="module")
def platform_engine(platform: ServeProcess, platform_url: str) -> Iterator[Engine]:
    """The test's own connection to the platform's database, to look at what arrived."""
    engine = make_engine(platform_url)
    yield engine
    engine.dispose()


@pytest.fixture
def platform_data(platform: ServeProcess) -> Path:
    return Path(platform.args[platform.args.index("--data-dir") + 1])
