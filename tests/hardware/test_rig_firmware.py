"""The real rig firmware: built with avr-gcc, run in simavr, driven by the host driver via a pty.

hardware/sim/avr_bridge runs the .elf as an ATmega328P at 16 MHz, bridges USART0 to a pty and
models the turntable (counts STEP pulses, closes the home switch at 0 degrees).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import serial

from devices.rig import (
    ButtonPressed,
    DeviceBooted,
    Disconnected,
    ErrorCode,
    LidClosed,
    LidOpened,
    MoveDone,
    RigDisconnected,
    RigDriver,
    RigEvent,
    RigProtocolError,
)
from devices.rig.protocol import Cmd, Frame, FrameParser, Msg, encode_frame

pytestmark = pytest.mark.timeout(120)

HW = Path(__file__).resolve().parents[2] / "hardware"
FLASH_LIMIT = 32 * 1024 - 512  # leave room for the optiboot bootloader
RAM_LIMIT = 2048 - 512  # leave room for the stack


@pytest.fixture(scope="session")
def firmware_elf() -> Path:
    if shutil.which("avr-gcc") is None:
        pytest.skip("avr-gcc not installed (Debian gcc-avr, avr-libc)")
    subprocess.run(["make", "-s", "-C", str(HW / "firmware")], check=True, capture_output=True)
    return HW / "firmware" / "build" / "rig.elf"


@pytest.fixture(scope="session")
def bridge(firmware_elf: Path) -> Path:
    if not Path("/usr/include/simavr/sim_avr.h").exists():
        pytest.skip("simavr headers not installed (Debian libsimavr-dev)")
    subprocess.run(["make", "-s", "-C", str(HW / "sim")], check=True, capture_output=True)
    return HW / "sim" / "build" / "avr_bridge"


@dataclass
class Board:
    link: Path
    proc: subprocess.Popen[str]

    def send(self, line: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def power_off(self) -> None:
        if self.proc.poll() is None:
            assert self.proc.stdin is not None
            self.proc.stdin.close()  # the harness exits on stdin EOF, taking the pty with it
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def start_board(bridge: Path, elf: Path, link: Path, start_tenths: int = 100) -> Board:
    proc = subprocess.Popen(
        [str(bridge), str(elf), str(link), str(start_tenths)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    while True:
        line = proc.stdout.readline()
        if not line:
            raise RuntimeError(f"avr_bridge exited with {proc.wait()}")
        if line.startswith("PTY "):
            return Board(link, proc)


@pytest.fixture
def board(bridge: Path, firmware_elf: Path, tmp_path: Path) -> Iterator[Board]:
    b = start_board(bridge, firmware_elf, tmp_path / "rig")
    yield b
    b.power_off()


@pytest.fixture
def rig(board: Board) -> Iterator[RigDriver]:
    d = RigDriver(str(board.link), timeout=3.0)
    d.connect()
    yield d
    d.close()


def wait_for(rig: RigDriver, kind: type, timeout: float = 10.0) -> RigEvent:
    while True:
        ev = rig.events.get(timeout=timeout)
        if isinstance(ev, kind):
            return ev


def test_firmware_builds_and_fits(firmware_elf: Path) -> None:
    """`make -C hardware/firmware` produces .elf and .hex that fit an ATmega328P with a bootloader."""
    assert firmware_elf.exists() and firmware_elf.with_suffix(".hex").exists()
    out = subprocess.run(["avr-size", str(firmware_elf)], check=True, capture_output=True, text=True).stdout
    text, data, bss = (int(x) for x in out.splitlines()[1].split()[:3])
    assert text + data <= FLASH_LIMIT
    assert data + bss <= RAM_LIMIT


def test_identify_real_firmware(rig: RigDriver) -> None:
    """The driver IDENTIFYs the compiled firmware running in the emulator."""
    assert rig.identity is not None
    assert rig.identity.model == "RIG-328P"
    assert rig.identity.protocol_version == 1
    assert rig.identity.firmware_version == "1.0.0"
    assert isinstance(wait_for(rig, DeviceBooted), DeviceBooted)


def test_light_home_rotate_on_real_firmware(rig: RigDriver) -> None:
    """Light level, homing against the modelled home switch, and step-counted rotation all work."""
    rig.set_light(50)
    assert rig.status().light == 128
    with pytest.raises(RigProtocolError) as e:
        rig.rotate_to(30)
    assert e.value.code == ErrorCode.NOT_HOMED
    rig.home()
    st = rig.status()
    assert st.homed and st.angle == 0.0
    assert rig.rotate_to(30) == MoveDone(30.0, ErrorCode.OK)
    assert rig.rotate_to(350) == MoveDone(350.0, ErrorCode.OK)  # backwards through 0
    assert rig.status().angle == 350.0


def test_button_and_lid_on_real_firmware(board: Board, rig: RigDriver) -> None:
    """Debounced button and lid inputs raise events; an open lid refuses motion."""
    rig.home()
    board.send("button")
    assert isinstance(wait_for(rig, ButtonPressed), ButtonPressed)
    board.send("lid open")
    assert isinstance(wait_for(rig, LidOpened), LidOpened)
    with pytest.raises(RigProtocolError) as e:
        rig.rotate_to(90)
    assert e.value.code == ErrorCode.LID_OPEN
    board.send("lid close")
    assert isinstance(wait_for(rig, LidClosed), LidClosed)


def test_stop_and_lid_abort_motion_on_real_firmware(board: Board, rig: RigDriver) -> None:
    """STOP and an opened lid both halt a turning table part-way and say why in MoveDone."""
    rig.home()
    rig.rotate_to(170, wait=False)
    time.sleep(0.2)
    rig.stop()
    ev = wait_for(rig, MoveDone)
    assert isinstance(ev, MoveDone) and ev.result == ErrorCode.STOPPED and 0 < ev.angle < 170
    assert not rig.status().moving
    rig.rotate_to(0, wait=False)
    time.sleep(0.1)
    board.send("lid open")
    ev = wait_for(rig, MoveDone)
    assert isinstance(ev, MoveDone) and ev.result == ErrorCode.LID_OPEN
    st = rig.status()
    assert st.lid_open and not st.moving


def _exchange(port: serial.Serial, parser: FrameParser, frame: bytes) -> Frame:
    """Send raw bytes, return the next ACK/NAK (events are acknowledged and skipped)."""
    port.write(frame)
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        for item in parser.feed(port.read(max(1, port.in_waiting))):
            if isinstance(item, Frame) and item.msg_id == Msg.EVENT:
                port.write(encode_frame(item.seq, Cmd.EVENT_ACK))
            elif isinstance(item, Frame):
                return item
    raise AssertionError("no reply from firmware")


def _next_event(port: serial.Serial, parser: FrameParser) -> Frame:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        for item in parser.feed(port.read(max(1, port.in_waiting))):
            if isinstance(item, Frame) and item.msg_id == Msg.EVENT:
                port.write(encode_frame(item.seq, Cmd.EVENT_ACK))
                return item
    raise AssertionError("no event from firmware")


def test_firmware_raw_protocol_rules(board: Board) -> None:
    """Byte-level rules of PROTOCOL.md on the real firmware: a repeated SEQ is answered from the
    cache without running twice, a bad CRC is NAKed, unknown ids and bad arguments are refused, and
    a truncated frame is dropped after the line goes quiet."""
    port = serial.serial_for_url(str(board.link), baudrate=115200, timeout=0.05)
    try:
        p = FrameParser()
        boot = _next_event(port, p)  # the firmware is up once it announces itself
        assert boot.payload[0] == 0x01
        assert _exchange(port, p, encode_frame(1, Cmd.HOME)).msg_id == Msg.ACK
        time.sleep(0.3)
        rotate = encode_frame(2, Cmd.ROTATE_TO, (900).to_bytes(2, "little"))
        first = _exchange(port, p, rotate)
        again = _exchange(port, p, rotate)  # as if our first ACK had been lost
        assert first == again == Frame(2, Msg.ACK, b"")  # not BUSY: it was not executed twice
        bad = bytearray(encode_frame(3, Cmd.GET_STATUS))
        bad[-1] ^= 0x01
        assert _exchange(port, p, bytes(bad)) == Frame(3, Msg.NAK, bytes([ErrorCode.BAD_CRC]))
        assert _exchange(port, p, encode_frame(4, 0x33)) == Frame(4, Msg.NAK, bytes([ErrorCode.UNKNOWN_CMD]))
        over = encode_frame(5, Cmd.ROTATE_TO, (3600).to_bytes(2, "little"))
        assert _exchange(port, p, over) == Frame(5, Msg.NAK, bytes([ErrorCode.BAD_ARG]))
        no_arg = encode_frame(6, Cmd.SET_LIGHT)
        assert _exchange(port, p, no_arg) == Frame(6, Msg.NAK, bytes([ErrorCode.BAD_LENGTH]))
        port.write(encode_frame(7, Cmd.ECHO, b"z" * 30)[:12])  # cut short
        time.sleep(0.1)
        assert _exchange(port, p, encode_frame(8, Cmd.ECHO, b"ok")) == Frame(8, Msg.ACK, b"ok")
    finally:
        port.close()


def test_power_cycle_reconnects(bridge: Path, firmware_elf: Path, tmp_path: Path) -> None:
    """When the board disappears the driver reports it; when it comes back on the same path the
    driver reconnects and sees the BOOT event."""
    link = tmp_path / "rig"
    b = start_board(bridge, firmware_elf, link)
    d = RigDriver(str(link), timeout=3.0)
    try:
        d.connect()
        b.power_off()
        with pytest.raises(RigDisconnected):
            for _ in range(100):
                d.status()
                time.sleep(0.05)
        if link.is_symlink():
            os.unlink(link)
        seen: list[RigEvent] = []
        while not any(isinstance(e, Disconnected) for e in seen):  # events of the first power-on
            seen.append(d.events.get(timeout=10))
        b = start_board(bridge, firmware_elf, link)
        assert d.wait_connected(15)
        assert isinstance(wait_for(d, DeviceBooted), DeviceBooted)
        assert not d.status().homed
    finally:
        d.close()
        b.power_off()
