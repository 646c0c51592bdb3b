"""Fixtures: every photo store backend behind one fixture, so one suite proves they behave alike.

``case`` is the filesystem store and the database store on PostgreSQL (one migrated database per
module, emptied before each test). ``case.code`` is the Python expression that opens the same
store in another process.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from photo_cases import StoreCase
from scratch_db import postgres_reachable, scratch_postgres_database
from sqlalchemy import text

from inspector.db import make_engine, migrate
from inspector.photostore import DatabasePhotoStore, FileSystemPhotoStore, Shelf

POSTGRES_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
BACKENDS = ["fs", "database-postgresql"]


@pytest.fixture(scope="module")
def postgres_store_url() -> Iterator[str]:
    """A migrated PostgreSQL database for the module's database-store tests."""
    if not postgres_reachable(POSTGRES_ADMIN_URL):
        pytest.skip(f"PostgreSQL unreachable at {POSTGRES_ADMIN_URL}")
    with scratch_postgres_database(POSTGRES_ADMIN_URL, prefix="photos") as url:
        migrate(url)
        yield url


def _database_case(backend: str, url: str) -> Iterator[StoreCase]:
    engine = make_engine(url)
    with engine.begin() as conn:  # each test starts from an empty store
        for table in ("photo_object", "photo_chunk", "photo_upload"):
            conn.execute(text(f"DELETE FROM {table}"))
    code = f"DatabasePhotoStore(make_engine({url!r}), Shelf.STATION)"
    yield StoreCase(backend, DatabasePhotoStore(engine, Shelf.STATION), code, engine)
    engine.dispose()


@pytest.fixture(params=BACKENDS)
def case(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreCase]:
    if request.param == "fs":
        root = tmp_path / "photos"
        yield StoreCase("fs", FileSystemPhotoStore(root), f"FileSystemPhotoStore(Path({str(root)!r}))")
    else:
        yield from _database_case(request.param, request.getfixturevalue("postgres_store_url"))
