"""The deployment files in docs/ say what the code does: every setting, and units that start it."""

from __future__ import annotations

import configparser
import os
import shlex
from pathlib import Path

import pytest

from inspector import settings_doc
from inspector.cli import build_parser
from inspector.config import Settings

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_settings_reference_and_env_example_are_current() -> None:
    """docs/SETTINGS.md and the example env file are what `inspector settings` prints today, so a
    setting added without regenerating them fails here (run `inspector settings [--env]`)."""
    assert (DOCS / "SETTINGS.md").read_text() == settings_doc.markdown()
    assert (DOCS / "deploy" / "inspector.env.example").read_text() == settings_doc.env_example()


def test_every_setting_has_a_description() -> None:
    """An operator reading the reference never meets a setting without a word on what it does."""
    assert [n for n, f in Settings.model_fields.items() if not f.description] == []


def test_the_env_example_round_trips_to_the_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Uncommenting every line of the example changes nothing: its values are the real defaults."""
    lines = [line[1:] for line in settings_doc.env_example().splitlines() if line.startswith("#INSPECTOR_")]
    env_file = tmp_path / "inspector.env"
    env_file.write_text("\n".join(line for line in lines if not line.endswith("=")) + "\n")
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.startswith("INSPECTOR_"):
            monkeypatch.delenv(name)
    assert Settings().model_dump() == Settings(_env_file=None).model_dump()


@pytest.mark.parametrize(
    ("unit", "groups"),
    [("inspector-station.service", {"dialout", "plugdev", "video"}), ("inspector-platform.service", set())],
)
def test_systemd_units_start_a_command_that_exists(unit: str, groups: set[str]) -> None:
    """The unit's ExecStart parses with today's command line, restarts on failure, reads the env file,
    and a station's unit may open serial ports, USB phones and cameras."""
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(DOCS / "deploy" / unit)
    service = parser["Service"]
    argv = shlex.split(service["ExecStart"])
    assert argv[0].endswith("/inspector")
    args = build_parser().parse_args(argv[1:])
    assert args.handler is not None
    assert service["Restart"] == "on-failure"
    assert service["EnvironmentFile"] == "/etc/inspector/inspector.env"
    assert groups <= set(service.get("SupplementaryGroups", "").split())
    assert parser["Install"]["WantedBy"] == "multi-user.target"
