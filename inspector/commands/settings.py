"""``inspector settings``: every setting with its default and meaning, as Markdown or an env file."""

from __future__ import annotations

import argparse

from inspector import settings_doc


def _show(args: argparse.Namespace) -> int:
    print(settings_doc.env_example() if args.env else settings_doc.markdown(), end="")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "settings",
        help="list every setting (environment variable) with its default and meaning",
        description="Print every setting read from the environment or inspector.env: as a Markdown table "
        "(default, the text of docs/SETTINGS.md) or, with --env, as an env file with each setting "
        "commented out at its default.",
    )
    form = p.add_mutually_exclusive_group()
    form.add_argument("--markdown", action="store_true", help="a Markdown table (default)")
    form.add_argument("--env", action="store_true", help="an env file to copy to inspector.env")
    p.set_defaults(handler=_show)
