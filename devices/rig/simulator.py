"""Rig controller simulator behind a real pseudo-terminal.

It speaks the protocol of ``hardware/PROTOCOL.md`` (the same as the AVR firmware) on the
master side of a pty, so the driver opens a real tty exactly as it would a USB-serial cable.
Output and input are paced to the configured baud rate (10 bits per byte, 8N1), because a pty
itself transfers instantly and would make latency figures dishonest.

Public API::

    sim = RigSimulator(baud=115200, deg_per_s=180.0)
    port = sim.start()          # path of a stable symlink to the current pty slave
    sim.press_button(); sim.set_lid(open_=True)
    sim.faults.drop_next = 2    # see RigFaults for every switch
    sim.unplug(); sim.replug()  # pty disappears / comes back under the same symlink path
    sim.status()                # device-side Status snapshot (also advances the motion to now)
    sim.pos, sim.light          # read-only: mechanical table angle in tenths (homed or not), 0-255
    sim.stop()

Standalone (demo): ``python -m devices.rig.simulator [--link PATH]`` prints the port path,
then reads commands from stdin: ``button``, ``lid open``, ``lid close``, ``unplug``,
``replug``, ``quit``.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import os
import queue
import random
import select
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from devices.pty_port import PtyPort
from devices.rig.protocol import (
    PROTOCOL_VERSION,
    BadFrame,
    Cmd,
    ErrorCode,
    EventType,
    Frame,
    FrameParser,
    Msg,
    Status,
    encode_frame,
    encode_identity,
    encode_status,
)
from devices.sim_runner import no_args, serve_stdin_commands

EVENT_RETRY_S = 0.1
EVENT_MAX_TRIES = 10
EVENT_QUEUE = 16

_Counter = Literal["drop_next", "drop_replies_next", "corrupt_next", "corrupt_incoming_next"]


@dataclass
class RigFaults:
    """Fault switches; change them at any time from any thread.

    "outgoing" = frames the simulated device sends, "incoming" = frames it receives.
    """

    drop_next: int = 0  # drop the next N incoming frames (as if lost on the wire)
    drop_replies_next: int = 0  # drop the next N outgoing frames
    corrupt_next: int = 0  # flip one bit in each of the next N outgoing frames
    corrupt_incoming_next: int = 0  # next N incoming frames arrive with a bad CRC (device NAKs)
    drop_rate: float = 0.0  # probability of losing any frame, either direction
    corrupt_rate: float = 0.0  # probability of a bit flip in any frame, either direction
    delay: float = 0.0  # seconds added before every reply
    mute: bool = False  # device stops answering altogether (hung firmware)
    home_switch_broken: bool = False  # HOME ends with STALL
    seed: int | None = None  # makes the *_rate faults reproducible
    rng: random.Random = field(default_factory=random.Random, repr=False)

    def __post_init__(self) -> None:
        if self.seed is not None:
            self.rng.seed(self.seed)

    def fires(self, counter: _Counter, rate: float) -> bool:
        """One frame's verdict: a pending counter is used up first, else the seeded rate decides."""
        left: int = getattr(self, counter)
        if left > 0:
            setattr(self, counter, left - 1)
            return True
        return bool(rate) and self.rng.random() < rate


class RigSimulator:
    """Simulated rig controller; see the module docstring."""

    def __init__(
        self,
        baud: int = 115200,
        link: str | os.PathLike[str] | None = None,
        deg_per_s: float = 180.0,
        model: str = "RIG-SIM",
        serial: int = 0x52470001,
        firmware: tuple[int, int, int] = (1, 0, 0),
        start_angle_tenths: int = 1234,
        pace: bool = True,
        protocol_version: int = PROTOCOL_VERSION,
    ) -> None:
        self.baud = baud
        self.byte_time = 10.0 / baud
        self.pace = pace
        self.deg_per_s = deg_per_s
        self.model, self.serial, self.firmware = model, serial, firmware
        self.protocol_version = protocol_version
        self.faults = RigFaults()
        self._port = PtyPort(link, prefix="rig-sim-", name="rig")
        self._start_angle = start_angle_tenths
        self._wake_r, self._wake_w = os.pipe()
        self._calls: queue.Queue[tuple[Callable[[], object], threading.Event]] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._running = False
        self.frames_received = 0
        self.frames_executed = 0
        self.duplicates = 0
        self.events_dropped = 0
        self.events_resent = 0
        self._power_on()

    # ---- public API -------------------------------------------------------------------

    def start(self) -> str:
        """Create the pty and the symlink, start the device thread; returns the port path."""
        if self._thread is not None:
            return str(self.link)
        self._port.plug()
        self._running = True
        self._thread = threading.Thread(target=self._run, name="rig-sim", daemon=True)
        self._thread.start()
        return str(self.link)

    def stop(self) -> None:
        if self._thread is not None:
            self._running = False
            os.write(self._wake_w, b"x")
            self._thread.join(timeout=5)
            self._thread = None
        self._port.close()
        for fd in (self._wake_r, self._wake_w):
            with contextlib.suppress(OSError):
                os.close(fd)

    def __enter__(self) -> RigSimulator:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def press_button(self) -> None:
        self._call(lambda: self._queue_event(EventType.BUTTON_PRESSED))

    def set_lid(self, open_: bool) -> None:
        self._call(lambda: self._set_lid(open_))

    def unplug(self) -> None:
        """Close the pty and remove the symlink: the driver's port vanishes."""
        self._call(self._port.unplug)

    def replug(self) -> None:
        """New pty under the same symlink path; the device has power-cycled (BOOT event)."""

        def do() -> None:
            self._power_on()
            self._port.plug()

        self._call(do)

    @property
    def link(self) -> Path:
        """Stable path of the port; survives unplug/replug."""
        return self._port.link

    @property
    def pty_path(self) -> str | None:
        return self._port.pty_path

    @property
    def plugged(self) -> bool:
        return self._port.plugged

    @property
    def events_pending(self) -> int:
        """Events queued or sent but not yet acknowledged by the host."""
        return len(self.events) + (self.outstanding is not None)

    def status(self) -> Status:
        result: list[Status] = []
        self._call(lambda: result.append(self._status()))
        return result[0]

    # ---- device state -----------------------------------------------------------------

    def _power_on(self) -> None:
        self.light = 0
        self.homed = False
        self.lid_open = False
        self.pos = float(self._start_angle)  # tenths, mechanical (unknown to the device until homed)
        self.motion: tuple[float, float, float, str] | None = None  # t0, start, end, kind
        self.last_seq: int | None = None
        self.last_id: int | None = None
        self.last_reply = b""
        self.rx_errors = 0
        self.event_seq = 0
        self.events: deque[bytes] = deque()
        self.outstanding: tuple[int, bytes] | None = None
        self.out_sent_at = 0.0
        self.out_tries = 0
        self.parser = FrameParser()
        self._tx_free = 0.0
        self._rx_free = 0.0
        self._queue_event(EventType.BOOT, b"\x01")

    def _call(self, fn: Callable[[], object], timeout: float = 5.0) -> None:
        if self._thread is None or not self._thread.is_alive():
            fn()
            return
        done = threading.Event()
        self._calls.put((fn, done))
        os.write(self._wake_w, b"x")
        if not done.wait(timeout):
            raise TimeoutError("simulator thread did not respond")

    def _status(self) -> Status:
        self._advance(time.monotonic())
        return Status(
            homed=self.homed,
            moving=self.motion is not None and self.motion[3] == "move",
            homing=self.motion is not None and self.motion[3] == "home",
            lid_open=self.lid_open,
            button_down=False,
            light=self.light,
            angle_tenths=round(self.pos) % 3600 if self.homed else 0,
            target_tenths=round(self.motion[2] if self.motion else self.pos) % 3600 if self.homed else 0,
            rx_errors=self.rx_errors,
        )

    def _set_lid(self, open_: bool) -> None:
        if open_ == self.lid_open:
            return
        self.lid_open = open_
        if open_ and self.motion is not None:
            self._finish_motion(time.monotonic(), ErrorCode.LID_OPEN)
        self._queue_event(EventType.LID_OPENED if open_ else EventType.LID_CLOSED)

    def _queue_event(self, etype: EventType, data: bytes = b"") -> None:
        if len(self.events) >= EVENT_QUEUE:
            self.events.popleft()
            self.events_dropped += 1
        self.events.append(bytes((etype,)) + data)

    # ---- motion -----------------------------------------------------------------------

    def _speed(self) -> float:
        return self.deg_per_s * 10  # tenths per second

    def _advance(self, now: float) -> None:
        if self.motion is None:
            return
        t0, start, end, _kind = self.motion
        dist = end - start
        travelled = self._speed() * (now - t0)
        if travelled >= abs(dist):
            self.pos = end
            self._finish_motion(now, ErrorCode.OK)
        else:
            self.pos = start + (travelled if dist > 0 else -travelled)

    def _finish_motion(self, now: float, result: ErrorCode) -> None:
        assert self.motion is not None
        kind = self.motion[3]
        if result != ErrorCode.OK:
            t0, start, end, _ = self.motion
            travelled = min(self._speed() * (now - t0), abs(end - start))
            self.pos = start + (travelled if end > start else -travelled)
        self.motion = None
        self.pos %= 3600
        if kind == "home":
            if result == ErrorCode.OK and self.faults.home_switch_broken:
                result = ErrorCode.STALL
            if result == ErrorCode.OK:
                self.homed, self.pos = True, 0.0
            self._queue_event(EventType.HOME_DONE, bytes((result,)))
        else:
            angle = round(self.pos) % 3600
            self._queue_event(EventType.MOVE_DONE, angle.to_bytes(2, "little") + bytes((result,)))

    def _motion_deadline(self) -> float | None:
        if self.motion is None:
            return None
        t0, start, end, _ = self.motion
        return t0 + abs(end - start) / self._speed()

    # ---- command execution ------------------------------------------------------------

    def _execute(self, frame: Frame) -> tuple[int, bytes]:
        now = time.monotonic()
        self._advance(now)
        cmd, p = frame.msg_id, frame.payload

        def need(n: int) -> bool:
            return len(p) == n

        if cmd == Cmd.IDENTIFY:
            if not need(0):
                return Msg.NAK, bytes((ErrorCode.BAD_LENGTH,))
            return Msg.ACK, encode_identity(self.protocol_version, self.firmware, self.serial, self.model)
        if cmd == Cmd.GET_STATUS:
            if not need(0):
                return Msg.NAK, bytes((ErrorCode.BAD_LENGTH,))
            return Msg.ACK, encode_status(self._status())
        if cmd == Cmd.SET_LIGHT:
            if not need(1):
                return Msg.NAK, bytes((ErrorCode.BAD_LENGTH,))
            self.light = p[0]
            return Msg.ACK, b""
        if cmd == Cmd.ROTATE_TO:
            if not need(2):
                return Msg.NAK, bytes((ErrorCode.BAD_LENGTH,))
            target = int.from_bytes(p, "little")
            if target >= 3600:
                return Msg.NAK, bytes((ErrorCode.BAD_ARG,))
            err = self._motion_refusal()
            if err is None and not self.homed:
                err = ErrorCode.NOT_HOMED
            if err is not None:
                return Msg.NAK, bytes((err,))
            delta = (target - self.pos + 1800) % 3600 - 1800  # shortest way round
            self.motion = (now, self.pos, self.pos + delta, "move")
            if delta == 0:
                self._finish_motion(now, ErrorCode.OK)
            return Msg.ACK, b""
        if cmd == Cmd.HOME:
            if not need(0):
                return Msg.NAK, bytes((ErrorCode.BAD_LENGTH,))
            err = self._motion_refusal()
            if err is not None:
                return Msg.NAK, bytes((err,))
            self.homed = False
            travel = 3960.0 if self.faults.home_switch_broken else (self.pos % 3600)
            self.motion = (now, self.pos, self.pos - travel, "home")
            if travel == 0:
                self._finish_motion(now, ErrorCode.OK)
            return Msg.ACK, b""
        if cmd == Cmd.STOP:
            if not need(0):
                return Msg.NAK, bytes((ErrorCode.BAD_LENGTH,))
            if self.motion is not None:
                self._finish_motion(now, ErrorCode.STOPPED)
            return Msg.ACK, b""
        if cmd == Cmd.ECHO:
            return Msg.ACK, p
        return Msg.NAK, bytes((ErrorCode.UNKNOWN_CMD,))

    def _motion_refusal(self) -> ErrorCode | None:
        if self.motion is not None:
            return ErrorCode.BUSY
        if self.lid_open:
            return ErrorCode.LID_OPEN
        return None

    def _handle(self, item: Frame | BadFrame) -> None:
        f = self.faults
        if isinstance(item, Frame):
            self.frames_received += 1
            if f.fires("drop_next", f.drop_rate):
                return
            if f.fires("corrupt_incoming_next", f.corrupt_rate):
                item = BadFrame(item.seq, item.msg_id)
        if f.mute:
            return
        if isinstance(item, BadFrame):
            self.rx_errors += 1
            self._send(item.seq, Msg.NAK, bytes((ErrorCode.BAD_CRC,)))
            return
        if item.msg_id == Cmd.EVENT_ACK:
            if self.outstanding is not None and self.outstanding[0] == item.seq:
                self.outstanding = None
            return
        if item.seq == self.last_seq and item.msg_id == self.last_id:
            self.duplicates += 1  # retransmission: our reply was lost; answer again, do not re-run
            self._send_raw(self.last_reply, reply=True)
            return
        msg, payload = self._execute(item)
        self.frames_executed += 1
        self.last_seq, self.last_id = item.seq, item.msg_id
        self.last_reply = encode_frame(item.seq, msg, payload)
        self._send_raw(self.last_reply, reply=True)

    def _send(self, seq: int, msg: int, payload: bytes) -> None:
        self._send_raw(encode_frame(seq, msg, payload), reply=True)

    def _send_raw(self, data: bytes, reply: bool = False) -> None:
        f = self.faults
        if reply and f.delay:
            time.sleep(f.delay)
        if f.fires("drop_replies_next", f.drop_rate):
            return
        if f.fires("corrupt_next", f.corrupt_rate):
            buf = bytearray(data)
            i = f.rng.randrange(2, len(buf))  # keep sync+len so the host sees a bad CRC, not noise
            buf[i] ^= 1 << f.rng.randrange(8)
            data = bytes(buf)
        if self.pace:
            now = time.monotonic()
            done = max(now, self._tx_free) + len(data) * self.byte_time
            self._tx_free = done
            if done > now:
                time.sleep(done - now)
        if self._port.master is None:
            return
        try:
            os.write(self._port.master, data)
        except BlockingIOError:
            pass  # nobody reading and the tty buffer is full: bytes are lost, as on a real UART
        except OSError:
            pass

    # ---- thread -----------------------------------------------------------------------

    def _pump_events(self, now: float) -> None:
        if self.outstanding is not None and now - self.out_sent_at >= EVENT_RETRY_S:
            if self.out_tries >= EVENT_MAX_TRIES:
                self.outstanding = None
                self.events_dropped += 1
            else:
                self.events_resent += 1
                self._send_event_frame(now)
        if self.outstanding is None and self.events and not self.faults.mute:
            payload = self.events.popleft()
            self.event_seq = (self.event_seq + 1) & 0xFF
            self.outstanding = (self.event_seq, payload)
            self.out_tries = 0
            self._send_event_frame(now)

    def _send_event_frame(self, now: float) -> None:
        assert self.outstanding is not None
        self.out_tries += 1
        self.out_sent_at = now
        self._send_raw(encode_frame(self.outstanding[0], Msg.EVENT, self.outstanding[1]))

    def _run(self) -> None:
        while self._running:
            now = time.monotonic()
            deadline = now + 0.05
            md = self._motion_deadline()
            if md is not None:
                deadline = min(deadline, md)
            if self.outstanding is not None:
                deadline = min(deadline, self.out_sent_at + EVENT_RETRY_S)
            fds = [self._wake_r] + ([self._port.master] if self._port.master is not None else [])
            try:
                readable, _, _ = select.select(fds, [], [], max(0.0, deadline - now))
            except (OSError, ValueError):
                readable = []
            if self._wake_r in readable:
                os.read(self._wake_r, 4096)
            while True:
                try:
                    fn, done = self._calls.get_nowait()
                except queue.Empty:
                    break
                try:
                    fn()
                finally:
                    done.set()
            if self._port.master is not None and self._port.master in readable:
                try:
                    data = os.read(self._port.master, 4096)
                except OSError as e:
                    if e.errno not in (errno.EAGAIN, errno.EIO):
                        raise
                    data = b""
                if data:
                    if self.pace:
                        t = time.monotonic()
                        self._rx_free = max(t, self._rx_free) + len(data) * self.byte_time
                        if self._rx_free > t:
                            time.sleep(self._rx_free - t)
                    for item in self.parser.feed(data):
                        self._handle(item)
            now = time.monotonic()
            self._advance(now)
            if self._port.master is not None:
                self._pump_events(now)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Run a simulated rig controller behind a pty.")
    ap.add_argument("--link", help="stable symlink path for the port (default: a temp dir)")
    ap.add_argument("--baud", type=int, default=115200)
    ap.add_argument("--deg-per-s", type=float, default=180.0)
    args = ap.parse_args(argv)
    sim = RigSimulator(baud=args.baud, link=args.link, deg_per_s=args.deg_per_s)
    port = sim.start()
    print(port, flush=True)
    commands = {
        "button": no_args(sim.press_button),
        "lid open": no_args(lambda: sim.set_lid(True)),
        "lid close": no_args(lambda: sim.set_lid(False)),
        "unplug": no_args(sim.unplug),
        "replug": no_args(sim.replug),
    }
    return serve_stdin_commands(commands, f"one of: {', '.join(commands)}, quit", sim.stop)


if __name__ == "__main__":
    raise SystemExit(main())
