"""``inspector db``: create or upgrade the database schema."""

from __future__ import annotations

import argparse

from inspector.config import get_settings
from inspector.db import migrate


def _upgrade(args: argparse.Namespace) -> int:
    url = args.database_url or get_settings().resolved_database_url
    migrate(url)
    print(f"schema is up to date ({url.split('@')[-1]})")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("db", help="manage the database schema")
    dsub = p.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    up = dsub.add_parser("upgrade", help="apply every pending migration")
    up.add_argument("--database-url", help="override DATABASE_URL for this run")
    up.set_defaults(handler=_upgrade)
