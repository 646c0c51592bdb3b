"""Running a simulator as a standalone process (``python -m devices.<kind>.simulator``).

Demos and manual tests start a simulator in a terminal or in the background; every simulator
should then behave alike: stdin lines poke the device, ``quit`` or Ctrl-C ends it, and a closed
stdin (started with ``&``) keeps it serving until killed. The simulator is always stopped, so
its pty, symlink or listening socket does not outlive the process.
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from typing import TextIO

Command = Callable[[list[str]], None]
"""Handles the words after the command phrase; raises ValueError when they are wrong."""


def no_args(action: Callable[[], None]) -> Command:
    """A command that takes no words after its phrase."""

    def run(args: list[str]) -> None:
        if args:
            raise ValueError("takes no arguments")
        action()

    return run


def serve_until_interrupted(stop: Callable[[], None]) -> int:
    """Block until Ctrl-C or SIGINT, then ``stop()``."""
    with _stopped_at_exit(stop):
        _sleep_forever()
    return 0


def serve_stdin_commands(
    commands: Mapping[str, Command],
    usage: str,
    stop: Callable[[], None],
    stdin: TextIO | None = None,
) -> int:
    """Run stdin lines as ``commands`` (phrases of one or more lowercase words) until ``quit``.

    Unknown or malformed lines print ``usage`` to stderr and are otherwise ignored.
    """
    with _stopped_at_exit(stop):
        for line in sys.stdin if stdin is None else stdin:
            words = line.lower().split()
            if not words:
                continue
            if words[0] in ("quit", "exit"):
                return 0
            if not _run_line(commands, words):
                print(f"unknown command {line.strip()!r}; {usage}", file=sys.stderr)
        # stdin closed (e.g. started in the background): keep serving until interrupted
        _sleep_forever()
    return 0


@contextlib.contextmanager
def _stopped_at_exit(stop: Callable[[], None]) -> Iterator[None]:
    """Ctrl-C is the normal way out, not an error; whatever the way out, the simulator stops."""
    try:
        yield
    except KeyboardInterrupt:
        pass
    finally:
        stop()


def _run_line(commands: Mapping[str, Command], words: list[str]) -> bool:
    for n in range(len(words), 0, -1):  # longest phrase first: "lid open" before "lid"
        command = commands.get(" ".join(words[:n]))
        if command is not None:
            try:
                command(words[n:])
            except ValueError:
                return False
            return True
    return False


def _sleep_forever() -> None:
    while True:
        time.sleep(3600)
