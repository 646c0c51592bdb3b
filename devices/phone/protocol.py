"""The ADB wire protocol as seen from the device side (what adbd speaks on TCP port 5555).

A message is a 24-byte little-endian header ``command, arg0, arg1, data_length, data_check,
magic`` followed by ``data_length`` bytes. ``magic`` is ``command ^ 0xFFFFFFFF``; ``data_check``
is the byte sum of the payload. Hosts at protocol version ``0x01000001`` and later stop checking
the sum, older ones (and the pure-Python ``adb-shell``) still do, so we always send it and accept
either a correct sum or zero when the negotiated version allows skipping it.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

A_SYNC = 0x434E5953
A_CNXN = 0x4E584E43
A_OPEN = 0x4E45504F
A_OKAY = 0x59414B4F
A_CLSE = 0x45534C43
A_WRTE = 0x45545257
A_AUTH = 0x48545541
A_STLS = 0x534C5453

COMMAND_NAMES = {
    A_SYNC: "SYNC",
    A_CNXN: "CNXN",
    A_OPEN: "OPEN",
    A_OKAY: "OKAY",
    A_CLSE: "CLSE",
    A_WRTE: "WRTE",
    A_AUTH: "AUTH",
    A_STLS: "STLS",
}

A_VERSION_MIN = 0x01000000
A_VERSION_SKIP_CHECKSUM = 0x01000001
A_VERSION = 0x01000001
MAX_PAYLOAD_V1 = 4 * 1024
MAX_PAYLOAD = 1024 * 1024

AUTH_TOKEN = 1
AUTH_SIGNATURE = 2
AUTH_RSAPUBLICKEY = 3

HEADER = struct.Struct("<6I")

# Shell protocol v2 packet ids (adb/shell_protocol.h).
SHELL_STDIN = 0
SHELL_STDOUT = 1
SHELL_STDERR = 2
SHELL_EXIT = 3
SHELL_CLOSE_STDIN = 4
SHELL_WINDOW_SIZE = 5
SHELL_HEADER = struct.Struct("<BI")


class AdbProtocolError(Exception):
    """Bytes on the wire that no ADB peer would send (bad magic, unknown command, oversize)."""


@dataclass(frozen=True)
class AdbMessage:
    command: int
    arg0: int
    arg1: int
    data: bytes = b""

    @property
    def name(self) -> str:
        return COMMAND_NAMES.get(self.command, f"0x{self.command:08x}")

    def pack(self) -> bytes:
        return (
            HEADER.pack(
                self.command,
                self.arg0 & 0xFFFFFFFF,
                self.arg1 & 0xFFFFFFFF,
                len(self.data),
                checksum(self.data),
                self.command ^ 0xFFFFFFFF,
            )
            + self.data
        )


def checksum(data: bytes) -> int:
    return sum(data) & 0xFFFFFFFF


class MessageParser:
    """Incremental decoder: feed it whatever ``recv`` returned, get whole messages out.

    Raises :class:`AdbProtocolError` on anything malformed; never any other exception, whatever
    the input (a property test holds it to that).
    """

    def __init__(self, max_payload: int = MAX_PAYLOAD, verify_checksum: bool = True) -> None:
        self.max_payload = max_payload
        self.verify_checksum = verify_checksum
        self._buf = bytearray()

    def feed(self, chunk: bytes) -> list[AdbMessage]:
        self._buf.extend(chunk)
        out: list[AdbMessage] = []
        while len(self._buf) >= HEADER.size:
            command, arg0, arg1, length, check, magic = HEADER.unpack_from(self._buf, 0)
            if magic != command ^ 0xFFFFFFFF:
                raise AdbProtocolError(f"bad magic 0x{magic:08x} for command 0x{command:08x}")
            if command not in COMMAND_NAMES:
                raise AdbProtocolError(f"unknown command 0x{command:08x}")
            if length > self.max_payload:
                raise AdbProtocolError(f"payload of {length} bytes exceeds the limit {self.max_payload}")
            if len(self._buf) < HEADER.size + length:
                break
            data = bytes(self._buf[HEADER.size : HEADER.size + length])
            del self._buf[: HEADER.size + length]
            if self.verify_checksum and check != checksum(data) and check != 0:
                raise AdbProtocolError(f"bad data checksum 0x{check:08x} != 0x{checksum(data):08x}")
            out.append(AdbMessage(command, arg0, arg1, data))
        return out


def shell_packet(packet_id: int, data: bytes) -> bytes:
    return SHELL_HEADER.pack(packet_id, len(data)) + data


def parse_service(raw: bytes) -> tuple[str, list[str], str]:
    """Split an OPEN payload such as ``shell,v2,raw:getprop`` into (service, options, argument)."""
    text = raw.rstrip(b"\0").decode("utf-8", errors="replace")
    head, sep, arg = text.partition(":")
    if not sep:
        return head, [], ""
    name, *options = head.split(",")
    return name, options, arg
