"""``inspector platform``: the platform admin's side of enrolment (codes, stations, revocation).

Run on the platform's machine, against its database and data directory (``--data-dir``,
``--database-url``, or the environment as for ``inspector serve --role platform``).
"""

from __future__ import annotations

import argparse
from datetime import timedelta
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import col, select

from inspector.certificates.keys import KeyError_, revoke_key
from inspector.certificates.tables import SigningKey
from inspector.cli import CommandError, command_engine
from inspector.config import Settings, get_settings
from inspector.db import session_scope
from inspector.platform.enrolment import EnrolmentRefused, make_code
from inspector.platform.tables import EnrolledStation


def _settings(args: argparse.Namespace) -> Settings:
    updates: dict[str, object] = {}
    if args.data_dir is not None:
        updates["data_dir"] = Path(args.data_dir)
    if args.database_url is not None:
        updates["database_url"] = args.database_url
    return get_settings().model_copy(update=updates)


def _engine(settings: Settings) -> Engine:
    return command_engine(settings, platform=True)


def _enrol_code(args: argparse.Namespace) -> int:
    settings = _settings(args)
    try:
        with session_scope(_engine(settings)) as session:
            new = make_code(session, args.station_id, timedelta(hours=args.valid_hours))
    except EnrolmentRefused as exc:
        raise CommandError(str(exc)) from exc
    print(
        f"enrolment code for station {new.station_id}, valid once until {new.expires_at:%Y-%m-%d %H:%M} UTC:"
    )
    print(f"  {new.code}")
    print("it is shown only this time. On the station (INSPECTOR_STATION_ID=" + new.station_id + "):")
    print(f"  inspector enrol --platform {settings.public_base_url.rstrip('/')} --code {new.code}")
    return 0


def _stations(args: argparse.Namespace) -> int:
    settings = _settings(args)
    with session_scope(_engine(settings)) as session:
        stations = session.exec(select(EnrolledStation).order_by(col(EnrolledStation.station_id))).all()
        if not stations:
            print("no station enrolled yet; make a code with 'inspector platform enrol-code STATION_ID'")
        for st in stations:
            keys = session.exec(
                select(SigningKey).where(SigningKey.role == "station", SigningKey.station_id == st.station_id)
            ).all()
            last = f"{st.last_upload_at:%Y-%m-%d %H:%M}" if st.last_upload_at else "never"
            lists = f"{st.status_list_first}-{st.status_list_first + st.status_list_count - 1}"
            print(f"{st.station_id:<16} last upload {last:<16} status lists {lists}")
            for key in keys:
                state = "revoked" if key.revoked_at else ("retired" if key.retired_at else "active")
                print(f"  {state:<8} {key.fingerprint}")
    return 0


def _revoke_station(args: argparse.Namespace) -> int:
    """Revoke the station's keys: its uploads are refused and what they signed shows 'key revoked'."""
    settings = _settings(args)
    try:
        with session_scope(_engine(settings)) as session:
            keys = session.exec(
                select(SigningKey).where(
                    SigningKey.role == "station",
                    SigningKey.station_id == args.station_id,
                    col(SigningKey.revoked_at).is_(None),
                )
            ).all()
            if not keys:
                raise CommandError(f"station {args.station_id!r} has no key that is not revoked already")
            revoked = [revoke_key(session, key.fingerprint, args.reason).fingerprint for key in keys]
    except KeyError_ as exc:
        raise CommandError(str(exc)) from exc
    for fingerprint in revoked:
        print(f"revoked {fingerprint} (station {args.station_id})")
    print("its uploads are refused from now on; enrol it again with a new code to let it sign again")
    return 0


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data-dir", help="the platform's data directory (keys, photos)")
    p.add_argument("--database-url", help="the platform's database (default: settings)")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "platform", help="platform admin: enrolment codes, stations, revocation", description=__doc__
    )
    ps = p.add_subparsers(dest="platform_command", metavar="ACTION", required=True)
    c = ps.add_parser("enrol-code", help="a one-time code a station enrols with (printed once)")
    c.add_argument("station_id", metavar="STATION_ID")
    c.add_argument(
        "--valid-hours", type=float, default=24.0, help="how long the code can be used (default 24)"
    )
    _common(c)
    c.set_defaults(handler=_enrol_code)
    s = ps.add_parser("stations", help="enrolled stations, their keys and last upload")
    _common(s)
    s.set_defaults(handler=_stations)
    r = ps.add_parser("revoke-station", help="revoke a station's keys: its uploads are refused")
    r.add_argument("station_id", metavar="STATION_ID")
    r.add_argument("--reason", required=True)
    _common(r)
    r.set_defaults(handler=_revoke_station)
