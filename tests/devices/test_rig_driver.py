"""Rig driver against the rig simulator through a real pty, including fault injection."""

from __future__ import annotations

import contextlib
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from devices.rig import (
    ButtonPressed,
    Connected,
    DeviceBooted,
    Disconnected,
    ErrorCode,
    LidClosed,
    LidOpened,
    MoveDone,
    RigDisconnected,
    RigDriver,
    RigEvent,
    RigFaults,
    RigProtocolError,
    RigSimulator,
    RigTimeout,
    probe,
)

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def sim() -> Iterator[RigSimulator]:
    s = RigSimulator(deg_per_s=720.0)
    s.start()
    yield s
    s.stop()


@pytest.fixture
def rig(sim: RigSimulator) -> Iterator[RigDriver]:
    d = RigDriver(str(sim.link), timeout=2.0)
    d.connect()
    deadline = time.monotonic() + 5
    while sim.events_pending and time.monotonic() < deadline:  # BOOT delivered and acknowledged
        time.sleep(0.01)
    yield d
    d.close()


def wait_for(rig: RigDriver, kind: type, timeout: float = 5.0) -> RigEvent:
    """Next event of a type, skipping others (BOOT, Connected...)."""
    while True:
        ev = rig.events.get(timeout=timeout)
        if isinstance(ev, kind):
            return ev


def drain(rig: RigDriver) -> list[RigEvent]:
    out = []
    while True:
        try:
            out.append(rig.events.get_nowait())
        except queue.Empty:
            return out


def test_identify_through_a_pty(sim: RigSimulator, rig: RigDriver) -> None:
    """connect() opens the pty and reports the controller's model, firmware and serial."""
    assert rig.identity is not None
    assert rig.identity.model == "RIG-SIM"
    assert rig.identity.protocol_version == 1
    assert rig.identity.serial == "52470001"
    assert sim.pty_path is not None and sim.pty_path.startswith("/dev/pts/")
    assert isinstance(wait_for(rig, Connected), Connected)


def test_protocol_version_mismatch_is_refused() -> None:
    """A controller speaking another protocol version is rejected with a message saying what to update."""
    with RigSimulator(protocol_version=2) as s:
        d = RigDriver(str(s.link), auto_reconnect=False)
        with pytest.raises(RigProtocolError, match="protocol v2"):
            d.connect()
        d.close()


def test_missing_port_is_a_clear_error(tmp_path: Path) -> None:
    """Opening a port that does not exist raises RigDisconnected naming the port."""
    d = RigDriver(str(tmp_path / "nope"), auto_reconnect=False)
    with pytest.raises(RigDisconnected, match="nope"):
        d.connect()
    d.close()


def test_malformed_port_url_is_a_clear_error() -> None:
    """A URL pyserial cannot parse is the same RigDisconnected as a missing port, not a raw ValueError."""
    d = RigDriver("nosuchscheme://x", auto_reconnect=False)
    with pytest.raises(RigDisconnected, match="cannot open rig port nosuchscheme://x"):
        d.connect()
    d.close()


def test_light_level(rig: RigDriver) -> None:
    """set_light in percent reaches the device as 0-255 and reads back in status; bad levels are refused."""
    rig.set_light(80)
    st = rig.status()
    assert st.light == 204 and st.light_percent == 80.0
    rig.set_light(0)
    assert rig.status().light == 0
    with pytest.raises(ValueError):
        rig.set_light(150)


def test_home_then_rotate(rig: RigDriver) -> None:
    """Rotation needs homing; after HOME the table reaches the requested angle and reports MoveDone."""
    with pytest.raises(RigProtocolError) as e:
        rig.rotate_to(90)
    assert e.value.code == ErrorCode.NOT_HOMED
    rig.home()
    assert rig.status().homed and rig.status().angle == 0.0
    done = rig.rotate_to(90)
    assert done == MoveDone(90.0, ErrorCode.OK)
    assert rig.status().angle == 90.0
    rig.rotate_to(359.9)  # shortest way round, through 0
    assert rig.status().angle == 359.9
    assert isinstance(wait_for(rig, MoveDone), MoveDone)


def test_home_failure_reports_stall(sim: RigSimulator, rig: RigDriver) -> None:
    """A broken home switch ends homing with STALL instead of spinning forever."""
    sim.faults.home_switch_broken = True
    with pytest.raises(RigProtocolError) as e:
        rig.home()
    assert e.value.code == ErrorCode.STALL
    assert not rig.status().homed


def test_button_and_lid_events(sim: RigSimulator, rig: RigDriver) -> None:
    """Button presses and lid changes arrive as typed events; an open lid blocks motion."""
    rig.home()
    sim.press_button()
    assert isinstance(wait_for(rig, ButtonPressed), ButtonPressed)
    sim.set_lid(True)
    assert isinstance(wait_for(rig, LidOpened), LidOpened)
    assert rig.status().lid_open
    with pytest.raises(RigProtocolError) as e:
        rig.rotate_to(45)
    assert e.value.code == ErrorCode.LID_OPEN
    sim.set_lid(False)
    assert isinstance(wait_for(rig, LidClosed), LidClosed)
    rig.rotate_to(45)


def test_lid_opened_mid_rotation_aborts_it() -> None:
    """Opening the lid while the table turns stops it and rotate_to raises LID_OPEN."""
    with RigSimulator(deg_per_s=30.0, start_angle_tenths=30) as s, RigDriver(str(s.link)) as d:
        d.home(timeout=60)
        d.rotate_to(170, wait=False)
        s.set_lid(True)
        ev = wait_for(d, MoveDone)
        assert isinstance(ev, MoveDone) and ev.result == ErrorCode.LID_OPEN
        st = d.status()
        assert not st.moving and st.angle < 170


def test_event_delivered_once_when_ack_lost(sim: RigSimulator, rig: RigDriver) -> None:
    """If the host's EVENT_ACK is lost the device resends the event; the host delivers it only once."""
    drain(rig)
    sim.faults.drop_next = 1  # the next frame the device receives is our EVENT_ACK
    sim.press_button()
    assert isinstance(wait_for(rig, ButtonPressed), ButtonPressed)
    time.sleep(0.4)  # well after the device's 100 ms resend
    assert sim.events_resent >= 1
    assert not any(isinstance(e, ButtonPressed) for e in drain(rig))


def test_corrupted_replies_are_retried(sim: RigSimulator, rig: RigDriver) -> None:
    """Replies damaged on the wire are dropped by CRC and the command is retransmitted until it succeeds."""
    rig.set_light(50)
    sim.faults.corrupt_next = 3
    assert rig.status().light == 128
    assert rig.stats["bad_crc"] >= 1 and rig.stats["retransmits"] >= 1


def test_corrupted_commands_are_nakked_and_resent(sim: RigSimulator, rig: RigDriver) -> None:
    """A command damaged on the way in gets NAK BAD_CRC and is resent at once."""
    sim.faults.corrupt_incoming_next = 2
    rig.set_light(100)
    assert rig.status().light == 255
    assert rig.status().rx_errors == 2


def test_dropped_commands_are_retried(sim: RigSimulator, rig: RigDriver) -> None:
    """Commands lost on the wire are retransmitted after the adaptive timeout."""
    sim.faults.drop_next = 2
    assert rig.status().light == 0
    assert rig.stats["timeouts"] >= 2


def test_lost_reply_does_not_run_the_command_twice(sim: RigSimulator, rig: RigDriver) -> None:
    """When only the ACK is lost, the retransmitted ROTATE_TO is answered from the device's cache
    (no BUSY error, no second rotation)."""
    rig.home()
    before = sim.frames_executed
    sim.faults.drop_replies_next = 1
    rig.rotate_to(180)
    assert sim.duplicates >= 1
    assert sim.frames_executed == before + 1


def test_slow_device_raises_the_retransmit_timeout(sim: RigSimulator, rig: RigDriver) -> None:
    """A device that answers late is still understood: early retransmissions are answered from its
    cache without re-running the command, and the adaptive timeout grows to fit the slower replies."""
    rig.home()
    sim.faults.delay = 0.15
    rig.rotate_to(30)
    for _ in range(3):
        assert rig.status().angle == 30.0
    assert rig.rto > 0.15
    sim.faults.delay = 0.0


def test_probe_identifies_or_returns_none(sim: RigSimulator, tmp_path: Path) -> None:
    """probe() (used by device discovery) returns the identity of a rig, and None for a missing port."""
    ident = probe(str(sim.link))
    assert ident is not None and ident.model == "RIG-SIM"
    assert probe(str(tmp_path / "absent")) is None


def test_random_noise_on_both_directions(sim: RigSimulator) -> None:
    """With 5 % of frames lost and 5 % corrupted each way, every command still succeeds."""
    with RigDriver(str(sim.link), retries=8, timeout=5) as d:
        sim.faults = RigFaults(drop_rate=0.05, corrupt_rate=0.05, seed=7)
        for i in range(30):
            d.set_light_raw(i)
            assert d.status().light == i


def test_silent_device_times_out_then_is_declared_gone(sim: RigSimulator) -> None:
    """A device that stops answering gives RigTimeout, and after 3 failures in a row RigDisconnected;
    when it answers again the driver reconnects on its own."""
    d = RigDriver(str(sim.link), timeout=0.5, retries=2)
    d.connect()
    sim.faults.mute = True
    for _ in range(2):
        with pytest.raises(RigTimeout):
            d.status()
    with pytest.raises(RigDisconnected, match="consecutive"):
        d.status()
    assert isinstance(wait_for(d, Disconnected), Disconnected)
    sim.faults.mute = False
    assert d.wait_connected(10)
    assert d.status().light == 0
    d.close()


def test_unplug_mid_command_then_replug(sim: RigSimulator, rig: RigDriver) -> None:
    """Pulling the cable while a command waits fails it with RigDisconnected (not a timeout);
    calls while unplugged fail at once; after replug the driver reopens the same path by itself."""
    rig.home()
    drain(rig)
    sim.faults.mute = True  # the command will be in flight, unanswered, when the cable goes
    result: list[BaseException] = []

    def call() -> None:
        try:
            rig.status()
        except BaseException as e:  # collected for the assertion below
            result.append(e)

    rig.timeout = 30.0
    t = threading.Thread(target=call)
    t.start()
    time.sleep(0.2)
    sim.unplug()
    t.join(10)
    assert not t.is_alive()
    assert len(result) == 1 and isinstance(result[0], RigDisconnected)
    assert not rig.connected
    with pytest.raises(RigDisconnected):
        rig.set_light(10)
    assert isinstance(wait_for(rig, Disconnected), Disconnected)

    sim.faults.mute = False
    sim.replug()
    assert rig.wait_connected(10)
    kinds: set[type] = set()
    while not {Connected, DeviceBooted} <= kinds:  # in either order
        kinds.add(type(rig.events.get(timeout=5)))
    st = rig.status()
    assert not st.homed  # the controller power-cycled with the USB plug
    assert rig.stats["reconnects"] == 1


def test_no_auto_reconnect_needs_explicit_connect(sim: RigSimulator) -> None:
    """With auto_reconnect off the driver stays down after an unplug until connect() is called."""
    d = RigDriver(str(sim.link), auto_reconnect=False)
    d.connect()
    sim.unplug()
    with pytest.raises(RigDisconnected):
        for _ in range(50):
            d.status()
    sim.replug()
    assert d.connect().model == "RIG-SIM"
    assert d.status().light == 0
    d.close()


def test_threads_share_one_driver(rig: RigDriver) -> None:
    """Several threads may call the driver at once; every call gets its own reply."""
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            for i in range(10):
                payload = bytes([n, i]) * 4
                assert rig.echo(payload) == payload
        except BaseException as e:  # collected for the assertion below
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors


def test_standalone_simulator_process(tmp_path: Path) -> None:
    """`python -m devices.rig.simulator` prints its port; stdin commands raise events seen by the driver."""
    link = tmp_path / "rig"
    proc = subprocess.Popen(
        [sys.executable, "-m", "devices.rig.simulator", "--link", str(link)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None and proc.stdin is not None
        port = proc.stdout.readline().strip()
        assert port == str(link)
        with RigDriver(port) as d:
            assert d.identity is not None and d.identity.model == "RIG-SIM"
            proc.stdin.write("button\n")
            proc.stdin.flush()
            assert isinstance(wait_for(d, ButtonPressed), ButtonPressed)
            proc.stdin.write("lid open\n")
            proc.stdin.flush()
            assert isinstance(wait_for(d, LidOpened), LidOpened)
        proc.stdin.write("quit\n")
        proc.stdin.flush()
        assert proc.wait(10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_socket_url_transport(sim: RigSimulator) -> None:
    """The driver accepts any pyserial URL: here the rig is reached over TCP (as through ser2net)."""
    import socket

    import serial

    server = socket.create_server(("127.0.0.1", 0))
    port_no = server.getsockname()[1]
    stop = threading.Event()

    def relay() -> None:
        conn, _ = server.accept()
        conn.settimeout(0.02)
        tty = serial.serial_for_url(str(sim.link), baudrate=115200, timeout=0.02)
        try:
            while not stop.is_set():
                with contextlib.suppress(TimeoutError):
                    data = conn.recv(4096)
                    if not data:
                        return
                    tty.write(data)
                out = tty.read(tty.in_waiting or 1)
                if out:
                    conn.sendall(out)
        finally:
            tty.close()
            conn.close()

    t = threading.Thread(target=relay, daemon=True)
    t.start()
    try:
        with RigDriver(f"socket://127.0.0.1:{port_no}", auto_reconnect=False) as d:
            assert d.identity is not None and d.identity.model == "RIG-SIM"
            d.set_light(25)
            assert d.status().light == 64
    finally:
        stop.set()
        t.join(5)
        server.close()


def test_no_device_on_the_line_fails_cleanly() -> None:
    """With nothing answering (pyserial loop:// just echoes our own frames back) connect() gives up
    with a clear error after its retries instead of hanging."""
    d = RigDriver("loop://", timeout=0.5, retries=1, auto_reconnect=False)
    with pytest.raises(RigTimeout, match="IDENTIFY"):
        d.connect()
    d.close()
