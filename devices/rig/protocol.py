"""Rig controller wire protocol: framing, CRC, message ids and payload codecs.

Shared by the host driver, the Python simulator and the tests, so that all three agree byte
for byte with ``hardware/PROTOCOL.md`` and the C firmware.  Frame layout::

    0xA5 | LEN | SEQ | ID | PAYLOAD (LEN bytes) | CRC16 hi | CRC16 lo

CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF, no reflection, xorout 0) over LEN..PAYLOAD,
sent big-endian.  Multi-byte payload fields are little-endian (the AVR's native order).
"""

from __future__ import annotations

import binascii
import enum
import struct
from dataclasses import dataclass

SYNC = 0xA5
MAX_PAYLOAD = 48
HEADER_LEN = 4  # sync, len, seq, id
OVERHEAD = HEADER_LEN + 2  # + crc
MAX_FRAME = MAX_PAYLOAD + OVERHEAD
PROTOCOL_VERSION = 1
STEPS_PER_TURN = 28800  # 200 full steps x 16 microsteps x 9:1 belt reduction
TENTHS_PER_TURN = 3600


class Cmd(enum.IntEnum):
    """Host -> device message ids."""

    IDENTIFY = 0x01
    GET_STATUS = 0x02
    SET_LIGHT = 0x03
    ROTATE_TO = 0x04
    HOME = 0x05
    STOP = 0x06
    ECHO = 0x07
    EVENT_ACK = 0x40  # seq field = the acknowledged event's seq; never answered


class Msg(enum.IntEnum):
    """Device -> host message ids."""

    ACK = 0x80
    NAK = 0x81
    EVENT = 0x82


class ErrorCode(enum.IntEnum):
    """NAK codes and motion results (0 = OK)."""

    OK = 0x00
    BAD_CRC = 0x01
    BAD_LENGTH = 0x02
    UNKNOWN_CMD = 0x03
    BAD_ARG = 0x04
    BUSY = 0x05
    NOT_HOMED = 0x06
    STALL = 0x07
    LID_OPEN = 0x08
    STOPPED = 0x09

    @classmethod
    def describe(cls, code: int) -> str:
        try:
            return _ERROR_TEXT[cls(code)]
        except ValueError:
            return f"unknown device error 0x{code:02x}"


_ERROR_TEXT = {
    ErrorCode.OK: "ok",
    ErrorCode.BAD_CRC: "frame failed its CRC check",
    ErrorCode.BAD_LENGTH: "payload length wrong for this command",
    ErrorCode.UNKNOWN_CMD: "command not known to this firmware",
    ErrorCode.BAD_ARG: "argument out of range",
    ErrorCode.BUSY: "turntable is moving; wait for it or send STOP",
    ErrorCode.NOT_HOMED: "turntable not homed; send HOME first",
    ErrorCode.STALL: "home switch not found within 1.1 turns (jammed table, slipped belt or broken switch)",
    ErrorCode.LID_OPEN: "lid is open; motion refused for safety",
    ErrorCode.STOPPED: "motion stopped by a STOP command",
}


class EventType(enum.IntEnum):
    BOOT = 0x01
    BUTTON_PRESSED = 0x02
    LID_OPENED = 0x03
    LID_CLOSED = 0x04
    MOVE_DONE = 0x05
    HOME_DONE = 0x06


# Status flag bits (GET_STATUS byte 0).
FLAG_HOMED = 0x01
FLAG_MOVING = 0x02
FLAG_LID_OPEN = 0x04
FLAG_BUTTON_DOWN = 0x08
FLAG_HOMING = 0x10


def crc16(data: bytes) -> int:
    """CRC-16/CCITT-FALSE; ``crc16(b"123456789") == 0x29B1``."""
    return binascii.crc_hqx(data, 0xFFFF)


@dataclass(frozen=True, slots=True)
class Frame:
    seq: int
    msg_id: int
    payload: bytes = b""

    def encode(self) -> bytes:
        return encode_frame(self.seq, self.msg_id, self.payload)


def encode_frame(seq: int, msg_id: int, payload: bytes = b"") -> bytes:
    if not 0 <= seq <= 0xFF or not 0 <= msg_id <= 0xFF:
        raise ValueError("seq and msg_id must be bytes")
    if len(payload) > MAX_PAYLOAD:
        raise ValueError(f"payload of {len(payload)} bytes exceeds {MAX_PAYLOAD}")
    body = bytes((len(payload), seq, msg_id)) + payload
    crc = crc16(body)
    return bytes((SYNC,)) + body + bytes((crc >> 8, crc & 0xFF))


@dataclass(frozen=True, slots=True)
class BadFrame:
    """A candidate frame whose CRC did not match; ``seq`` is a best guess (it may be corrupt)."""

    seq: int
    msg_id: int


class FrameParser:
    """Streaming decoder: feed arbitrary bytes, get frames and CRC failures back.

    On a CRC failure only the sync byte is discarded and the rest is re-scanned, so a frame
    that follows a truncated one is still found (the firmware does the same with a timeout).
    """

    def __init__(self) -> None:
        self._buf = bytearray()
        self.bad_crc = 0
        self.bad_length = 0
        self.discarded = 0

    def feed(self, data: bytes) -> list[Frame | BadFrame]:
        self._buf += data
        out: list[Frame | BadFrame] = []
        buf = self._buf
        while True:
            start = buf.find(SYNC)
            if start < 0:
                self.discarded += len(buf)
                buf.clear()
                break
            if start:
                self.discarded += start
                del buf[:start]
            if len(buf) < 2:
                break
            length = buf[1]
            if length > MAX_PAYLOAD:
                self.bad_length += 1
                self.discarded += 1
                del buf[:1]
                continue
            total = length + OVERHEAD
            if len(buf) < total:
                break
            body = bytes(buf[1 : HEADER_LEN + length])
            got = (buf[total - 2] << 8) | buf[total - 1]
            if crc16(body) == got:
                out.append(Frame(buf[2], buf[3], bytes(buf[HEADER_LEN : total - 2])))
                del buf[:total]
            else:
                self.bad_crc += 1
                self.discarded += 1
                out.append(BadFrame(buf[2], buf[3]))
                del buf[:1]
        return out

    def expire(self) -> list[Frame | BadFrame]:
        """The line went idle with a partial frame held: it was truncated (a byte lost, a cable
        pulled).  Give up on it and re-scan what followed its sync byte, so that a complete frame
        sent after the truncated one is not lost while waiting for bytes that will never come."""
        out: list[Frame | BadFrame] = []
        while self._buf:
            self.discarded += 1
            del self._buf[:1]
            out += self.feed(b"")
        return out

    def reset(self) -> None:
        self._buf.clear()

    @property
    def pending(self) -> int:
        """Bytes held waiting for the rest of a frame."""
        return len(self._buf)


# ---- payload codecs -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Identity:
    protocol_version: int
    firmware_version: str
    serial: str
    model: str


def encode_identity(proto: int, fw: tuple[int, int, int], serial: int, model: str) -> bytes:
    m = model.encode("ascii")[:16]
    return struct.pack("<BBBBI", proto, *fw, serial) + m


def decode_identity(payload: bytes) -> Identity:
    if len(payload) < 8:
        raise ValueError(f"IDENTIFY reply too short ({len(payload)} bytes)")
    proto, a, b, c, serial = struct.unpack_from("<BBBBI", payload)
    model = payload[8:].decode("ascii", errors="replace")
    return Identity(proto, f"{a}.{b}.{c}", f"{serial:08X}", model)


@dataclass(frozen=True, slots=True)
class Status:
    """Snapshot of the rig. Angles in tenths of a degree, light 0-255."""

    homed: bool
    moving: bool
    homing: bool
    lid_open: bool
    button_down: bool
    light: int
    angle_tenths: int
    target_tenths: int
    rx_errors: int

    @property
    def angle(self) -> float:
        return self.angle_tenths / 10

    @property
    def light_percent(self) -> float:
        return round(self.light * 100 / 255, 1)


STATUS_FMT = "<BBHHH"


def encode_status(s: Status) -> bytes:
    flags = (
        (FLAG_HOMED if s.homed else 0)
        | (FLAG_MOVING if s.moving else 0)
        | (FLAG_LID_OPEN if s.lid_open else 0)
        | (FLAG_BUTTON_DOWN if s.button_down else 0)
        | (FLAG_HOMING if s.homing else 0)
    )
    return struct.pack(STATUS_FMT, flags, s.light, s.angle_tenths, s.target_tenths, s.rx_errors & 0xFFFF)


def decode_status(payload: bytes) -> Status:
    if len(payload) != struct.calcsize(STATUS_FMT):
        raise ValueError(f"STATUS reply has {len(payload)} bytes, expected {struct.calcsize(STATUS_FMT)}")
    flags, light, angle, target, errs = struct.unpack(STATUS_FMT, payload)
    return Status(
        homed=bool(flags & FLAG_HOMED),
        moving=bool(flags & FLAG_MOVING),
        homing=bool(flags & FLAG_HOMING),
        lid_open=bool(flags & FLAG_LID_OPEN),
        button_down=bool(flags & FLAG_BUTTON_DOWN),
        light=light,
        angle_tenths=angle,
        target_tenths=target,
        rx_errors=errs,
    )
