"""``inspector users``: create operators, staff, supervisors and admins; issue API tokens."""

from __future__ import annotations

import argparse
import getpass

from sqlalchemy.engine import Engine

from inspector.auth import AuthError, Role, create_user, get_user, issue_token
from inspector.cli import CommandError
from inspector.config import get_settings
from inspector.db import open_database, session_scope


def _engine() -> Engine:
    return open_database(get_settings())


def _add(args: argparse.Namespace) -> int:
    password = args.password
    if password is None and not args.no_password:
        password = getpass.getpass(f"password for {args.username}: ")
    try:
        with session_scope(_engine()) as session:
            create_user(session, args.username, args.role, password or "", args.display_name or "")
    except AuthError as exc:
        raise CommandError(str(exc)) from exc
    print(f"created {args.role} {args.username!r}")
    return 0


def _token(args: argparse.Namespace) -> int:
    with session_scope(_engine()) as session:
        user = get_user(session, args.username)
        if user is None:
            raise CommandError(f"no user {args.username!r}; create it with 'inspector users add'")
        token = issue_token(session, user, name=args.name)
    print(token)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("users", help="manage people who sign in (operators, staff, supervisors)")
    usub = p.add_subparsers(dest="users_command", metavar="ACTION", required=True)
    add = usub.add_parser("add", help="create a user")
    add.add_argument("username")
    add.add_argument("--role", required=True, choices=[r.value for r in Role])
    add.add_argument("--display-name")
    add.add_argument("--password", help="password (prompted when omitted)")
    add.add_argument("--no-password", action="store_true", help="token-only user (e.g. a station)")
    add.set_defaults(handler=_add)
    tok = usub.add_parser("token", help="issue an API token for a user (printed once)")
    tok.add_argument("username")
    tok.add_argument("--name", default="cli", help="label to recognise the token by")
    tok.set_defaults(handler=_token)
