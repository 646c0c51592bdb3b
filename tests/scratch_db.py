"""Throwaway PostgreSQL databases for tests and benchmarks: created empty, dropped (forced) afterwards."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url


@contextmanager
def scratch_postgres_database(admin_url: str, prefix: str = "t") -> Iterator[str]:
    """Create ``<prefix>_<random>`` on the server at ``admin_url`` and yield its URL."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def postgres_reachable(admin_url: str) -> bool:
    """Does the server at ``admin_url`` answer within 3 s? (Tests skip their PostgreSQL half if not.)"""
    engine = create_engine(admin_url, connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as conn:
            conn.execute(text("select 1"))
    except Exception:  # any driver or connection failure means "not reachable" here
        return False
    finally:
        engine.dispose()
    return True
