"""`inspector devices`: the operator sees what is connected and who each device says it is."""

from __future__ import annotations

import json

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
    """The default output is a readable table, one device per line."""
    assert main(["devices", "--simulate"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["KIND", "STATUS", "ADDRESS", "IDENTITY"]
    kinds = [line.split()[0] for line in out[1:]]
    assert kinds == ["rig", "scale", "phone", "camera"]
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
