"""The schema migrates cleanly on both supported databases and the CLI applies it."""

from __future__ import annotations

from sqlalchemy import inspect

from inspector.cli import main
from inspector.db import migrate


def test_migrations_are_idempotent(database_url: str) -> None:
    """Running the upgrade twice is harmless: a station restart never breaks its database."""
    migrate(database_url)
    migrate(database_url)


def test_cli_db_upgrade_creates_version_table(database_url: str, capsys) -> None:  # type: ignore[no-untyped-def]
    """`inspector db upgrade` is how an operator creates the schema; it reports success."""
    assert main(["db", "upgrade", "--database-url", database_url]) == 0
    assert "up to date" in capsys.readouterr().out
    from inspector.db import make_engine

    eng = make_engine(database_url)
    assert "alembic_version" in inspect(eng).get_table_names()
    eng.dispose()
