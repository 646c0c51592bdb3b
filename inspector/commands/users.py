"""``inspector users``: people who sign in (operators, staff, supervisors, admins) and their tokens."""

from __future__ import annotations

import argparse
import getpass
import secrets
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session

from inspector.auth import AuthError, Role, User, create_user, get_user, issue_token
from inspector.auth.service import list_users, revoke_user_tokens, set_disabled, set_password
from inspector.cli import CommandError
from inspector.config import get_settings
from inspector.db import open_database, session_scope


def _engine(args: argparse.Namespace) -> Engine:
    settings = get_settings()
    updates: dict[str, object] = {}
    if args.data_dir is not None:
        updates["data_dir"] = Path(args.data_dir)
    if args.database_url is not None:
        updates["database_url"] = args.database_url
    return open_database(settings.model_copy(update=updates))


def _user(session: Session, username: str) -> User:
    user = get_user(session, username)
    if user is None:
        raise CommandError(f"no user {username!r}; 'inspector users list' shows who exists")
    return user


def _add(args: argparse.Namespace) -> int:
    password = args.password
    if password is None and not args.no_password:
        password = getpass.getpass(f"password for {args.username}: ")
    try:
        with session_scope(_engine(args)) as session:
            create_user(
                session, args.username, args.role, password or "", args.display_name or "", args.seller
            )
    except AuthError as exc:
        raise CommandError(str(exc)) from exc
    print(f"created {args.role} {args.username!r}" + (f" of seller {args.seller}" if args.seller else ""))
    return 0


def _token(args: argparse.Namespace) -> int:
    with session_scope(_engine(args)) as session:
        token = issue_token(session, _user(session, args.username), name=args.name)
    print(token)
    return 0


def _list(args: argparse.Namespace) -> int:
    with session_scope(_engine(args)) as session:
        users = list_users(session)
        rows = [
            (u.username, u.role, "disabled" if u.disabled else "active", u.seller_id or "-", u.display_name)
            for u in users
        ]
    if not rows:
        print("no users yet; create one with 'inspector users add NAME --role ROLE'")
        return 0
    width = max(len(r[0]) for r in rows)
    seller_width = max(len(r[3]) for r in rows)  # "-": the platform's own (no seller)
    for name, role, state, seller, display in rows:
        print(f"{name:<{width}}  {role:<10}  {state:<8}  {seller:<{seller_width}}  {display}")
    return 0


def _passwd(args: argparse.Namespace) -> int:
    generated = args.generate
    if generated:
        password = secrets.token_urlsafe(12)
    elif args.password is not None:
        password = args.password
    else:
        password = getpass.getpass(f"new password for {args.username}: ")
    try:
        with session_scope(_engine(args)) as session:
            set_password(session, _user(session, args.username), password)
    except AuthError as exc:
        raise CommandError(str(exc)) from exc
    print(f"password of {args.username!r} changed; their browser sessions were signed out")
    if generated:
        print(f"new password: {password}")
    return 0


def _disable(args: argparse.Namespace, disabled: bool) -> int:
    with session_scope(_engine(args)) as session:
        set_disabled(session, _user(session, args.username), disabled)
    print(f"{args.username!r} {'disabled: cannot sign in, tokens refused' if disabled else 'enabled'}")
    return 0


def _revoke_token(args: argparse.Namespace) -> int:
    with session_scope(_engine(args)) as session:
        count = revoke_user_tokens(session, _user(session, args.username), name=args.name)
    which = f" named {args.name!r}" if args.name else ""
    print(f"revoked {count} token(s){which} of {args.username!r}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--data-dir", help="the station's data directory (default: settings, ./var)")
    common.add_argument("--database-url", help="SQLAlchemy URL (default: SQLite file in the data dir)")
    p = sub.add_parser("users", help="manage people who sign in (operators, staff, supervisors)")
    usub = p.add_subparsers(dest="users_command", metavar="ACTION", required=True)
    add = usub.add_parser("add", parents=[common], help="create a user")
    add.add_argument("username")
    add.add_argument("--role", required=True, choices=[r.value for r in Role])
    add.add_argument("--display-name")
    add.add_argument("--password", help="password (prompted when omitted)")
    add.add_argument("--no-password", action="store_true", help="token-only user (e.g. a station)")
    add.add_argument(
        "--seller",
        metavar="SELLER_ID",
        help="on a platform: the seller they work for (they see its stations' data only)",
    )
    add.set_defaults(handler=_add)
    lst = usub.add_parser("list", parents=[common], help="list users, roles and states")
    lst.set_defaults(handler=_list)
    pw = usub.add_parser(
        "passwd",
        aliases=["reset-password"],
        parents=[common],
        help="set a new password (signs the user's browsers out)",
    )
    pw.add_argument("username")
    group = pw.add_mutually_exclusive_group()
    group.add_argument("--password", help="the new password (prompted when omitted)")
    group.add_argument("--generate", action="store_true", help="make a random password and print it once")
    pw.set_defaults(handler=_passwd)
    dis = usub.add_parser("disable", parents=[common], help="stop a user signing in; tokens stop too")
    dis.add_argument("username")
    dis.set_defaults(handler=lambda a: _disable(a, True))
    ena = usub.add_parser("enable", parents=[common], help="let a disabled user sign in again")
    ena.add_argument("username")
    ena.set_defaults(handler=lambda a: _disable(a, False))
    tok = usub.add_parser("token", parents=[common], help="issue an API token for a user (printed once)")
    tok.add_argument("username")
    tok.add_argument("--name", default="cli", help="label to recognise the token by")
    tok.set_defaults(handler=_token)
    rev = usub.add_parser("revoke-token", parents=[common], help="revoke a user's tokens (all, or by label)")
    rev.add_argument("username")
    rev.add_argument("--name", help="only tokens with this label")
    rev.set_defaults(handler=_revoke_token)
