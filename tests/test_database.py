"""The schema migrates cleanly on both supported databases and the CLI applies it."""

from __future__ import annotations

from datetime import UTC, datetime

from alembic import command
from sqlalchemy import inspect, text

from inspector.cli import main
from inspector.db import alembic_config, make_engine, migrate


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


def test_sellers_migration_keeps_existing_users_and_stations(database_url: str) -> None:
    """A database from before sellers existed upgrades with its users and enrolled stations
    intact; they belong to no seller (the platform's own), so they keep seeing what they saw."""
    cfg = alembic_config(database_url)
    command.upgrade(cfg, "auth_0002")
    command.upgrade(cfg, "certificates_0003")
    eng = make_engine(database_url)
    with eng.begin() as conn:
        conn.execute(
            text(
                "insert into auth_user (username, display_name, role, password_hash, disabled, created_at) "
                "values ('old-staff', 'Old', 'staff', '', false, :now)"
            ),
            {"now": datetime.now(UTC)},
        )
        conn.execute(
            text(
                "insert into platform_station (station_id, status_list_first, status_list_count, enrolled_at)"
                " values ('old-station', 1000000, 64, :now)"
            ),
            {"now": datetime.now(UTC)},
        )
    migrate(database_url)
    with eng.connect() as conn:
        assert conn.execute(text("select seller_id from auth_user where username = 'old-staff'")).one() == (
            None,
        )
        station = text("select seller_id from platform_station where station_id = 'old-station'")
        assert conn.execute(station).one() == (None,)
    eng.dispose()
