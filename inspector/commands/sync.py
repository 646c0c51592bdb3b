"""``inspector sync status``: what this station still has to send its platform, and what it refused.

The same facts as the console's sync card and ``GET /api/station/sync``, for an operator at a
terminal: the sync's condition, the backlog, the last problem, and every item the platform
refused for good with its reason (those stay on the station; their QR codes are never shown).
"""

from __future__ import annotations

import argparse
import json
from datetime import datetime
from pathlib import Path

from sqlmodel import Session

from inspector.config import get_settings
from inspector.db import open_database
from inspector.sync.enrolment import current_enrolment
from inspector.sync.outbox import aware, backlog, refused_items


def _when(moment: datetime | None) -> str:
    return f"{moment:%Y-%m-%d %H:%M:%S} UTC" if moment is not None else "-"


def _status(args: argparse.Namespace) -> int:
    updates: dict[str, object] = {}
    if args.data_dir is not None:
        updates["data_dir"] = Path(args.data_dir)
    if args.database_url is not None:
        updates["database_url"] = args.database_url
    settings = get_settings().model_copy(update=updates)
    engine = open_database(settings)
    try:
        with Session(engine) as session:
            enrolment = current_enrolment(session, settings.station_id)
            queue = backlog(session, settings.station_id)
            refused = refused_items(session, settings.station_id, limit=args.limit)
    finally:
        engine.dispose()
    if args.json:
        print(
            json.dumps(
                {
                    "station_id": settings.station_id,
                    "enrolled": enrolment is not None,
                    "platform_url": enrolment.platform_url if enrolment is not None else None,
                    "condition": enrolment.condition if enrolment is not None else "standalone",
                    "waiting": queue.waiting,
                    "refused": queue.refused,
                    "last_error": (enrolment.last_error or None) if enrolment is not None else None,
                    "refused_items": [
                        {
                            "kind": r.kind,
                            "ref": r.ref,
                            "refused_at": r.refused_at.isoformat(),
                            "refusal": r.refusal_kind,
                            "reason": r.reason,
                        }
                        for r in refused
                    ],
                },
                indent=2,
            )
        )
        return 0
    if enrolment is None:
        print(f"station {settings.station_id} is not enrolled with a platform: it signs on its own")
        return 0
    print(f"station {settings.station_id} sends to {enrolment.platform_url}")
    print(f"  sync       {enrolment.condition} since {_when(aware(enrolment.condition_since))}")
    oldest = f" (oldest queued {_when(queue.oldest_waiting_at)})" if queue.oldest_waiting_at else ""
    waiting = f"{queue.waiting['certificate']} certificate(s), {queue.waiting['photo']} photo(s)"
    print(f"  waiting    {waiting}{oldest}")
    print(f"  last sent  {_when(aware(enrolment.last_success_at))}")
    if enrolment.last_error:
        kind = f" [{enrolment.last_error_kind}]" if enrolment.last_error_kind else ""
        print(f"  last error {_when(aware(enrolment.last_error_at))}{kind}: {enrolment.last_error}")
    total = queue.refused["certificate"] + queue.refused["photo"]
    if not total:
        print("  refused    none")
        return 0
    print(
        f"  refused    {queue.refused['certificate']} certificate(s), {queue.refused['photo']} photo(s) "
        "refused by the platform for good; kept on this station, never shown as a QR code:"
    )
    for r in refused:
        kind = f" [{r.refusal_kind}]" if r.refusal_kind else ""
        print(f"    {r.kind} {r.ref}  {_when(r.refused_at)}{kind}: {r.reason}")
    if total > len(refused):
        print(f"    ... and {total - len(refused)} more (--limit)")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("sync", help="this station's sync with its platform", description=__doc__)
    ps = p.add_subparsers(dest="sync_command", metavar="ACTION", required=True)
    s = ps.add_parser("status", help="backlog, last problem, and what the platform refused and why")
    s.add_argument("--data-dir", help="this station's data directory (default: settings, ./var)")
    s.add_argument("--database-url", help="this station's database (default: SQLite in the data dir)")
    s.add_argument("--limit", type=int, default=20, help="refused items to list, newest first (default 20)")
    s.add_argument("--json", action="store_true", help="print it as JSON")
    s.set_defaults(handler=_status)
