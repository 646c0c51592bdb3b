"""Sellers from the command line: adding and listing them, and the clear refusals when a station's
code or a user names a seller that does not exist."""

from __future__ import annotations

from pathlib import Path

import pytest

from inspector.cli import main


def test_sellers_stations_and_users_from_the_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """An admin adds a seller, makes a station's code and a staff user for it; lists show both. A
    malformed or duplicate seller id, or a code or user for a seller nobody added, is refused
    saying how to find the right one, and creates nothing."""
    data = ["--data-dir", str(tmp_path)]
    assert main(["platform", "sellers", "list", *data]) == 0
    assert "no sellers yet" in capsys.readouterr().out
    assert main(["platform", "sellers", "add", "acme", "--name", "Acme Phones", *data]) == 0
    assert "added seller acme" in capsys.readouterr().out
    assert main(["platform", "sellers", "add", "acme", "--name", "Again", *data]) == 1
    assert "already exists" in capsys.readouterr().err
    assert main(["platform", "sellers", "add", "Bad Id", "--name", "X", *data]) == 1
    assert "lower-case letters" in capsys.readouterr().err

    assert main(["platform", "enrol-code", "st-9", "--seller", "nope", *data]) == 1
    assert "there is no seller 'nope'" in capsys.readouterr().err
    assert main(["platform", "enrol-code", "st-9", "--seller", "acme", *data]) == 0
    assert "station st-9 (of seller acme)" in capsys.readouterr().out

    assert main(["users", "add", "ann", "--role", "staff", "--seller", "nope", "--no-password", *data]) == 1
    assert "there is no seller 'nope'" in capsys.readouterr().err
    assert main(["users", "add", "ann", "--role", "staff", "--seller", "acme", "--no-password", *data]) == 0
    assert main(["users", "add", "root", "--role", "admin", "--no-password", *data]) == 0
    capsys.readouterr()
    assert main(["users", "list", *data]) == 0
    rows = [line.split()[:4] for line in capsys.readouterr().out.splitlines()]
    assert rows == [["ann", "staff", "active", "acme"], ["root", "admin", "active", "-"]]
    assert main(["platform", "sellers", "list", *data]) == 0
    assert capsys.readouterr().out.splitlines()[1].split() == ["acme", "0", "1", "Acme", "Phones"]
