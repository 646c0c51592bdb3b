"""The shared stdin command loop of the standalone simulators (`python -m devices.*.simulator`)."""

from __future__ import annotations

import io

import pytest

from devices.sim_runner import no_args, serve_stdin_commands


def test_commands_run_until_quit_and_the_simulator_is_stopped(capsys: pytest.CaptureFixture[str]) -> None:
    """Phrases (longest first) get their arguments; junk prints the usage; `quit` stops the simulator."""
    seen: list[object] = []
    commands = {
        "lid": lambda args: seen.append(("lid", args)),
        "lid open": no_args(lambda: seen.append("lid open")),
        "place": lambda args: seen.append(("place", int(args[0]))),
        "button": no_args(lambda: seen.append("button")),
    }
    stdin = io.StringIO("Lid  Open\n\nplace 12\nplace x\nbutton now\nfly\nbutton\nquit\nbutton\n")
    usage = "try: lid open | place <mg> | button"
    assert serve_stdin_commands(commands, usage, lambda: seen.append("stop"), stdin) == 0
    assert seen == ["lid open", ("place", 12), "button", "stop"]
    err = capsys.readouterr().err.splitlines()
    assert err == [f"unknown command {bad!r}; {usage}" for bad in ("place x", "button now", "fly")]
