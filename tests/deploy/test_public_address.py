"""A station on real hardware never signs certificates with an address only its own computer opens."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from inspector.config import Settings
from inspector.public_address import LocalPublicAddress, unreachable_reason
from inspector.station.runtime import RunningStation


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000",
        "http://localhost:8000",
        "http://[::1]/",
        "http://0.0.0.0:8000",
        "https://app.localhost",
        "ftp://verify.example.com",
        "http://",
    ],
)
def test_addresses_only_this_computer_opens_are_named(url: str) -> None:
    """Loopback, localhost, unspecified and non-http addresses each get a reason."""
    assert unreachable_reason(url)


@pytest.mark.parametrize(
    "url", ["https://verify.example.com", "http://192.168.1.20:8000", "http://[2001:db8::1]"]
)
def test_addresses_others_can_open_pass(url: str) -> None:
    """A DNS name or a LAN/public IP is accepted (whether it resolves is the operator's job)."""
    assert unreachable_reason(url) is None


def test_real_hardware_with_a_loopback_address_does_not_start(tmp_path: Path) -> None:
    """The refusal comes before any device is opened, names the setting to change, and leaves the port
    free for the next try."""
    settings = Settings(data_dir=tmp_path, simulate=False, public_base_url="http://127.0.0.1:8000")
    station = RunningStation(settings, port=0)
    with pytest.raises(LocalPublicAddress, match="INSPECTOR_PUBLIC_BASE_URL"):
        station.start()
    assert station.hardware is None
    assert station._socket is None or station._socket.fileno() == -1


def test_serve_real_explains_the_refusal(tmp_path: Path) -> None:
    """`inspector serve --real` exits 1 with the reason, not a traceback."""
    env = {"INSPECTOR_DATA_DIR": str(tmp_path), "INSPECTOR_PUBLIC_BASE_URL": "http://0.0.0.0:8000"}
    done = subprocess.run(
        [sys.executable, "-m", "inspector", "serve", "--real", "--port", "0"],
        env={**{k: v for k, v in os.environ.items() if not k.startswith("INSPECTOR_")}, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1, done.stderr
    assert "buyers cannot open" in done.stderr and "Traceback" not in done.stderr
