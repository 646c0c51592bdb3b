"""Database engine, sessions and schema migrations (SQLite by default, PostgreSQL by URL)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session, create_engine

from inspector.config import Settings

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def _owner_only(db_file: Path) -> None:
    """Create the SQLite file (and tighten an existing one) as 0600: it holds password and token hashes.

    SQLite gives its -wal and -shm files the database file's mode.
    """
    try:
        os.close(os.open(db_file, os.O_WRONLY | os.O_CREAT, 0o600))
        for f in (Path(f"{db_file}{suffix}") for suffix in ("", "-wal", "-shm")):
            if f.exists() and f.stat().st_mode & 0o077:
                f.chmod(0o600)
    except OSError:  # read-only location or someone else's file: SQLite reports what matters
        pass


def make_engine(url: str) -> Engine:
    """Create an engine; SQLite gets WAL and foreign keys so it behaves like a server database."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            _owner_only(Path(path))
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True)


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def migrate(url: str) -> None:
    """Bring the schema to the newest revision of every component's migration branch."""
    command.upgrade(alembic_config(url), "heads")


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session that commits on success and rolls back on any error."""
    with Session(engine) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def open_database(settings: Settings) -> Engine:
    """Engine for the configured database, created and migrated first: CLI commands just work."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    url = settings.resolved_database_url
    migrate(url)
    return make_engine(url)
