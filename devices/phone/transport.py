"""How the station reaches a phone: a small :class:`AdbTransport` protocol, two implementations.

* :class:`AdbServerTransport` goes through the ``adb`` server (via ``adbutils``), which owns the
  USB phones on a real station (and TCP ones after ``adb connect``).
* :class:`AdbTcpTransport` talks ADB-over-TCP straight to a phone's adbd with the pure-Python
  ``adb-shell`` package: no ``adb`` binary needed, which is what the demo uses.

Both run every command as ``<cmd>; echo <marker>$?``: the marker proves the output is complete
(a phone unplugged mid-command can otherwise look like a short, successful answer) and carries
the exit status on phones without shell protocol v2. Every call has a timeout; failures map to
the exceptions in :mod:`devices.phone.errors`.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from .errors import PhoneDisconnected, PhoneError, PhoneNotFound, PhoneProbeError, PhoneUnauthorized

DEFAULT_TIMEOUT_S = 10.0
EXIT_MARKER = "__INSPECTOR_EXIT__:"
DEFAULT_SERVER_PORT = 5037


@dataclass(frozen=True)
class ShellResult:
    output: str
    exit_code: int


@dataclass(frozen=True)
class AdbDeviceEntry:
    """One line of ``adb devices -l``: serial, state (device/unauthorized/offline/...), identity."""

    serial: str
    state: str
    model: str | None = None
    product: str | None = None
    device: str | None = None
    transport_id: int | None = None
    tags: dict[str, str] = field(default_factory=dict)


@runtime_checkable
class AdbTransport(Protocol):
    """What the probe needs from a connection to one phone."""

    @property
    def serial(self) -> str: ...

    def run(self, command: str, timeout: float | None = None) -> ShellResult:
        """Run a shell command; raise PhoneDisconnected if the answer is cut or late."""
        ...

    def shell(self, command: str, timeout: float | None = None) -> str:
        """Stdout (and stderr, merged as ``adb shell`` v1 does) of a shell command."""
        ...

    def list_devices(self) -> list[AdbDeviceEntry]:
        """The phones reachable the way this transport reaches phones."""
        ...

    def close(self) -> None: ...


def _wrap(command: str) -> str:
    return f"{command}; echo {EXIT_MARKER}$?"


def _unwrap(command: str, raw: str) -> ShellResult:
    idx = raw.rfind(EXIT_MARKER)
    if idx < 0:
        raise PhoneDisconnected(f"answer to {command!r} was cut off (phone unplugged?)")
    tail = raw[idx + len(EXIT_MARKER) :].strip()
    try:
        code = int(tail)
    except ValueError:
        raise PhoneDisconnected(f"answer to {command!r} was cut off (phone unplugged?)") from None
    return ShellResult(raw[:idx], code)


# -- through the adb server ----------------------------------------------------------------------
def _server_port(port: int | None) -> int:
    if port is not None:
        return port
    return int(os.environ.get("ANDROID_ADB_SERVER_PORT", DEFAULT_SERVER_PORT))


def _server_running(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1.0):
            return True
    except OSError:
        return False


def ensure_adb_server(host: str = "127.0.0.1", port: int | None = None, timeout: float = 20.0) -> None:
    """Start the local ``adb`` server on ``port`` if nothing listens there (as ``adb devices`` does)."""
    port = _server_port(port)
    if _server_running(host, port):
        return
    if host not in ("127.0.0.1", "localhost"):
        raise PhoneError(f"no adb server at {host}:{port}")
    adb = shutil.which("adb")
    if adb is None:
        raise PhoneError("the `adb` program is not installed (Debian/Ubuntu: apt-get install adb)")
    try:
        subprocess.run(
            [adb, "-P", str(port), "start-server"], timeout=timeout, check=True, capture_output=True
        )
    except (subprocess.SubprocessError, OSError) as exc:
        raise PhoneError(f"could not start the adb server on port {port}: {exc}") from exc


def _client(host: str, port: int, timeout: float) -> Any:
    import adbutils

    return adbutils.AdbClient(host=host, port=port, socket_timeout=timeout)


def list_adb_devices(
    host: str = "127.0.0.1", port: int | None = None, timeout: float = 5.0, start_server: bool = True
) -> list[AdbDeviceEntry]:
    """Every phone the adb server knows, with state and model (``adb devices -l``).

    ``port`` defaults to ``$ANDROID_ADB_SERVER_PORT`` or 5037. With ``start_server`` the local
    server is started when it is not running; otherwise a missing server raises PhoneError.
    """
    import adbutils

    port = _server_port(port)
    if start_server:
        ensure_adb_server(host, port)
    elif not _server_running(host, port):
        raise PhoneError(f"no adb server at {host}:{port}")
    try:
        infos = _client(host, port, timeout).list(extended=True)
    except (adbutils.AdbError, OSError) as exc:
        raise PhoneError(f"adb server at {host}:{port} did not answer: {exc}") from exc
    out = []
    for info in infos:
        tags = dict(info.tags)
        tid = tags.get("transport_id")
        out.append(
            AdbDeviceEntry(
                serial=info.serial,
                state=info.state,
                model=tags.get("model"),
                product=tags.get("product"),
                device=tags.get("device"),
                transport_id=int(tid) if tid and tid.isdigit() else None,
                tags=tags,
            )
        )
    return out


def adb_connect(address: str, host: str = "127.0.0.1", port: int | None = None, timeout: float = 10.0) -> str:
    """``adb connect ADDRESS`` through the server (for phones on TCP, e.g. the simulator)."""
    import adbutils

    port = _server_port(port)
    ensure_adb_server(host, port)
    try:
        return str(_client(host, port, timeout).connect(address, timeout=timeout))
    except (adbutils.AdbError, OSError) as exc:
        raise PhoneNotFound(f"adb connect {address} failed: {exc}") from exc


class AdbServerTransport:
    """A phone reached through the adb server, by serial (USB serial or ``host:port``).

    ``timeout`` bounds connecting to the server and each wait for the phone's output.
    """

    def __init__(
        self,
        serial: str,
        host: str = "127.0.0.1",
        port: int | None = None,
        timeout: float = DEFAULT_TIMEOUT_S,
    ) -> None:
        self._serial = serial
        self.host = host
        self.port = _server_port(port)
        self.timeout = timeout
        self._check_state()
        self._device = _client(host, self.port, timeout).device(serial=serial)

    @property
    def serial(self) -> str:
        return self._serial

    def _check_state(self) -> None:
        # Like `adb shell`, start the local server if needed: a fresh station has none running.
        entries = {e.serial: e for e in list_adb_devices(self.host, self.port, self.timeout)}
        entry = entries.get(self._serial)
        if entry is None:
            raise PhoneNotFound(f"no phone with serial {self._serial!r} is attached")
        if entry.state == "unauthorized":
            raise PhoneUnauthorized(
                f"phone {self._serial} has not authorized this station: unlock it and tap "
                "'Allow USB debugging'"
            )
        if entry.state != "device":
            raise PhoneDisconnected(f"phone {self._serial} is {entry.state}, not ready")

    def list_devices(self) -> list[AdbDeviceEntry]:
        return list_adb_devices(self.host, self.port, self.timeout, start_server=False)

    def run(self, command: str, timeout: float | None = None) -> ShellResult:
        import adbutils

        t = timeout if timeout is not None else self.timeout
        try:
            raw = self._device.shell(_wrap(command), timeout=t, encoding=None, rstrip=False)
        except adbutils.AdbTimeout as exc:
            raise PhoneDisconnected(
                f"phone {self._serial} did not answer {command!r} within {t:g} s"
            ) from exc
        except adbutils.AdbError as exc:
            msg = str(exc)
            if "unauthorized" in msg:
                raise PhoneUnauthorized(f"phone {self._serial} is unauthorized: {msg}") from exc
            if "not found" in msg or "offline" in msg or "closed" in msg:
                raise PhoneDisconnected(f"phone {self._serial} went away: {msg}") from exc
            raise PhoneProbeError(f"adb error on {command!r}: {msg}") from exc
        except TimeoutError as exc:
            raise PhoneDisconnected(
                f"phone {self._serial} did not answer {command!r} within {t:g} s"
            ) from exc
        except OSError as exc:
            raise PhoneDisconnected(f"connection to the adb server broke: {exc}") from exc
        return _unwrap(command, bytes(raw).decode("utf-8", errors="replace"))

    def shell(self, command: str, timeout: float | None = None) -> str:
        return self.run(command, timeout).output

    def close(self) -> None:
        """Nothing to release: the adb server owns the phone connection."""


# -- direct ADB over TCP ---------------------------------------------------------------------------
def _eof_aware_tcp_transport(host: str, port: int) -> Any:
    """adb-shell's TCP transport; a closed socket raises instead of reading b'' until the timeout."""
    from adb_shell.transport.tcp_transport import TcpTransport

    class _Transport(TcpTransport):
        def connect(self, transport_timeout_s: float | None) -> None:
            super().connect(transport_timeout_s)
            # adb-shell writes header and payload separately: without NODELAY, Nagle plus the
            # peer's delayed ACK add ~40 ms to every command.
            self._connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def bulk_read(self, numbytes: int, transport_timeout_s: float | None) -> bytes:
            data: bytes = super().bulk_read(numbytes, transport_timeout_s)
            if not data:
                raise ConnectionResetError(f"{host}:{port} closed the connection")
            return data

    return _Transport(host, port)


class AdbTcpTransport:
    """ADB over TCP directly to a phone's adbd (``adb tcpip`` phones, the simulator), no adb server.

    ``rsa_keys`` are adb-shell signers (e.g. ``PythonRSASigner``); without them a phone that
    requires authentication raises PhoneUnauthorized.
    """

    def __init__(
        self,
        host: str,
        port: int = 5555,
        timeout: float = DEFAULT_TIMEOUT_S,
        rsa_keys: list[Any] | None = None,
    ) -> None:
        from adb_shell.adb_device import AdbDevice
        from adb_shell.exceptions import AdbTimeoutError, DeviceAuthError, TcpTimeoutException

        self.host = host
        self.port = port
        self.timeout = timeout
        self._dev = AdbDevice(_eof_aware_tcp_transport(host, port), default_transport_timeout_s=timeout)
        try:
            self._dev.connect(
                rsa_keys=rsa_keys, transport_timeout_s=timeout, auth_timeout_s=timeout, read_timeout_s=timeout
            )
        except DeviceAuthError as exc:
            self.close()
            raise PhoneUnauthorized(f"phone at {self.serial} requires an authorized ADB key") from exc
        except (AdbTimeoutError, TcpTimeoutException) as exc:
            self.close()
            if rsa_keys:
                raise PhoneUnauthorized(f"phone at {self.serial} did not accept this station's key") from exc
            raise PhoneDisconnected(f"phone at {self.serial} did not complete the ADB handshake") from exc
        except ConnectionRefusedError as exc:
            self.close()
            raise PhoneNotFound(f"nothing listens at {self.serial}") from exc
        except OSError as exc:
            self.close()
            raise PhoneNotFound(f"cannot reach {self.serial}: {exc}") from exc
        except Exception as exc:  # adb-shell's protocol errors (InvalidResponse, checksum, ...)
            self.close()
            raise PhoneProbeError(f"ADB handshake with {self.serial} failed: {exc}") from exc

    @property
    def serial(self) -> str:
        return f"{self.host}:{self.port}"

    def list_devices(self) -> list[AdbDeviceEntry]:
        return [AdbDeviceEntry(serial=self.serial, state="device" if self._dev.available else "offline")]

    def run(self, command: str, timeout: float | None = None) -> ShellResult:
        from adb_shell.exceptions import AdbConnectionError, AdbTimeoutError, TcpTimeoutException

        t = timeout if timeout is not None else self.timeout
        if not self._dev.available:
            raise PhoneDisconnected(f"phone at {self.serial} is not connected")
        try:
            raw = self._dev.shell(
                _wrap(command), transport_timeout_s=t, read_timeout_s=t, timeout_s=t, decode=False
            )
        except (AdbTimeoutError, TcpTimeoutException) as exc:
            self.close()
            raise PhoneDisconnected(
                f"phone at {self.serial} did not answer {command!r} within {t:g} s"
            ) from exc
        except (AdbConnectionError, OSError) as exc:
            self.close()
            raise PhoneDisconnected(f"phone at {self.serial} went away during {command!r}: {exc}") from exc
        except Exception as exc:  # adb-shell's protocol errors
            self.close()
            raise PhoneProbeError(f"bad ADB answer to {command!r}: {exc}") from exc
        return _unwrap(command, bytes(raw).decode("utf-8", errors="replace"))

    def shell(self, command: str, timeout: float | None = None) -> str:
        return self.run(command, timeout).output

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._dev.close()
