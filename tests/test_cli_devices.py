"""`inspector devices`: the operator sees what is connected and who each device says it is."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from inspector.cli import main


def test_devices_simulate_json_lists_all_four(capsys: pytest.CaptureFixture[str]) -> None:
    """`inspector devices --simulate --json` lists rig, balance, phone and camera with identities."""
    assert main(["devices", "--simulate", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["mode"] == "simulated"
    devs = {d["kind"]: d for d in doc["devices"]}
    assert set(devs) == {"rig", "scale", "phone", "camera"}
    assert all(d["status"] == "ok" and d["simulated"] for d in devs.values())
    assert devs["rig"]["identity"]["model"] == "RIG-SIM"
    assert devs["rig"]["identity"]["firmware"] == "1.0.0"
    assert devs["scale"]["identity"]["serial"] == "B947023614"
    assert devs["phone"]["identity"]["serial"] == "1A2B3C4D5E6F7G"
    assert devs["phone"]["identity"]["imei"] == ["***********6549"]
    assert "356740119876549" not in json.dumps(doc)
    assert devs["camera"]["identity"]["width"] == 1280


def test_devices_simulate_table(capsys: pytest.CaptureFixture[str]) -> None:
    """The default output is a readable table, one device per line (the top and the side camera)."""
    assert main(["devices", "--simulate"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["KIND", "STATUS", "ADDRESS", "IDENTITY"]
    kinds = [line.split()[0] for line in out[1:]]
    assert kinds == ["rig", "scale", "phone", "camera", "camera"]
    assert [line.split()[3] for line in out[4:]] == ["sim://station-camera", "sim://station-side-camera"]
    assert "IMEI ***********6549" in "\n".join(out)


def test_devices_nothing_connected(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """With no hardware the command says so and how to proceed, instead of printing an empty table."""
    import devices.discovery as discovery

    monkeypatch.setattr(discovery, "list_serial_ports", lambda: [])
    monkeypatch.delenv("INSPECTOR_RIG_PORT", raising=False)
    monkeypatch.delenv("INSPECTOR_SCALE_PORT", raising=False)
    from inspector.config import get_settings

    get_settings.cache_clear()
    assert main(["devices", "--no-adb", "--no-camera"]) == 0
    out = capsys.readouterr().out
    assert "No station devices found" in out and "--simulate" in out
    assert main(["devices", "--no-adb", "--no-camera", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"mode": "hardware", "devices": []}


def test_devices_help_mentions_simulate(capsys: pytest.CaptureFixture[str]) -> None:
    """`inspector devices --help` explains the command and its options."""
    with pytest.raises(SystemExit):
        main(["devices", "--help"])
    out = capsys.readouterr().out
    assert "--simulate" in out and "--json" in out


@pytest.mark.skipif(__import__("shutil").which("adb") is None, reason="Debian package `adb` is not installed")
def test_devices_hardware_path_finds_configured_ports_and_adb_phone(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Without --simulate the command uses the hardware path: configured serial ports are
    identified and phones come from the adb server (a private one here, with the simulated
    phone attached through `adb connect`)."""
    import socket
    import subprocess

    from devices.simulated_station import SimulatedStation
    from inspector.config import get_settings

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        adb_port = s.getsockname()[1]
    monkeypatch.setenv("HOME", str(tmp_path))  # adb writes its key under $HOME/.android
    monkeypatch.setenv("ANDROID_ADB_SERVER_PORT", str(adb_port))
    try:
        with SimulatedStation(camera=False) as station:
            assert "connected" in station.attach_phone_to_adb(port=adb_port)
            monkeypatch.setenv("INSPECTOR_RIG_PORT", station.rig_port or "")
            monkeypatch.setenv("INSPECTOR_SCALE_PORT", station.scale_port or "")
            get_settings.cache_clear()
            assert main(["devices", "--no-camera", "--json"]) == 0
        doc = json.loads(capsys.readouterr().out)
    finally:
        get_settings.cache_clear()
        subprocess.run(
            ["adb", "-P", str(adb_port), "kill-server"],
            capture_output=True,
            timeout=30,
            stdin=subprocess.DEVNULL,
        )
    devs = {d["kind"]: d for d in doc["devices"] if d["status"] == "ok"}
    assert doc["mode"] == "hardware"
    assert devs["rig"]["identity"]["model"] == "RIG-SIM"
    assert devs["scale"]["identity"]["model"] == "XS205DU"
    assert devs["phone"]["identity"]["imei"] == ["***********6549"]
    assert not any(d["simulated"] for d in doc["devices"])
