"""``inspector platform``: the platform admin's side: sellers, enrolment codes, stations, revocation.

Run on the platform's machine, against its database and data directory (``--data-dir``,
``--database-url``, or the environment as for ``inspector serve --role platform``).
"""

from __future__ import annotations

import argparse
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from inspector.auth.sellers import SellerError, add_seller, existing_seller, list_sellers
from inspector.auth.tables import User
from inspector.certificates.keys import SigningKeyError, revoke_key
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
            new = make_code(session, args.station_id, timedelta(hours=args.valid_hours), args.seller)
    except EnrolmentRefused as exc:
        raise CommandError(str(exc)) from exc
    owner = f"of seller {new.seller_id}" if new.seller_id else "of the platform itself (no seller)"
    print(
        f"enrolment code for station {new.station_id} ({owner}), "
        f"valid once until {new.expires_at:%Y-%m-%d %H:%M} UTC:"
    )
    print(f"  {new.code}")
    print("it is shown only this time. On the station (INSPECTOR_STATION_ID=" + new.station_id + "):")
    print(f"  inspector enrol --platform {settings.public_base_url.rstrip('/')} --code {new.code}")
    return 0


def _stations(args: argparse.Namespace) -> int:
    settings = _settings(args)
    with session_scope(_engine(settings)) as session:
        query = select(EnrolledStation).order_by(col(EnrolledStation.station_id))
        if args.seller is not None:
            try:
                existing_seller(session, args.seller)
            except SellerError as exc:
                raise CommandError(str(exc)) from exc
            query = query.where(EnrolledStation.seller_id == args.seller)
        stations = session.exec(query).all()
        if not stations:
            print("no station enrolled yet; make a code with 'inspector platform enrol-code STATION_ID'")
        for st in stations:
            keys = session.exec(
                select(SigningKey).where(SigningKey.role == "station", SigningKey.station_id == st.station_id)
            ).all()
            last = f"{st.last_upload_at:%Y-%m-%d %H:%M}" if st.last_upload_at else "never"
            lists = f"{st.status_list_first}-{st.status_list_first + st.status_list_count - 1}"
            seller = st.seller_id or "-"
            print(f"{st.station_id:<16} seller {seller:<12} last upload {last:<16} status lists {lists}")
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
    except SigningKeyError as exc:
        raise CommandError(str(exc)) from exc
    for fingerprint in revoked:
        print(f"revoked {fingerprint} (station {args.station_id})")
    print("its uploads are refused from now on; enrol it again with a new code to let it sign again")
    return 0


def _sellers_add(args: argparse.Namespace) -> int:
    settings = _settings(args)
    try:
        with session_scope(_engine(settings)) as session:
            add_seller(session, args.seller_id, args.name)
    except SellerError as exc:
        raise CommandError(str(exc)) from exc
    print(f"added seller {args.seller_id} ({args.name.strip()})")
    print(f"  its stations: inspector platform enrol-code STATION_ID --seller {args.seller_id}")
    print(f"  its people:   inspector users add NAME --role staff --seller {args.seller_id}")
    return 0


def _sellers_list(args: argparse.Namespace) -> int:
    settings = _settings(args)
    with session_scope(_engine(settings)) as session:
        stations = dict(
            session.execute(
                select(EnrolledStation.seller_id, func.count()).group_by(col(EnrolledStation.seller_id))
            ).all()
        )
        people = dict(
            session.execute(select(User.seller_id, func.count()).group_by(col(User.seller_id))).all()
        )
        rows = [(s.id, stations.get(s.id, 0), people.get(s.id, 0), s.name) for s in list_sellers(session)]
    if not rows:
        print("no sellers yet; add one with 'inspector platform sellers add ID --name NAME'")
        return 0
    width = max(len("seller"), *(len(r[0]) for r in rows))
    print(f"{'seller':<{width}}  stations  users  name")
    for seller_id, n_stations, n_users, name in rows:
        print(f"{seller_id:<{width}}  {n_stations:>8}  {n_users:>5}  {name}")
    return 0


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data-dir", help="the platform's data directory (keys, photos)")
    p.add_argument("--database-url", help="the platform's database (default: settings)")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "platform", help="platform admin: sellers, enrolment codes, stations, revocation", description=__doc__
    )
    ps = p.add_subparsers(dest="platform_command", metavar="ACTION", required=True)
    sellers = ps.add_parser("sellers", help="the sellers (tenants) sharing this platform")
    ss = sellers.add_subparsers(dest="sellers_command", metavar="ACTION", required=True)
    add = ss.add_parser("add", help="add a seller")
    add.add_argument("seller_id", metavar="ID", help="a short slug: lower-case letters, digits, dashes")
    add.add_argument("--name", required=True, help="the name its staff see on their pages")
    _common(add)
    add.set_defaults(handler=_sellers_add)
    sl = ss.add_parser("list", help="sellers with their numbers of stations and users")
    _common(sl)
    sl.set_defaults(handler=_sellers_list)
    c = ps.add_parser("enrol-code", help="a one-time code a station enrols with (printed once)")
    c.add_argument("station_id", metavar="STATION_ID")
    c.add_argument(
        "--valid-hours", type=float, default=24.0, help="how long the code can be used (default 24)"
    )
    c.add_argument(
        "--seller", metavar="SELLER_ID", help="the seller running the station (default: the platform itself)"
    )
    _common(c)
    c.set_defaults(handler=_enrol_code)
    s = ps.add_parser("stations", help="enrolled stations, their seller, keys and last upload")
    s.add_argument("--seller", metavar="SELLER_ID", help="only this seller's stations")
    _common(s)
    s.set_defaults(handler=_stations)
    r = ps.add_parser("revoke-station", help="revoke a station's keys: its uploads are refused")
    r.add_argument("station_id", metavar="STATION_ID")
    r.add_argument("--reason", required=True)
    _common(r)
    r.set_defaults(handler=_revoke_station)
