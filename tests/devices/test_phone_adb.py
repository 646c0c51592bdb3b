"""The simulated phone against the real Debian `adb` host, and the probe through the adb server.

Each module run starts a private adb server on a free port with HOME in a temp dir (so adb's
key generation never touches the user's home) and kills it at the end.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from devices.phone import (
    AdbServerTransport,
    DisplayState,
    PhoneDisconnected,
    PhoneFaults,
    PhoneNotFound,
    PhoneSimulator,
    PhoneUnauthorized,
    adb_connect,
    list_adb_devices,
    read_display,
    screen_off,
    screen_on,
)
from devices.phone.probe import probe_phone

pytestmark = pytest.mark.skipif(shutil.which("adb") is None, reason="Debian package `adb` is not installed")

TIMEOUT = 5.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class AdbServer:
    port: int
    env: dict[str, str]

    def adb(self, *args: str, timeout: float = 20.0) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["adb", "-P", str(self.port), *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )


@pytest.fixture(scope="module")
def adb_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AdbServer]:
    home = tmp_path_factory.mktemp("adb-home")
    port = _free_port()
    env = {**os.environ, "HOME": str(home), "ANDROID_ADB_SERVER_PORT": str(port)}
    server = AdbServer(port, env)
    started = server.adb("start-server", timeout=30)
    assert started.returncode == 0, started.stderr
    try:
        yield server
    finally:
        server.adb("kill-server", timeout=30)


def _connect(server: AdbServer, sim: PhoneSimulator) -> None:
    out = adb_connect(sim.address, port=server.port, timeout=TIMEOUT)
    assert "connected" in out, out


def test_real_adb_lists_and_queries_simulated_phone(adb_server: AdbServer, phone: PhoneSimulator) -> None:
    """`adb connect`, `adb devices -l` and `adb shell` (shell protocol v2) work on the simulated phone."""
    res = adb_server.adb("connect", phone.address)
    assert f"connected to {phone.address}" in res.stdout
    listing = adb_server.adb("devices", "-l").stdout
    line = next(ln for ln in listing.splitlines() if ln.startswith(phone.address))
    assert " device " in line and "model:SM_G991B" in line and "device:o1s" in line
    model = adb_server.adb("-s", phone.address, "shell", "getprop", "ro.product.model")
    assert model.returncode == 0 and model.stdout.strip() == "SM-G991B"
    battery = adb_server.adb("-s", phone.address, "shell", "dumpsys", "battery").stdout
    assert "level: 87" in battery
    missing = adb_server.adb("-s", phone.address, "shell", "cat", "/no/such/file")
    assert missing.returncode == 1  # exit status travels in the v2 exit packet
    assert "No such file" in missing.stderr


@pytest.mark.parametrize("phone", ["old-rooted"], indirect=True)
def test_real_adb_uses_shell_v1_on_old_android(adb_server: AdbServer, phone: PhoneSimulator) -> None:
    """An Android 6 phone has no shell v2: the real host falls back to the v1 `shell:` service."""
    _connect(adb_server, phone)
    out = adb_server.adb("-s", phone.address, "shell", "getprop", "ro.build.version.release")
    assert out.stdout.strip() == "6.0.1"
    assert any(cmd.startswith("getprop ro.build.version.release") for cmd in phone.commands)


def test_real_adb_receives_output_larger_than_one_packet(adb_server: AdbServer) -> None:
    """Output beyond the negotiated max payload is split into WRTE packets with flow control."""
    sim = PhoneSimulator("pixel-6")
    big = "".join(f"line {i:07d}\n" for i in range(200_000))  # 2.6 MB > 1 MiB max payload
    sim.profile.files["/sdcard/big.txt"] = big
    sim.start()
    try:
        _connect(adb_server, sim)
        out = adb_server.adb("-s", sim.address, "shell", "cat", "/sdcard/big.txt", timeout=60)
        assert out.stdout == big
    finally:
        sim.stop()


def test_list_adb_devices_reports_serial_state_model(adb_server: AdbServer, phone: PhoneSimulator) -> None:
    """Discovery (`inspector devices`) sees the phone with its state and model."""
    _connect(adb_server, phone)
    entries = {e.serial: e for e in list_adb_devices(port=adb_server.port)}
    entry = entries[phone.address]
    assert entry.state == "device"
    assert entry.model == "SM_G991B"  # adb's rendering of "SM-G991B"
    assert entry.device == "o1s"


@pytest.mark.parametrize("phone", ["galaxy-s21", "pixel-6", "old-rooted"], indirect=True)
def test_probe_through_adb_server_matches_profile(adb_server: AdbServer, phone: PhoneSimulator) -> None:
    """The probe via the adb server reports exactly what the phone profile says."""
    _connect(adb_server, phone)
    report = probe_phone(AdbServerTransport(phone.address, port=adb_server.port, timeout=TIMEOUT))
    props = phone.profile.props
    assert report.model.value == props["ro.product.model"]
    assert report.brand.value == props["ro.product.brand"]
    assert report.android_version.value == props["ro.build.version.release"]
    assert report.sdk.value == int(props["ro.build.version.sdk"])
    assert report.device_serial.value == phone.profile.serial
    assert report.battery_level_pct.value == int(phone.profile.battery["level"])
    assert report.storage_total_bytes.value is not None
    if phone.profile.imeis:
        assert report.imeis.value == phone.profile.imeis
    else:
        assert report.imeis.value is None and report.imeis.unknown
    assert report.rooted.value == bool(phone.profile.su_paths)


def test_screen_off_and_on_through_adb_server(adb_server: AdbServer, phone: PhoneSimulator) -> None:
    """The station's screen switch works through the real adb server as a USB phone would use it,
    and the `adb shell dumpsys power` a person would type shows the same state."""
    _connect(adb_server, phone)
    transport = AdbServerTransport(phone.address, port=adb_server.port, timeout=TIMEOUT)
    try:
        assert screen_off(transport).state == DisplayState.OFF
        dump = adb_server.adb("-s", phone.address, "shell", "dumpsys", "power").stdout
        assert "mWakefulness=Asleep" in dump and "Display Power: state=OFF" in dump
        assert screen_on(transport).state == DisplayState.ON
        assert read_display(transport).state == DisplayState.ON
    finally:
        transport.close()


def test_unauthorized_phone_gives_clear_error(adb_server: AdbServer) -> None:
    """A phone that never accepts the station's key shows 'unauthorized' and the transport says so."""
    with PhoneSimulator("pixel-6", faults=PhoneFaults(unauthorized=True)) as sim:
        out = adb_server.adb("connect", sim.address)
        assert "authenticate" in out.stdout or "connected" in out.stdout
        states = {e.serial: e.state for e in list_adb_devices(port=adb_server.port)}
        assert states[sim.address] == "unauthorized"
        with pytest.raises(PhoneUnauthorized, match="Allow USB debugging"):
            AdbServerTransport(sim.address, port=adb_server.port, timeout=TIMEOUT)
        adb_server.adb("disconnect", sim.address)


def test_unknown_serial_is_not_found(adb_server: AdbServer) -> None:
    """Asking for a phone that is not attached raises PhoneNotFound, not a hang or a stack trace."""
    with pytest.raises(PhoneNotFound):
        AdbServerTransport("NO-SUCH-PHONE", port=adb_server.port, timeout=TIMEOUT)


def test_unplug_mid_probe_raises_then_phone_returns(adb_server: AdbServer, phone: PhoneSimulator) -> None:
    """Pulling the cable mid-command raises PhoneDisconnected; after replug the probe works again."""
    _connect(adb_server, phone)
    transport = AdbServerTransport(phone.address, port=adb_server.port, timeout=TIMEOUT)
    phone.faults.unplug_on = "dumpsys battery"
    with pytest.raises(PhoneDisconnected):
        probe_phone(transport)
    phone.faults.unplug_on = None
    phone.replug()
    # The adb server reconnects TCP phones by itself; wait for it with adb's own wait-for.
    adb_server.adb("-s", phone.address, "wait-for-device", timeout=30)
    report = probe_phone(AdbServerTransport(phone.address, port=adb_server.port, timeout=TIMEOUT))
    assert report.model.value == "SM-G991B"


def test_stalled_phone_through_server_raises_within_timeout(
    adb_server: AdbServer, phone: PhoneSimulator
) -> None:
    """A phone that hangs mid-command (cable still in) raises PhoneDisconnected after the timeout."""
    _connect(adb_server, phone)
    transport = AdbServerTransport(phone.address, port=adb_server.port, timeout=1.0)
    phone.faults.stall_on = "dumpsys battery"
    with pytest.raises(PhoneDisconnected, match="did not answer"):
        probe_phone(transport)
