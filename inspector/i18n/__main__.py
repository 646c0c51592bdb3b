"""``python -m inspector.i18n {update,check,compile}``: see ``inspector.i18n.build``."""

from __future__ import annotations

import argparse
import sys

from inspector.i18n.build import compile_all, conflicts, gaps, update


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m inspector.i18n",
        description="Maintain the zh-CN message catalogues of every component.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("update", help="add new messages to the .po files, drop the ones no longer used")
    sub.add_parser(
        "check",
        help="exit 1 when a message has no translation (or a fuzzy or obsolete one), or two "
        "components translate it differently",
    )
    sub.add_parser("compile", help="write the .mo files the pages read")
    args = parser.parse_args(argv)
    if args.command == "update":
        for path in update():
            print(f"updated {path}")
        return 0
    if args.command == "compile":
        written = compile_all()
        print(f"compiled {len(written)} catalogue(s)")
        return 0
    found = gaps() + conflicts()
    for gap in found:
        print(f"{gap.component} {gap.locale.tag}: {gap.problem}: {gap.msgid!r}", file=sys.stderr)
    print(f"{len(found)} message(s) need a translator" if found else "every message is translated")
    return 1 if found else 0


if __name__ == "__main__":
    raise SystemExit(main())
