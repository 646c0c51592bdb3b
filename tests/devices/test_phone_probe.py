"""The phone probe over direct ADB-over-TCP (adb-shell, no adb binary) against the simulated phone."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from devices.phone import (
    AdbTcpTransport,
    AdbTransport,
    PhoneDisconnected,
    PhoneFaults,
    PhoneNotFound,
    PhoneSimulator,
    PhoneUnauthorized,
    get_profile,
)
from devices.phone.probe import PhoneReport, probe_phone

TIMEOUT = 3.0


def _transport(phone: PhoneSimulator, timeout: float = TIMEOUT) -> AdbTcpTransport:
    return AdbTcpTransport(phone.host, phone.port, timeout=timeout)


def test_tcp_transport_satisfies_protocol(phone: PhoneSimulator) -> None:
    """Both transports are interchangeable behind AdbTransport; shell returns output and exit status."""
    t = _transport(phone)
    assert isinstance(t, AdbTransport)
    assert t.shell("getprop ro.product.model").strip() == "SM-G991B"
    res = t.run("cat /no/such/file")
    assert res.exit_code == 1 and "No such file" in res.output
    assert [e.serial for e in t.list_devices()] == [phone.address]
    t.close()


def test_probe_galaxy_s21_reports_profile_values(phone: PhoneSimulator) -> None:
    """A healthy dual-SIM Samsung: identity, both IMEIs, battery, storage, FRP and lock signs."""
    r = probe_phone(_transport(phone))
    assert (r.model.value, r.brand.value, r.manufacturer.value) == ("SM-G991B", "samsung", "samsung")
    assert r.android_version.value == "14" and r.sdk.value == 34
    assert r.imeis.value == phone.profile.imeis and r.imeis.source and "iphonesubinfo" in r.imeis.source
    assert r.battery_level_pct.value == 87 and r.battery_health.value == "good"
    assert r.battery_temperature_dc.value == 284 and r.battery_voltage_mv.value == 4205
    assert r.battery_cycle_count.value == 314
    assert r.battery_cycle_count.source == "cat /sys/class/power_supply/battery/battery_cycle"
    assert r.storage_total_bytes.value == 110632308 * 1024
    assert r.storage_free_bytes.value == 87043224 * 1024
    assert r.bootloader_locked.value is True and r.verified_boot_state.value == "green"
    assert r.rooted.value is False and r.knox_warranty_void.value is False
    assert r.google_accounts.value == 1 and r.frp_locked.value is True
    assert r.screen_lock_set.value is True and r.screen_lock.value == "pin"
    assert any("factory reset protection" in w for w in r.warnings)


@pytest.mark.parametrize("phone", ["pixel-6"], indirect=True)
def test_probe_pixel_reports_battery_wear(phone: PhoneSimulator) -> None:
    """Battery wear comes from charge_full / charge_full_design; cycle count from sysfs."""
    r = probe_phone(_transport(phone))
    assert r.model.value == "Pixel 6" and r.imeis.value == phone.profile.imeis
    assert r.battery_cycle_count.value == 412
    assert r.battery_capacity_pct.value == 3790000 * 100 // 4614000
    assert r.frp_locked.value is False and r.screen_lock_set.value is False
    assert r.knox_warranty_void.value is None and r.knox_warranty_void.unknown == "not a Samsung phone"


@pytest.mark.parametrize("phone", ["old-rooted"], indirect=True)
def test_old_rooted_phone_unknown_imei_stays_unknown(phone: PhoneSimulator) -> None:
    """An IMEI the phone refuses to give is unknown (with the phone's reason), never guessed;
    root, unlocked bootloader and Knox are flagged."""
    r = probe_phone(_transport(phone))
    assert r.imeis.value is None
    assert r.imeis.unknown is not None and "does not meet the requirements" in r.imeis.unknown
    assert r.rooted.value is True and r.su_binary.value == "/system/xbin/su"
    assert r.root_packages.value == ["com.topjohnwu.magisk"]
    assert r.bootloader_locked.value is False and r.knox_warranty_void.value is True
    assert r.battery_cycle_count.value is None and r.battery_cycle_count.unknown
    assert r.battery_health.value == "overheat"
    assert r.screen_lock_set.value is None  # Android 6 does not report the lock type
    # toolbox df rounds sizes: reported, but flagged as rounded in the provenance
    assert r.storage_total_bytes.source is not None and "rounded" in r.storage_total_bytes.source
    assert any("IMEI unknown" in w for w in r.warnings)


def test_imei_failing_luhn_is_unknown() -> None:
    """A 15-digit answer with a wrong check digit is not reported as an IMEI."""
    profile = get_profile("pixel-6")
    profile.imeis = ["356740119876540"]  # check digit should be 9
    with PhoneSimulator(profile) as phone:
        r = probe_phone(_transport(phone))
    assert r.imeis.value is None
    assert r.imeis.unknown is not None and "Luhn" in r.imeis.unknown


def test_imei_from_dumpsys_on_old_android() -> None:
    """When service call is refused, the Android 4/5-era `dumpsys iphonesubinfo` Device ID is used."""
    profile = get_profile("old-rooted")
    profile.imeis = ["490154203237518"]
    profile.imei_dumpsys = True
    with PhoneSimulator(profile) as phone:
        r = probe_phone(_transport(phone))
    assert r.imeis.value == ["490154203237518"] and r.imeis.source == "dumpsys iphonesubinfo"


def test_report_is_json_serialisable_and_round_trips(phone: PhoneSimulator) -> None:
    """The report goes into certificates: plain JSON, integers for measured values, lossless."""
    r = probe_phone(_transport(phone))
    text = r.to_json()
    data = json.loads(text)
    assert data["model"] == {"value": "SM-G991B", "source": "getprop ro.product.model"}
    assert isinstance(data["battery_voltage_mv"]["value"], int)
    assert PhoneReport.from_dict(data).to_dict() == r.to_dict()


def test_unplug_mid_probe_raises_and_replug_reconnects(phone: PhoneSimulator) -> None:
    """A cable pulled mid-command raises PhoneDisconnected (not a hang, not a short answer);
    after replug a new connection probes fine."""
    t = _transport(phone)
    phone.faults.unplug_on = "df /data"
    with pytest.raises(PhoneDisconnected):
        probe_phone(t)
    with pytest.raises(PhoneNotFound):
        _transport(phone)  # unplugged: nothing listens
    phone.faults.unplug_on = None
    phone.replug()
    assert probe_phone(_transport(phone)).model.value == "SM-G991B"


def test_phone_that_stops_answering_raises_within_timeout(phone: PhoneSimulator) -> None:
    """A phone that hangs mid-command (connection still open) raises PhoneDisconnected after the timeout."""
    t = _transport(phone, timeout=0.5)
    phone.faults.stall_on = "dumpsys battery"
    with pytest.raises(PhoneDisconnected, match="did not answer"):
        probe_phone(t)


def test_slow_phone_within_timeout_still_probes(phone: PhoneSimulator) -> None:
    """A delay shorter than the timeout only slows the probe down."""
    phone.faults.delay_s = 0.02
    assert probe_phone(_transport(phone)).imeis.value == phone.profile.imeis


def test_unauthorized_phone_raises_clear_error() -> None:
    """A phone demanding a key the station does not have raises PhoneUnauthorized."""
    with (
        PhoneSimulator("pixel-6", faults=PhoneFaults(unauthorized=True)) as phone,
        pytest.raises(PhoneUnauthorized, match="authorized ADB key"),
    ):
        _transport(phone)


def test_nothing_listening_is_not_found() -> None:
    """An address with no phone raises PhoneNotFound."""
    phone = PhoneSimulator("pixel-6")
    host, port = phone.start()
    phone.stop()
    with pytest.raises(PhoneNotFound):
        AdbTcpTransport(host, port, timeout=TIMEOUT)


def test_large_output_over_tcp_transport() -> None:
    """Output larger than one ADB packet arrives complete through adb-shell as well."""
    profile = get_profile("pixel-6")
    big = "x" * 1_500_000 + "\n"
    profile.files["/sdcard/big.txt"] = big
    with PhoneSimulator(profile) as phone:
        assert _transport(phone, timeout=10).shell("cat /sdcard/big.txt") == big


def test_standalone_simulator_process(tmp_path: Path) -> None:
    """`python -m devices.phone.simulator` serves a JSON profile file until terminated."""
    profile = get_profile("pixel-6")
    profile.props["ro.product.model"] = "Pixel 6 (from file)"
    path = tmp_path / "phone.json"
    path.write_text(json.dumps(profile.to_dict()))
    proc = subprocess.Popen(
        [sys.executable, "-m", "devices.phone.simulator", "--port", "0", "--profile-file", str(path)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert "listening on" in line
        host, port = line.rsplit(" ", 1)[1].strip().rsplit(":", 1)
        t = AdbTcpTransport(host, int(port), timeout=TIMEOUT)
        assert t.shell("getprop ro.product.model").strip() == "Pixel 6 (from file)"
        t.close()
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_probe_command_line_prints_json_report(phone: PhoneSimulator) -> None:
    """`python -m devices.phone probe --tcp HOST:PORT` prints the report; a dead address is a clear error."""
    out = subprocess.run(
        [sys.executable, "-m", "devices.phone", "probe", "--tcp", phone.address, "--timeout", "5"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["imeis"]["value"] == phone.profile.imeis
    phone.unplug()
    bad = subprocess.run(
        [sys.executable, "-m", "devices.phone", "probe", "--tcp", phone.address],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode == 2 and bad.stderr.startswith("error: nothing listens")


def test_garbage_on_the_port_does_not_kill_the_phone(phone: PhoneSimulator) -> None:
    """A peer sending junk is disconnected; the simulated phone keeps serving real clients."""
    with socket.create_connection((phone.host, phone.port), timeout=TIMEOUT) as junk:
        junk.sendall(b"GET / HTTP/1.1\r\nHost: phone\r\n\r\n" + bytes(range(256)))
        junk.settimeout(TIMEOUT)
        assert junk.recv(100) == b""  # the phone hung up on it
    assert _transport(phone).shell("getprop ro.product.model").strip() == "SM-G991B"
