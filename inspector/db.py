"""Database engine, sessions and schema migrations (SQLite by default, PostgreSQL by URL).

A server database can be down or hang. Every PostgreSQL engine made here gives up: a connect
timeout, a server-side statement timeout, a client-side deadline for every answer and a gate that
fails fast while the server is unreachable (``inspector/dbguard.py``), and a bounded pool whose
wait is shorter than a request's budget. Failures to reach the database surface as
``DatabaseUnavailable`` with a message a person can act on.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import psycopg
import sqlalchemy.exc as sa_exc
from alembic import command
from alembic.config import Config
from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, create_engine

from inspector.config import Settings
from inspector.dbguard import NoAnswer, RecentlyUnreachable, guard_engine

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
LIMITS_ATTRIBUTE = "database_limits"  # alembic Config.attributes key read by migrations/env.py


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


@dataclass(frozen=True)
class DatabaseLimits:
    """How long anything waits for a server database before giving up (PostgreSQL only)."""

    connect_timeout_s: int = 5
    """Connecting, including the start-up handshake (libpq's minimum is 2 s)."""
    statement_timeout_s: float = 10.0
    """The server cancels a statement after this; 0 means no limit (and no answer deadline)."""
    answer_grace_s: float = 2.0
    """How much longer than the statement timeout the client waits for any answer."""
    pool_size: int = 5
    max_overflow: int = 5
    pool_timeout_s: float = 3.0
    """How long a request waits for a free connection before it is told to try again."""
    retry_after_s: float = 5.0
    """After a failed connect or a hang, new connections fail at once for this long."""

    @property
    def answer_deadline_s(self) -> float | None:
        """The longest any round trip may take before the connection is given up."""
        return self.statement_timeout_s + self.answer_grace_s if self.statement_timeout_s > 0 else None

    @classmethod
    def from_settings(cls, settings: Settings) -> DatabaseLimits:
        return cls(
            connect_timeout_s=settings.db_connect_timeout_s,
            statement_timeout_s=settings.db_statement_timeout_s,
            pool_size=settings.db_pool_size,
            max_overflow=settings.db_max_overflow,
            pool_timeout_s=settings.db_pool_timeout_s,
            retry_after_s=settings.db_retry_after_s,
        )

    def for_migrations(self) -> DatabaseLimits:
        """Schema changes may take minutes on a large database; connecting may not."""
        return replace(self, statement_timeout_s=max(self.statement_timeout_s, 600.0))


# Errors that say "the database is down, hangs or is overloaded now", not "this request is wrong":
# worth a retry later, and answered 503 to a client.
TRANSIENT_DATABASE_ERRORS: tuple[type[Exception], ...] = (
    sa_exc.OperationalError,
    sa_exc.InterfaceError,
    sa_exc.TimeoutError,
)


class DatabaseUnavailable(RuntimeError):
    """The database cannot be reached or does not answer; the message says what to check."""


def describe_database(url: str) -> str:
    """Where the database is, for messages: host and port for a server, never a password or path."""
    u = make_url(url)
    if u.get_backend_name() == "sqlite":
        return "the SQLite database in the data directory"
    where = f"{u.host or 'localhost'}:{u.port or 5432}"
    return f"the {u.get_backend_name()} database at {where}"


def unavailable(url: str, exc: BaseException, limits: DatabaseLimits | None = None) -> DatabaseUnavailable:
    """A ``DatabaseUnavailable`` explaining ``exc`` (a connection or timeout error) to a person."""
    limits = limits or DatabaseLimits()
    orig = exc.orig if isinstance(exc, sa_exc.DBAPIError) else exc
    if isinstance(orig, psycopg.errors.ConnectionTimeout):
        why = f"did not answer within {limits.connect_timeout_s} s"
    elif isinstance(orig, (NoAnswer, RecentlyUnreachable)):
        why = str(orig).removeprefix("the database ")
    elif isinstance(exc, sa_exc.TimeoutError):
        why = "is busy: no free connection"
    else:
        why = "refused or dropped the connection"
    return DatabaseUnavailable(
        f"{describe_database(url)} {why}; check that it is running and reachable, then try again"
    )


def limit_option(statement_timeout_s: float) -> str:
    """The libpq ``options`` that make the server cancel statements after ``statement_timeout_s``."""
    return f"-c statement_timeout={int(statement_timeout_s * 1000)}"


def make_engine(url: str, limits: DatabaseLimits | None = None) -> Engine:
    """Create an engine; SQLite gets WAL and foreign keys so it behaves like a server database."""
    limits = limits or DatabaseLimits()
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
    if make_url(url).get_driver_name() != "psycopg":
        return create_engine(url, pool_pre_ping=True)
    given = make_url(url).query.get("options")  # the URL's own server options are kept
    own = [given] if isinstance(given, str) else list(given or ())
    options = " ".join([*own, limit_option(limits.statement_timeout_s)])
    engine = create_engine(
        url,
        pool_size=limits.pool_size,
        max_overflow=limits.max_overflow,
        pool_timeout=limits.pool_timeout_s,
        connect_args={
            "connect_timeout": limits.connect_timeout_s,
            "options": options,
            # An idle connection to a vanished peer is noticed within about 25 s.
            "keepalives": 1,
            "keepalives_idle": 10,
            "keepalives_interval": 5,
            "keepalives_count": 3,
        },
    )
    guard_engine(
        engine,
        answer_deadline_s=limits.answer_deadline_s,
        ping_deadline_s=float(limits.connect_timeout_s),  # the pool's ping (guard_engine) replaces pre_ping
        retry_after_s=limits.retry_after_s,
    )
    return engine


def alembic_config(url: str, limits: DatabaseLimits | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    cfg.attributes[LIMITS_ATTRIBUTE] = (limits or DatabaseLimits()).for_migrations()
    return cfg


def migrate(url: str, limits: DatabaseLimits | None = None) -> None:
    """Bring the schema to the newest revision of every component's migration branch.

    Raises ``DatabaseUnavailable`` (within the connect timeout) when the database is down or hangs.
    """
    try:
        command.upgrade(alembic_config(url, limits), "heads")
    except (sa_exc.OperationalError, sa_exc.InterfaceError) as exc:
        raise unavailable(url, exc, limits) from exc


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
    limits = DatabaseLimits.from_settings(settings)
    migrate(url, limits)
    return make_engine(url, limits)
