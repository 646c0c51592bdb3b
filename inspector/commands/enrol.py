"""``inspector enrol``: enrol this station with a platform, using a one-time code from its admin.

The station makes its own signing key here (the private half never leaves the data directory);
the platform certifies it. From then on certificates carry the platform's address and go to it.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from inspector.cli import CommandError
from inspector.config import get_settings
from inspector.db import open_database
from inspector.sync.enrolment import EnrolmentFailed, enrol, issuer_base


def _enrol(args: argparse.Namespace) -> int:
    updates: dict[str, object] = {}
    if args.data_dir is not None:
        updates["data_dir"] = Path(args.data_dir)
    if args.database_url is not None:
        updates["database_url"] = args.database_url
    settings = get_settings().model_copy(update=updates)
    engine = open_database(settings)
    try:
        row = enrol(engine, settings, args.platform, args.code)
    except EnrolmentFailed as exc:
        raise CommandError(f"enrolment failed: {exc}") from exc
    finally:
        engine.dispose()
    print(f"station {row.station_id} enrolled with {row.platform_url}")
    print(f"  signing key  {row.key_fingerprint} (certified by the platform's root {row.root_key[:16]}...)")
    print(f"  certificates {issuer_base(row)}/c/<id>, sent to the platform as soon as it is reachable")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "enrol", help="enrol this station with a platform (one-time code)", description=__doc__
    )
    p.add_argument(
        "--platform", required=True, metavar="URL", help="the platform's address, e.g. https://..."
    )
    p.add_argument("--code", required=True, help="the one-time code from 'inspector platform enrol-code'")
    p.add_argument("--data-dir", help="this station's data directory (default: settings, ./var)")
    p.add_argument("--database-url", help="this station's database (default: SQLite in the data dir)")
    p.set_defaults(handler=_enrol)
