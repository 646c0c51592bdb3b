"""``inspector keys``: the issuer root key and station signing keys (register, rotate, revoke, export).

Private keys stay in <data_dir>/keys (mode 0600) and are never printed; this command shows
public keys (publicKeyMultibase, ``z6Mk...``) only.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from sqlalchemy.engine import Engine

from inspector.certificates.keys import (
    SigningKeyError,
    all_keys,
    find_key,
    issuer_document,
    register_station_key,
    revoke_key,
    root_key,
    root_key_exists,
    rotate_station_key,
    station_signing_key,
)
from inspector.cli import CommandError, command_engine
from inspector.config import ServerRole, get_settings
from inspector.db import session_scope


def _engine() -> Engine:
    return command_engine(get_settings())


def _fmt(ts: object) -> str:
    return ts.strftime("%Y-%m-%d %H:%M") if hasattr(ts, "strftime") else "-"


def _init(args: argparse.Namespace) -> int:
    updates: dict[str, object] = {}
    if args.data_dir is not None:
        updates["data_dir"] = Path(args.data_dir)
    if args.database_url is not None:
        updates["database_url"] = args.database_url
    if args.role is not None:
        updates["role"] = ServerRole(args.role)
    settings = get_settings().model_copy(update=updates)
    existed = root_key_exists(settings)
    try:
        with session_scope(
            command_engine(settings, platform=settings.role is ServerRole.PLATFORM)
        ) as session:
            root, _ = root_key(session, settings, create=True)
            print(f"issuer root key   {root.fingerprint}" + ("" if existed else "  (new: back up keys/ now)"))
            if settings.role is ServerRole.STATION:  # a platform signs nothing but keys, lists and log heads
                station, _ = station_signing_key(session, settings, args.station or settings.station_id)
                print(f"station {station.station_id!s:<10} {station.fingerprint}")
    except SigningKeyError as exc:
        raise CommandError(str(exc)) from exc
    print(f"keys in {(settings.data_dir / 'keys').resolve()} (0600; never printed or served)")
    return 0


def _list(args: argparse.Namespace) -> int:
    with session_scope(_engine()) as session:
        rows = all_keys(session)
        if not rows:
            print("no keys yet; run 'inspector keys init'")
        for r in rows:
            state = "revoked" if r.revoked_at else ("retired" if r.retired_at else "active")
            when = _fmt(r.revoked_at or r.retired_at or r.created_at)
            print(f"{r.role:<8} {r.station_id or '-':<14} {state:<8} {when}  {r.fingerprint}")
            if r.revoke_reason:
                print(f"{'':<33}reason: {r.revoke_reason}")
    return 0


def _register(args: argparse.Namespace) -> int:
    settings = get_settings()
    try:
        with session_scope(_engine()) as session:
            row = register_station_key(session, settings, args.station, args.public_key)
            fingerprint, station = row.fingerprint, row.station_id  # read before the commit expires row
    except SigningKeyError as exc:
        raise CommandError(str(exc)) from exc
    print(f"registered and certified key {fingerprint} for station {station}")
    return 0


def _rotate(args: argparse.Namespace) -> int:
    settings = get_settings()
    try:
        with session_scope(_engine()) as session:
            row = rotate_station_key(session, settings, args.station)
            fingerprint, station = row.fingerprint, row.station_id  # read before the commit expires row
    except SigningKeyError as exc:
        raise CommandError(str(exc)) from exc
    print(f"station {station} now signs with {fingerprint}; the previous key is retired")
    return 0


def _revoke(args: argparse.Namespace) -> int:
    """Revoke a key; a retry (e.g. after a lost connection) reports the earlier revocation, exit 0."""
    try:
        with session_scope(_engine()) as session:
            earlier = find_key(session, args.fingerprint)
            if earlier is not None and earlier.revoked_at is not None:
                print(
                    f"key {earlier.fingerprint} (station {earlier.station_id}) was already revoked on "
                    f"{_fmt(earlier.revoked_at)} UTC ({earlier.revoke_reason}); nothing changed"
                )
                return 0
            row = revoke_key(session, args.fingerprint, args.reason)
            fingerprint, station = row.fingerprint, row.station_id  # read before the commit expires row
    except SigningKeyError as exc:
        raise CommandError(str(exc)) from exc
    print(f"revoked {fingerprint} (station {station}); certificates it signed now show 'key revoked'")
    return 0


def _export(args: argparse.Namespace) -> int:
    settings = get_settings()
    with session_scope(_engine()) as session:
        doc = issuer_document(session, settings)
    text = json.dumps(doc, indent=2)
    if args.output:
        try:
            Path(args.output).write_text(text + "\n", encoding="utf-8")
        except OSError as exc:
            raise CommandError(f"cannot write the issuer key document: {exc.strerror}") from exc
        print(f"wrote issuer key document to {args.output}")
    else:
        print(text)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("keys", help="issuer and station signing keys", description=__doc__)
    ks = p.add_subparsers(dest="keys_command", metavar="ACTION", required=True)
    i = ks.add_parser(
        "init",
        help="create the issuer root key (and a station's own key) if missing",
        description="Create the issuer root key in <data_dir>/keys, once, before a platform first starts "
        "(it refuses to start without one) and on a stand-alone station (which also makes one when it signs "
        "its first certificate). On a station it also makes the station's signing key. Back up keys/ then.",
    )
    i.add_argument("--station", help="station id (default: the configured station_id)")
    i.add_argument("--role", choices=[r.value for r in ServerRole], help="default: INSPECTOR_ROLE (station)")
    i.add_argument("--data-dir", help="data directory (default: settings, ./var)")
    i.add_argument("--database-url", help="database (default: settings)")
    i.set_defaults(handler=_init)
    ks.add_parser("list", help="all keys with their status").set_defaults(handler=_list)
    r = ks.add_parser("register", help="register and certify a new key for a station (retires its old key)")
    r.add_argument("station")
    r.add_argument(
        "--public-key", metavar="z6Mk...", help="public key of a remote station (else generated here)"
    )
    r.set_defaults(handler=_register)
    ro = ks.add_parser("rotate", help="replace a station's key; certificates signed before stay valid")
    ro.add_argument("station")
    ro.set_defaults(handler=_rotate)
    rv = ks.add_parser("revoke", help="revoke a compromised key: all certificates it signed become untrusted")
    rv.add_argument("fingerprint", metavar="z6Mk...")
    rv.add_argument("--reason", required=True)
    rv.set_defaults(handler=_revoke)
    e = ks.add_parser("export", help="print/save the signed issuer key document for offline verification")
    e.add_argument("-o", "--output", metavar="FILE")
    e.set_defaults(handler=_export)
