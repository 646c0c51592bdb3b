"""The ``inspector`` command line.

Each sub-command lives in its own module under ``inspector.commands`` and exposes
``register(subparsers)``; this module only discovers and dispatches them, so adding
a command never touches a shared file.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from collections.abc import Sequence

from sqlalchemy.engine import Engine

from inspector import __version__, commands
from inspector.config import ServerRole, Settings
from inspector.db import DatabaseUnavailable, open_database
from inspector.eventbus import record_events


class CommandError(Exception):
    """A failure the user can act on; printed without a traceback."""


def command_engine(settings: Settings, *, platform: bool = False) -> Engine:
    """A command's database, migrated first; on the platform (or for ``platform=True`` commands)
    it records events, so running workers show staff what the command changed."""
    engine = open_database(settings)
    if platform or settings.role is ServerRole.PLATFORM:
        record_events(engine)
    return engine


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="inspector",
        description="Second-hand goods inspection station: devices, grading, certificates, warranty.",
    )
    parser.add_argument("--version", action="version", version=f"inspector {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{commands.__name__}.{info.name}")
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 2
    try:
        result = handler(args)
    except (CommandError, DatabaseUnavailable) as exc:
        print(f"inspector: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("inspector: interrupted", file=sys.stderr)
        return 130
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main())
