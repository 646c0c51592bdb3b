"""Fixtures for warranty tests (helpers live in ``wty_helpers``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from inspector.db import make_engine, migrate
from warranty.certificate_lookup import clear_stubs


@pytest.fixture(autouse=True)
def _stubs() -> Iterator[None]:
    clear_stubs()
    yield
    clear_stubs()


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    """A migrated SQLite database (for rules that do not depend on the database engine)."""
    url = f"sqlite:///{tmp_path / 'w.db'}"
    migrate(url)
    eng = make_engine(url)
    yield eng
    eng.dispose()
