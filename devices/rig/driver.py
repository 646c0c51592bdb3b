"""Host driver for the rig controller (light box, turntable, lid switch, start button).

Public API (see also ``devices.rig`` for the re-exports)::

    rig = RigDriver("/dev/ttyUSB0")        # any pyserial URL: a tty path, "socket://h:p", "loop://"
    ident = rig.connect()                 # opens, IDENTIFYs, checks the protocol version -> Identity
    rig.set_light(80.0)                   # percent 0-100
    rig.home()                            # waits for HOME_DONE (RigProtocolError STALL on failure)
    rig.rotate_to(90.0)                   # degrees, 0.1 deg resolution; waits for MOVE_DONE
    rig.status()                          # -> Status(angle, homed, lid_open, light, ...)
    ev = rig.events.get(timeout=1)        # queue of ButtonPressed, LidOpened, LidClosed, MoveDone,
                                          # HomeDone, DeviceBooted, Connected, Disconnected
    rig.close()
    probe("/dev/ttyUSB0")                 # -> Identity or None, for discovery (opens, IDENTIFYs, closes)

Transport: one reader thread owns the port; commands are stop-and-wait, matched to replies by
sequence number, retransmitted after an adaptive timeout (RFC 6298 style SRTT/RTTVAR with
Karn's rule) or at once on a BAD_CRC NAK, at most ``retries`` times.  ``max_failures``
consecutive failed commands declare the device gone (RigDisconnected).  A vanished port (USB
unplug) fails the pending command with RigDisconnected immediately; with ``auto_reconnect``
the driver then reopens the same path when it reappears and re-IDENTIFYs.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import random
import threading
import time
from dataclasses import dataclass
from typing import Any

import serial

from devices.rig.protocol import (
    PROTOCOL_VERSION,
    BadFrame,
    Cmd,
    ErrorCode,
    EventType,
    Frame,
    FrameParser,
    Identity,
    Msg,
    Status,
    decode_identity,
    decode_status,
    encode_frame,
)
from devices.serial_port import open_serial

log = logging.getLogger(__name__)


class RigError(Exception):
    """Base class of every rig failure."""


class RigTimeout(RigError):
    """The device did not answer a command in time (after retries)."""


class RigDisconnected(RigError):
    """The port is gone or the device stopped answering altogether."""


class RigProtocolError(RigError):
    """The device refused a command or the exchange broke the protocol.

    ``code`` is the device ``ErrorCode`` when the device sent one, else ``None``.
    """

    def __init__(self, message: str, code: ErrorCode | int | None = None) -> None:
        super().__init__(message)
        self.code = code


# ---- events ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ButtonPressed:
    pass


@dataclass(frozen=True, slots=True)
class LidOpened:
    pass


@dataclass(frozen=True, slots=True)
class LidClosed:
    pass


@dataclass(frozen=True, slots=True)
class MoveDone:
    angle: float
    result: ErrorCode


@dataclass(frozen=True, slots=True)
class HomeDone:
    result: ErrorCode


@dataclass(frozen=True, slots=True)
class DeviceBooted:
    """The controller (re)started: light off, table not homed."""

    reset_cause: int


@dataclass(frozen=True, slots=True)
class Connected:
    identity: Identity


@dataclass(frozen=True, slots=True)
class Disconnected:
    reason: str


RigEvent = (
    ButtonPressed | LidOpened | LidClosed | MoveDone | HomeDone | DeviceBooted | Connected | Disconnected
)


def _decode_event(payload: bytes) -> RigEvent | None:
    if not payload:
        return None
    kind, data = payload[0], payload[1:]
    if kind == EventType.BUTTON_PRESSED:
        return ButtonPressed()
    if kind == EventType.LID_OPENED:
        return LidOpened()
    if kind == EventType.LID_CLOSED:
        return LidClosed()
    if kind == EventType.MOVE_DONE and len(data) == 3:
        return MoveDone(int.from_bytes(data[:2], "little") / 10, _code(data[2]))
    if kind == EventType.HOME_DONE and len(data) >= 1:
        return HomeDone(_code(data[0]))
    if kind == EventType.BOOT:
        return DeviceBooted(data[0] if data else 0)
    return None


def _code(c: int) -> ErrorCode:
    try:
        return ErrorCode(c)
    except ValueError:
        return ErrorCode.STALL if c else ErrorCode.OK


# ---- driver ---------------------------------------------------------------------------


class _Pending:
    def __init__(self, seq: int, cmd: int) -> None:
        self.seq, self.cmd = seq, cmd
        self.done = threading.Event()
        self.reply: Frame | None = None
        self.bad_crc = threading.Event()
        self.error: RigError | None = None


class RigDriver:
    """Thread-safe driver; see the module docstring."""

    def __init__(
        self,
        port: str,
        baud: int = 115200,
        timeout: float = 2.0,
        retries: int = 4,
        max_failures: int = 3,
        auto_reconnect: bool = True,
        min_rto: float = 0.03,
        max_rto: float = 1.0,
    ) -> None:
        self.port, self.baud, self.timeout, self.retries = port, baud, timeout, retries
        self.max_failures = max_failures
        self.auto_reconnect = auto_reconnect
        self.min_rto, self.max_rto = min_rto, max_rto
        self.events: queue.Queue[RigEvent] = queue.Queue(maxsize=1000)
        self.identity: Identity | None = None
        self.stats = {"sent": 0, "retransmits": 0, "bad_crc": 0, "timeouts": 0, "reconnects": 0}
        self._srtt: float | None = None
        self._rttvar = 0.0
        self._rto = 0.25
        self._seq = random.randrange(256)
        self._cmd_lock = threading.Lock()  # one command in flight (stop-and-wait)
        self._write_lock = threading.Lock()
        self._state = threading.Condition()
        self._ser: Any = None
        self._pending: _Pending | None = None
        self._failures = 0
        self._closed = False
        self._last_event: tuple[int, bytes] | None = None
        self._motion_cv = threading.Condition()
        self._motion_done: list[MoveDone | HomeDone] = []
        self._reader: threading.Thread | None = None
        self._supervisor: threading.Thread | None = None

    # ---- connection -------------------------------------------------------------------

    def connect(self) -> Identity:
        """Open the port and IDENTIFY; raises RigDisconnected if the port cannot be opened."""
        self._closed = False
        if self._ser is not None:
            self._drop_port("reconnecting", emit=False)
        self._open()
        if self._reader is None:
            self._reader = threading.Thread(target=self._read_loop, name="rig-reader", daemon=True)
            self._reader.start()
        try:
            ident = self.identify()
        except RigError:
            self._drop_port("identify failed")
            raise
        if self.auto_reconnect and self._supervisor is None:
            self._supervisor = threading.Thread(target=self._supervise, name="rig-reconnect", daemon=True)
            self._supervisor.start()
        return ident

    def close(self) -> None:
        self._closed = True
        self._drop_port("closed", emit=False)
        with self._state:
            self._state.notify_all()
        for t in (self._reader, self._supervisor):
            if t is not None and t is not threading.current_thread():
                t.join(timeout=2)
        self._reader = self._supervisor = None

    def __enter__(self) -> RigDriver:
        self.connect()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def connected(self) -> bool:
        return self._ser is not None

    def wait_connected(self, timeout: float) -> bool:
        """Block until the port is open and identified (e.g. after a replug)."""
        deadline = time.monotonic() + timeout
        with self._state:
            while not (self._ser is not None and self.identity is not None):
                left = deadline - time.monotonic()
                if left <= 0 or self._closed:
                    return False
                self._state.wait(left)
        return True

    def _open(self) -> None:
        ser = open_serial(
            self.port, "rig", RigDisconnected, baudrate=self.baud, timeout=0.1, write_timeout=1.0
        )
        with self._state:
            self._ser = ser
            self.identity = None
            self._failures = 0
            self._state.notify_all()

    def _drop_port(self, reason: str, emit: bool = True) -> None:
        with self._state:
            ser, self._ser = self._ser, None
            self.identity = None
            pending = self._pending
            self._state.notify_all()
        if ser is None:
            return
        with contextlib.suppress(Exception):
            ser.close()
        if pending is not None:
            pending.error = RigDisconnected(f"rig on {self.port} disconnected: {reason}")
            pending.done.set()
        with self._motion_cv:
            self._motion_cv.notify_all()
        if emit:
            log.warning("rig on %s disconnected: %s", self.port, reason)
            self._emit(Disconnected(reason))

    def _supervise(self) -> None:
        """Reopen the port by path after an unplug, then IDENTIFY again."""
        while not self._closed:
            with self._state:
                while self._ser is not None and not self._closed:
                    self._state.wait(0.5)
            if self._closed:
                return
            time.sleep(0.1)
            try:
                self._open()
            except RigDisconnected:
                continue
            try:
                ident = self.identify()
            except RigError as e:
                self._drop_port(f"identify after reconnect failed: {e}", emit=False)
                continue
            self.stats["reconnects"] += 1
            log.info("rig on %s reconnected: %s", self.port, ident)

    # ---- reader -----------------------------------------------------------------------

    def _read_loop(self) -> None:
        parser = FrameParser()
        current = None
        while not self._closed:
            with self._state:
                while self._ser is None and not self._closed:
                    self._state.wait(0.5)
                ser = self._ser
            if ser is None:
                return
            if ser is not current:
                parser.reset()
                self._last_event = None  # a new connection may be a rebooted device
                current = ser
            try:
                data = ser.read(max(1, ser.in_waiting))
            except (serial.SerialException, OSError, TypeError, AttributeError) as e:
                # TypeError/AttributeError: pyserial raises these when the port is closed under it
                if self._ser is ser:
                    self._drop_port(f"port error: {e}")
                continue
            if not data:
                if parser.pending:  # idle for a read timeout mid-frame: the frame was truncated
                    for item in parser.expire():
                        self._dispatch(item)
                continue
            for item in parser.feed(data):
                self._dispatch(item)

    def _dispatch(self, item: Frame | BadFrame) -> None:
        if isinstance(item, BadFrame):
            self.stats["bad_crc"] += 1
            return  # a corrupted reply is simply not seen; the command's timer retransmits
        if item.msg_id == Msg.EVENT:
            with contextlib.suppress(RigDisconnected):
                self._write(encode_frame(item.seq, Cmd.EVENT_ACK))
            key = (item.seq, item.payload)
            if key == self._last_event:
                return  # retransmission of an event we already delivered (our ACK was lost)
            self._last_event = key
            ev = _decode_event(item.payload)
            if ev is not None:
                if isinstance(ev, MoveDone | HomeDone):
                    with self._motion_cv:
                        self._motion_done.append(ev)
                        self._motion_cv.notify_all()
                self._emit(ev)
            return
        p = self._pending
        if p is None or item.seq != p.seq or item.msg_id not in (Msg.ACK, Msg.NAK):
            return  # late duplicate of an answered command, or noise with a valid CRC
        if item.msg_id == Msg.NAK and item.payload[:1] == bytes((ErrorCode.BAD_CRC,)):
            p.bad_crc.set()
            p.done.set()
            return
        p.reply = item
        p.done.set()

    def _emit(self, ev: RigEvent) -> None:
        try:
            self.events.put_nowait(ev)
        except queue.Full:
            with contextlib.suppress(queue.Empty):
                self.events.get_nowait()  # keep the newest: the oldest are the least useful
            with contextlib.suppress(queue.Full):
                self.events.put_nowait(ev)

    def _write(self, data: bytes) -> None:
        ser = self._ser
        if ser is None:
            raise RigDisconnected(f"rig on {self.port} is not connected")
        try:
            with self._write_lock:
                ser.write(data)
        except (serial.SerialException, OSError, TypeError, AttributeError) as e:
            self._drop_port(f"write failed: {e}")
            raise RigDisconnected(f"rig on {self.port} disconnected: {e}") from e

    # ---- request / response -----------------------------------------------------------

    def request(self, cmd: Cmd, payload: bytes = b"", timeout: float | None = None) -> bytes:
        """Send one command, return the ACK payload; the building block of every method."""
        total = self.timeout if timeout is None else timeout
        deadline = time.monotonic() + total
        with self._cmd_lock:
            if self._ser is None:
                raise RigDisconnected(f"rig on {self.port} is not connected")
            self._seq = (self._seq + 1) & 0xFF
            p = _Pending(self._seq, cmd)
            frame = encode_frame(p.seq, cmd, payload)
            self._pending = p
            try:
                reply = self._exchange(p, frame, deadline)
            finally:
                self._pending = None
        if reply.msg_id == Msg.NAK:
            code = reply.payload[0] if reply.payload else 0
            raise RigProtocolError(
                f"rig refused {cmd.name}: {ErrorCode.describe(code)}", _code(code) if code else code
            )
        return reply.payload

    def _exchange(self, p: _Pending, frame: bytes, deadline: float) -> Frame:
        attempts = 0
        while True:
            attempts += 1
            p.done.clear()
            p.bad_crc.clear()
            sent_at = time.monotonic()
            self._write(frame)
            self.stats["sent"] += 1
            wait = min(self._rto, max(0.0, deadline - sent_at))
            got = p.done.wait(wait)
            if p.error is not None:
                raise p.error
            if got and p.reply is not None:
                if attempts == 1:  # Karn: only unambiguous samples feed the estimator
                    self._sample_rtt(time.monotonic() - sent_at)
                self._failures = 0
                return p.reply
            if got:  # BAD_CRC NAK: the device saw a damaged frame; resend at once
                self.stats["bad_crc"] += 1
            else:
                self.stats["timeouts"] += 1
                self._rto = min(self.max_rto, self._rto * 2)  # back off
            if attempts > self.retries or time.monotonic() >= deadline:
                self._failures += 1
                if self._failures >= self.max_failures:
                    self._drop_port(f"{self._failures} consecutive commands failed")
                    raise RigDisconnected(
                        f"rig on {self.port} stopped answering ({self._failures} consecutive failures)"
                    )
                raise RigTimeout(
                    f"rig on {self.port} did not answer {Cmd(p.cmd).name} after {attempts} attempts"
                )
            self.stats["retransmits"] += 1

    def _sample_rtt(self, r: float) -> None:
        if self._srtt is None:
            self._srtt, self._rttvar = r, r / 2
        else:
            self._rttvar = 0.75 * self._rttvar + 0.25 * abs(self._srtt - r)
            self._srtt = 0.875 * self._srtt + 0.125 * r
        self._rto = min(self.max_rto, max(self.min_rto, self._srtt + 4 * self._rttvar))

    @property
    def rto(self) -> float:
        """Current retransmission timeout in seconds."""
        return self._rto

    # ---- commands ---------------------------------------------------------------------

    def identify(self) -> Identity:
        ident = decode_identity(self.request(Cmd.IDENTIFY))
        if ident.protocol_version != PROTOCOL_VERSION:
            raise RigProtocolError(
                f"rig speaks protocol v{ident.protocol_version}, this driver speaks v{PROTOCOL_VERSION}; "
                "update the firmware or the station software"
            )
        first = self.identity is None
        with self._state:
            self.identity = ident
            self._state.notify_all()
        if first:
            self._emit(Connected(ident))
        return ident

    def status(self) -> Status:
        try:
            return decode_status(self.request(Cmd.GET_STATUS))
        except ValueError as e:
            raise RigProtocolError(str(e)) from e

    def set_light(self, percent: float) -> None:
        """Light box brightness, 0-100 % (sent as 0-255)."""
        if not 0 <= percent <= 100:
            raise ValueError(f"light level must be 0-100 %, got {percent}")
        self.request(Cmd.SET_LIGHT, bytes((round(percent * 255 / 100),)))

    def set_light_raw(self, level: int) -> None:
        if not 0 <= level <= 255:
            raise ValueError(f"raw light level must be 0-255, got {level}")
        self.request(Cmd.SET_LIGHT, bytes((level,)))

    def rotate_to(self, angle: float, wait: bool = True, timeout: float = 30.0) -> MoveDone | None:
        """Turn the table to an absolute angle in degrees (0.1 deg steps, shortest way round)."""
        tenths = round(angle * 10) % 3600
        self._clear_motion()
        self.request(Cmd.ROTATE_TO, tenths.to_bytes(2, "little"))
        if not wait:
            return None
        done = self._wait_motion(MoveDone, timeout)
        assert isinstance(done, MoveDone)
        if done.result != ErrorCode.OK:
            raise RigProtocolError(f"rotation ended early: {ErrorCode.describe(done.result)}", done.result)
        return done

    def home(self, wait: bool = True, timeout: float = 30.0) -> None:
        """Find the home switch; the angle is 0.0 afterwards."""
        self._clear_motion()
        self.request(Cmd.HOME)
        if not wait:
            return
        done = self._wait_motion(HomeDone, timeout)
        if done.result != ErrorCode.OK:
            raise RigProtocolError(f"homing failed: {ErrorCode.describe(done.result)}", done.result)

    def stop(self) -> None:
        self.request(Cmd.STOP)

    def echo(self, data: bytes) -> bytes:
        """Loop data through the controller (diagnostics and benchmarks)."""
        return self.request(Cmd.ECHO, data)

    def _clear_motion(self) -> None:
        with self._motion_cv:
            self._motion_done.clear()

    def _wait_motion(self, kind: type[MoveDone] | type[HomeDone], timeout: float) -> MoveDone | HomeDone:
        deadline = time.monotonic() + timeout
        with self._motion_cv:
            while True:
                for ev in self._motion_done:
                    if isinstance(ev, kind):
                        self._motion_done.remove(ev)
                        return ev
                if self._ser is None:
                    raise RigDisconnected(f"rig on {self.port} disconnected during motion")
                left = deadline - time.monotonic()
                if left <= 0:
                    raise RigTimeout(f"turntable did not finish within {timeout} s")
                self._motion_cv.wait(min(left, 0.5))


# USB-serial bridges found on rig controller boards. They are generic chips, so discovery
# should treat a match as a candidate and confirm it with probe().
USB_IDS: dict[tuple[int, int], str] = {
    (0x2341, 0x0043): "Arduino Uno (16U2)",
    (0x2341, 0x0001): "Arduino Uno (8U2)",
    (0x1A86, 0x7523): "CH340 (Arduino Nano clones)",
    (0x0403, 0x6001): "FTDI FT232R (Arduino Nano)",
}


def probe(port: str, baud: int = 115200, timeout: float = 1.0) -> Identity | None:
    """IDENTIFY whatever is on ``port``; None if it is not a rig controller (or not there)."""
    d = RigDriver(port, baud=baud, timeout=timeout, retries=2, auto_reconnect=False)
    try:
        return d.connect()
    except RigError:
        return None
    finally:
        d.close()
