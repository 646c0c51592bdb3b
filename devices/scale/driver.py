"""Driver for a laboratory balance speaking MT-SICS over a serial line.

Works with any port pyserial's ``serial_for_url`` opens: ``/dev/ttyUSB0``, a pty path
from the simulator, ``socket://host:port`` for an Ethernet balance, ``loop://``.

Robustness rules (MT-SICS itself has no checksum or sequence numbers):
- every reply is parsed strictly and must answer the command that was sent; a garbled,
  foreign or missing reply is retried a bounded number of times (``retries``), with the
  input buffer flushed first so a late reply cannot be taken for the next one; an ``ES``
  that arrives after the flush in answer to a command every balance knows is such a late
  reply, and is read past;
- an I/O error on the port (cable pulled) closes it and raises ``ScaleDisconnected``;
  the next call reopens the same path, so the driver recovers when the balance returns;
- ``stable_weight`` waits for stability at most ``timeout`` seconds, then raises
  ``ScaleTimeout``: it never blocks forever.
"""

from __future__ import annotations

import contextlib
import threading
import time
from dataclasses import dataclass
from types import TracebackType

import serial

from devices.scale.sics import CRLF, MAX_LINE, SicsParseError, SicsReply, Weight, parse_reply, parse_weight
from devices.serial_port import PORT_ERRORS, open_serial


class ScaleError(Exception):
    """Base class of every balance failure."""


class ScaleTimeout(ScaleError):
    """The balance did not deliver what was asked in time (e.g. never became stable)."""


class ScaleOverload(ScaleError):
    """The load exceeds the balance's capacity (``+``)."""


class ScaleUnderload(ScaleError):
    """The reading is below the balance's lower limit (``-``), e.g. the pan is missing."""


class ScaleBusy(ScaleError):
    """The balance refused the command (``I``): busy with another command or not stable."""


class ScaleCommandError(ScaleError):
    """The balance answered ``ES``/``ET``/``EL`` or a command-specific ``L`` error."""


class ScaleProtocolError(ScaleError):
    """No valid reply after the bounded number of retries (line noise, wrong device)."""


class ScaleDisconnected(ScaleError):
    """The port is gone (cable unplugged, device powered off) or cannot be opened."""


_POLL = 0.05
"""Port read timeout: short, so deadlines are checked often and stay exact."""

LEVEL0_COMMANDS = frozenset({"@", "I4", "S", "SI", "Z"})
"""Commands every MT-SICS balance knows (level 0). ``ES`` ("not recognised") cannot be the answer to
one of them, so it is a late reply to an earlier line (another driver probing the port, a garbled
line) and the driver keeps reading for the real one."""

_GENERIC_MEANING = {
    "ES": "syntax error: the balance did not recognise the command",
    "ET": "transmission error: the balance received a garbled command",
    "EL": "logical error: the command cannot be executed now",
}


@dataclass(frozen=True)
class ScaleIdentity:
    """What the balance says about itself (I2/I3/I4). Unknown parts are None."""

    serial: str
    model: str | None = None
    firmware: str | None = None
    capacity: str | None = None

    def as_dict(self) -> dict[str, str | None]:
        return {
            "model": self.model,
            "serial": self.serial,
            "firmware": self.firmware,
            "capacity": self.capacity,
        }


class MtSicsScale:
    """A balance on a serial port. Thread-safe: one command at a time.

    ``timeout`` bounds each single reply; ``retries`` is how many times a command is
    re-sent after a garbled or missing reply before ``ScaleProtocolError``.
    """

    def __init__(
        self,
        port: str,
        *,
        baudrate: int = 9600,
        timeout: float = 1.0,
        retries: int = 3,
        stable_timeout: float = 10.0,
    ) -> None:
        self.port = port
        self.baudrate = baudrate
        self.timeout = timeout
        self.retries = retries
        self.stable_timeout = stable_timeout
        self._serial: serial.SerialBase | None = None
        self._lock = threading.RLock()
        self._rx = bytearray()
        self.stats = {"sent": 0, "retries": 0, "reconnects": 0}

    # -- connection -------------------------------------------------------------------
    def connect(self) -> None:
        """Open the port (idempotent). Raises ``ScaleDisconnected`` if it cannot be opened."""
        with self._lock:
            if self._serial is not None:
                return
            self._serial = open_serial(
                self.port,
                "balance",
                ScaleDisconnected,
                baudrate=self.baudrate,
                timeout=_POLL,
                write_timeout=self.timeout,
            )

    def close(self) -> None:
        with self._lock:
            if self._serial is not None:
                with contextlib.suppress(*PORT_ERRORS):
                    self._serial.close()
                self._serial = None

    @property
    def connected(self) -> bool:
        return self._serial is not None

    def __enter__(self) -> MtSicsScale:
        self.connect()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _ensure_open(self) -> serial.SerialBase:
        if self._serial is None:
            self.connect()
            if self.stats["sent"]:
                self.stats["reconnects"] += 1
        assert self._serial is not None
        return self._serial

    def _lost(self, exc: BaseException) -> ScaleDisconnected:
        self.close()
        return ScaleDisconnected(
            f"balance on {self.port} disconnected ({exc}); it is retried on the next command"
        )

    # -- raw transaction --------------------------------------------------------------
    def _read_line(self, port: serial.SerialBase, deadline: float) -> bytes | None:
        """Read up to CR LF before ``deadline``; None on timeout. Overlong lines are cut
        at ``MAX_LINE`` so line noise without terminators cannot grow memory."""
        while True:
            end = self._rx.find(CRLF)
            if end >= 0:
                line = bytes(self._rx[: end + 2])
                del self._rx[: end + 2]
                return line
            if len(self._rx) > MAX_LINE:
                line = bytes(self._rx)
                self._rx.clear()
                return line
            if time.monotonic() >= deadline:
                return None
            chunk = port.read(max(1, min(port.in_waiting, MAX_LINE)))
            self._rx += chunk

    def _exchange(self, command: str, expect: str, attempt_timeout: float | None = None) -> SicsReply:
        """Send ``command`` and return the first valid reply whose id is ``expect``.

        Generic errors are returned as-is (the caller decides); garbled or missing replies
        are retried up to ``self.retries`` times.
        """
        wait = attempt_timeout if attempt_timeout is not None else self.timeout
        problems: list[str] = []
        reopened = False
        with self._lock:
            for attempt in range(self.retries + 1):
                port = self._ensure_open()
                if attempt:
                    self.stats["retries"] += 1
                try:
                    port.reset_input_buffer()
                    self._rx.clear()
                    port.write(command.encode("ascii") + CRLF)
                    port.flush()
                    self.stats["sent"] += 1
                    deadline = time.monotonic() + wait
                    while True:
                        line = self._read_line(port, deadline)
                        if line is None:
                            problems.append("no reply")
                            break
                        try:
                            reply = parse_reply(line)
                        except SicsParseError as exc:
                            problems.append(f"garbled reply ({exc})")
                            break
                        if reply.is_generic_error and reply.command == "ET":
                            # the balance saw a garbled command: sending again is the fix
                            problems.append("balance reported a transmission error")
                            break
                        if reply.command == "ES" and command.split(" ")[0] in LEVEL0_COMMANDS:
                            problems.append("late ES reply to an earlier line")
                            continue
                        if reply.is_generic_error or reply.command == expect:
                            return reply
                        # a stale or unsolicited line: keep reading within the deadline
                        problems.append(f"unexpected {reply.command} reply")
                except PORT_ERRORS as exc:
                    # The handle died (cable pulled, possibly already plugged back). Reopen
                    # once within this call: if the device is back the command goes through,
                    # if not, the reopen raises ScaleDisconnected right away.
                    if reopened:
                        raise self._lost(exc) from exc
                    reopened = True
                    self.close()
                    problems.append(f"port error ({exc})")
                    try:
                        self._ensure_open()
                    except ScaleDisconnected as gone:
                        raise self._lost(exc) from gone
        raise ScaleProtocolError(
            f"no valid reply to {command!r} from balance on {self.port} after "
            f"{self.retries + 1} attempts: {'; '.join(problems)}"
        )

    def command(self, command: str, expect: str | None = None) -> SicsReply:
        """Send any MT-SICS command and return its reply (escape hatch for extra commands)."""
        if not command or not all(" " <= ch <= "~" for ch in command):
            raise ValueError("an MT-SICS command is printable ASCII without line terminators")
        reply = self._exchange(command, expect or command.split(" ")[0])
        self._raise_generic(command, reply)
        return reply

    @staticmethod
    def _raise_generic(command: str, reply: SicsReply) -> None:
        if reply.is_generic_error:
            raise ScaleCommandError(f"{command}: {_GENERIC_MEANING[reply.command]} ({reply.command})")

    def _check_status(self, command: str, reply: SicsReply) -> None:
        self._raise_generic(command, reply)
        if reply.status == "+":
            raise ScaleOverload(f"{command}: balance overloaded (load above capacity)")
        if reply.status == "-":
            raise ScaleUnderload(f"{command}: balance underloaded (pan missing or below zero range)")
        if reply.status == "I":
            raise ScaleBusy(f"{command}: balance busy or reading not stable")
        if reply.status == "L":
            raise ScaleCommandError(f"{command}: balance rejected the parameters")

    def _weight(self, command: str, reply: SicsReply) -> Weight:
        self._check_status(command, reply)
        try:
            return parse_weight(reply)
        except SicsParseError as exc:
            raise ScaleProtocolError(f"{command}: {exc}") from exc

    # -- commands ---------------------------------------------------------------------
    def reset(self) -> str:
        """``@``: cancel pending commands and reset; returns the serial number it reports."""
        reply = self._exchange("@", "I4")
        self._check_status("@", reply)
        return reply.fields[0] if reply.fields else ""

    def serial_number(self) -> str:
        reply = self._exchange("I4", "I4")
        self._check_status("I4", reply)
        if not reply.fields:
            raise ScaleProtocolError("I4: reply without a serial number")
        return reply.fields[0]

    def _info(self, command: str) -> str | None:
        """I2/I3 are optional on some balances: ES/EL means 'not available' -> None."""
        try:
            reply = self._exchange(command, command)
        except ScaleProtocolError:
            return None
        if reply.is_generic_error or reply.status != "A" or not reply.fields:
            return None
        return " ".join(reply.fields)

    def identify(self) -> ScaleIdentity:
        """Serial number (I4), plus model/capacity (I2) and firmware (I3) where available."""
        serial_no = self.serial_number()
        model = capacity = None
        balance_data = self._info("I2")
        if balance_data:
            # I2 A "<type> <capacity> <unit>": the last two words are the capacity
            words = balance_data.split()
            if len(words) >= 3:
                model, capacity = " ".join(words[:-2]), " ".join(words[-2:])
            else:
                model = balance_data
        firmware = self._info("I3")
        return ScaleIdentity(serial=serial_no, model=model, firmware=firmware, capacity=capacity)

    def immediate_weight(self) -> Weight:
        """``SI``: the current reading, stable or not (``Weight.stable`` tells)."""
        return self._weight("SI", self._exchange("SI", "S"))

    def stable_weight(self, timeout: float | None = None) -> Weight:
        """``S``: wait for a stable reading, at most ``timeout`` seconds (``ScaleTimeout``)."""
        limit = self.stable_timeout if timeout is None else timeout
        deadline = time.monotonic() + limit
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise ScaleTimeout(f"no stable weight within {limit:.1f} s (load still moving?)")
            try:
                reply = self._exchange("S", "S", attempt_timeout=max(self.timeout, min(remaining, 3.0)))
            except ScaleProtocolError as exc:
                if time.monotonic() >= deadline:
                    raise ScaleTimeout(f"no stable weight within {limit:.1f} s: {exc}") from exc
                raise
            if reply.status in {"I", "D"} and time.monotonic() < deadline:
                # I: not stable yet; D is never an answer to S (stale continuous output)
                time.sleep(min(0.05, max(0.0, deadline - time.monotonic())))
                continue
            if reply.status in {"I", "D"}:
                raise ScaleTimeout(f"no stable weight within {limit:.1f} s (load still moving?)")
            return self._weight("S", reply)

    def tare(self, timeout: float | None = None) -> Weight:
        """``T``: tare with the current (stable) load; returns the tare weight stored."""
        return self._weight("T", self._when_stable("T", "tare", timeout))

    def tare_value(self) -> Weight:
        """``TA``: the tare weight currently stored."""
        return self._weight("TA", self._exchange("TA", "TA"))

    def clear_tare(self) -> None:
        """``TAC``: clear the stored tare."""
        self._check_status("TAC", self._exchange("TAC", "TAC"))

    def zero(self, timeout: float | None = None) -> None:
        """``Z``: set zero once the reading is stable (``ScaleTimeout`` otherwise)."""
        self._check_status("Z", self._when_stable("Z", "zero", timeout))

    def _when_stable(self, cmd: str, what: str, timeout: float | None) -> SicsReply:
        """Repeat ``cmd`` while the balance refuses it (``I``: load not stable), up to ``timeout``."""
        limit = self.stable_timeout if timeout is None else timeout
        deadline = time.monotonic() + limit
        while True:
            reply = self._exchange(cmd, cmd, attempt_timeout=max(self.timeout, min(limit, 3.0)))
            if reply.status != "I":
                return reply
            if time.monotonic() >= deadline:
                raise ScaleTimeout(f"{what} not possible within {limit:.1f} s (load not stable)")
            time.sleep(0.05)

    def zero_immediately(self) -> bool:
        """``ZI``: zero now; returns whether the reading was stable when zeroed."""
        reply = self._exchange("ZI", "ZI")
        self._check_status("ZI", reply)
        return reply.status == "S"
