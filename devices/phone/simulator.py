"""A simulated Android phone speaking the device side of the ADB protocol over TCP.

It behaves like ``adbd`` listening on port 5555 with authentication disabled: the real Debian
``adb`` host can ``adb connect`` to it, list it in ``adb devices -l`` and run ``adb shell``
commands (shell protocol v2 when the profile's Android version has it, v1 otherwise), and so can
the pure-Python ``adb-shell`` client. Answers come from a :class:`PhoneProfile`.

Fault switches (:class:`PhoneFaults`): a delay before each answer, an unplug in the middle of
a command (the connection drops and the port stops accepting), a stall (the phone stops
answering but keeps the connection), and "unauthorized" (the phone demands a key and never
accepts one, as when nobody taps "Allow USB debugging").

Run standalone: ``python -m devices.phone.simulator --port 5555 --profile pixel-6``.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass, field

from devices.sim_runner import serve_until_interrupted

from .fakeshell import FakeShell, ShellOutput
from .profiles import PROFILES, PhoneProfile, get_profile
from .protocol import (
    A_AUTH,
    A_CLSE,
    A_CNXN,
    A_OKAY,
    A_OPEN,
    A_VERSION,
    A_VERSION_SKIP_CHECKSUM,
    A_WRTE,
    AUTH_RSAPUBLICKEY,
    AUTH_TOKEN,
    MAX_PAYLOAD,
    MAX_PAYLOAD_V1,
    SHELL_EXIT,
    SHELL_STDERR,
    SHELL_STDOUT,
    AdbMessage,
    AdbProtocolError,
    MessageParser,
    parse_service,
    shell_packet,
)

log = logging.getLogger(__name__)

SHELL_V2_MIN_SDK = 24  # shell protocol v2 arrived with Android 7.0


@dataclass
class PhoneFaults:
    """Switches that make the simulated phone misbehave; may be changed while it runs."""

    delay_s: float = 0.0
    # Drop the connection (and stop listening) when a shell command containing this text arrives,
    # after sending the first half of its output: a cable pulled mid-command.
    unplug_on: str | None = None
    # Stop answering (connection stays open) when a shell command containing this text arrives.
    stall_on: str | None = None
    unauthorized: bool = False


@dataclass
class _Stream:
    local_id: int
    remote_id: int
    pending: list[bytes] = field(default_factory=list)
    awaiting_ack: bool = False
    closing: bool = False


class _Connection:
    """One host connection; runs in its own thread, single-threaded state machine."""

    def __init__(self, sim: PhoneSimulator, sock: socket.socket) -> None:
        self.sim = sim
        self.sock = sock
        self.parser = MessageParser()
        self.connected = False
        self.max_payload = MAX_PAYLOAD_V1
        self.streams: dict[int, _Stream] = {}
        self.next_id = 1
        self.stalled = False

    def send(self, msg: AdbMessage) -> None:
        self.sock.sendall(msg.pack())

    def serve(self) -> None:
        self.sock.settimeout(0.2)
        try:
            while not self.sim._stopping.is_set():
                try:
                    chunk = self.sock.recv(65536)
                except TimeoutError:
                    continue
                if not chunk:
                    return
                for msg in self.parser.feed(chunk):
                    self.handle(msg)
        except AdbProtocolError as exc:
            log.warning("closing connection after protocol error: %s", exc)
        except OSError:
            pass  # unplugged / peer went away
        finally:
            with contextlib.suppress(OSError):
                self.sock.close()

    def handle(self, msg: AdbMessage) -> None:
        if self.stalled:
            return
        faults = self.sim.faults
        if msg.command == A_CNXN:
            if faults.unauthorized:
                self.send(AdbMessage(A_AUTH, AUTH_TOKEN, 0, os.urandom(20)))
                return
            version = min(msg.arg0, A_VERSION)
            self.max_payload = max(MAX_PAYLOAD_V1, min(msg.arg1, MAX_PAYLOAD))
            self.parser.verify_checksum = version < A_VERSION_SKIP_CHECKSUM
            self.connected = True
            self.send(AdbMessage(A_CNXN, A_VERSION, MAX_PAYLOAD, self.sim.banner().encode()))
            return
        if msg.command == A_AUTH:
            # Reject every signature with a fresh token; a public key just waits for a
            # user who never taps "Allow", exactly what an unattended phone does.
            if faults.unauthorized and msg.arg0 != AUTH_RSAPUBLICKEY:
                self.send(AdbMessage(A_AUTH, AUTH_TOKEN, 0, os.urandom(20)))
            return
        if not self.connected:
            return
        if msg.command == A_OPEN:
            self.open(msg.arg0, msg.data)
        elif msg.command == A_OKAY:
            stream = self.streams.get(msg.arg1)
            if stream is not None and stream.remote_id == msg.arg0:
                stream.awaiting_ack = False
                self.pump(stream)
        elif msg.command == A_WRTE:
            stream = self.streams.get(msg.arg1)
            if stream is not None:
                # stdin (or shell v2 stdin/close-stdin packets): acknowledged, ignored.
                self.send(AdbMessage(A_OKAY, stream.local_id, stream.remote_id))
        elif msg.command == A_CLSE:
            self.streams.pop(msg.arg1, None)

    def open(self, remote_id: int, raw: bytes) -> None:
        name, options, command = parse_service(raw)
        v2 = "v2" in options
        if name not in ("shell", "exec") or (v2 and not self.sim.shell_v2):
            self.send(AdbMessage(A_CLSE, 0, remote_id))
            return
        local_id = self.next_id
        self.next_id += 1
        stream = _Stream(local_id, remote_id)
        self.streams[local_id] = stream
        self.send(AdbMessage(A_OKAY, local_id, remote_id))
        faults = self.sim.faults
        self.sim._sleep(faults.delay_s)
        if faults.stall_on is not None and faults.stall_on in command:
            self.stalled = True
            return
        result = (
            self.sim.shell.run(command)
            if command
            else ShellOutput(b"", b"interactive shell not simulated\n", 1)
        )
        self.sim.commands.append(command)
        if v2:
            payload = b""
            if result.stdout:
                payload += shell_packet(SHELL_STDOUT, result.stdout)
            if result.stderr:
                payload += shell_packet(SHELL_STDERR, result.stderr)
            payload += shell_packet(SHELL_EXIT, bytes([result.exit_code & 0xFF]))
        else:
            payload = result.merged()
        if faults.unplug_on is not None and faults.unplug_on in command:
            half = payload[: len(payload) // 2]
            if half:
                self.send(AdbMessage(A_WRTE, local_id, remote_id, half))
            self.sim.unplug()
            return
        step = self.max_payload
        stream.pending = [payload[i : i + step] for i in range(0, len(payload), step)]
        stream.closing = True
        self.pump(stream)

    def pump(self, stream: _Stream) -> None:
        """Send the next chunk once the previous WRTE was acknowledged (ADB flow control)."""
        if stream.awaiting_ack:
            return
        if stream.pending:
            self.send(AdbMessage(A_WRTE, stream.local_id, stream.remote_id, stream.pending.pop(0)))
            stream.awaiting_ack = True
        elif stream.closing:
            self.streams.pop(stream.local_id, None)
            self.send(AdbMessage(A_CLSE, stream.local_id, stream.remote_id))


class PhoneSimulator:
    """A phone on a TCP port. ``start()`` returns ``(host, port)``; ``adb connect host:port``."""

    def __init__(
        self,
        profile: PhoneProfile | str = "pixel-6",
        host: str = "127.0.0.1",
        port: int = 0,
        faults: PhoneFaults | None = None,
    ) -> None:
        self.profile = get_profile(profile) if isinstance(profile, str) else profile
        self.host = host
        self.port = port
        self.faults = faults or PhoneFaults()
        self.shell = FakeShell(self.profile)
        # Shell commands received, newest last (bounded: a demo may run for days).
        self.commands: deque[str] = deque(maxlen=1000)
        self._stopping = threading.Event()
        self._listener: socket.socket | None = None
        self._lock = threading.Lock()
        self._conns: list[socket.socket] = []
        self._threads: list[threading.Thread] = []

    @property
    def display_on(self) -> bool:
        """Is the screen lit? The simulated station's camera renders the glass accordingly."""
        return self.shell.display_on

    @property
    def shell_v2(self) -> bool:
        return self.profile.sdk >= SHELL_V2_MIN_SDK

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def banner(self) -> str:
        props = self.profile.props
        features = ["cmd", "stat_v2"] + (["shell_v2"] if self.shell_v2 else [])
        return (
            f"device::ro.product.name={props.get('ro.product.name', '')};"
            f"ro.product.model={props.get('ro.product.model', '')};"
            f"ro.product.device={props.get('ro.product.device', '')};"
            f"features={','.join(features)}"
        )

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> tuple[str, int]:
        """Listen (again) and serve in background threads; keeps the port across replugs."""
        if self._listener is not None:
            return self.host, self.port
        self._stopping.clear()
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        deadline = time.monotonic() + 2.0
        while True:
            try:
                listener.bind((self.host, self.port))
                break
            except OSError:
                # A just-unplugged listener can linger until its accept loop wakes up.
                if self.port == 0 or time.monotonic() > deadline:
                    listener.close()
                    raise
                time.sleep(0.05)
        listener.listen(8)
        listener.settimeout(0.2)
        self.port = listener.getsockname()[1]
        self._listener = listener
        t = threading.Thread(
            target=self._accept_loop, args=(listener,), name=f"phone-sim-{self.port}", daemon=True
        )
        t.start()
        self._threads.append(t)
        return self.host, self.port

    def replug(self) -> tuple[str, int]:
        """Plug the phone back in after :meth:`unplug` (same port)."""
        return self.start()

    def unplug(self) -> None:
        """Pull the cable: drop every connection and stop accepting new ones."""
        listener, self._listener = self._listener, None
        if listener is not None:
            with contextlib.suppress(OSError):  # shutdown wakes the accept loop, stops listening now
                listener.shutdown(socket.SHUT_RDWR)
            listener.close()
        with self._lock:
            conns, self._conns = self._conns, []
        for c in conns:
            with contextlib.suppress(OSError):
                c.shutdown(socket.SHUT_RDWR)
            c.close()

    def stop(self) -> None:
        self._stopping.set()
        self.unplug()
        for t in self._threads:
            if t is not threading.current_thread():
                t.join(timeout=2.0)
        self._threads.clear()

    def __enter__(self) -> PhoneSimulator:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _sleep(self, seconds: float) -> None:
        self._stopping.wait(seconds) if seconds > 0 else None

    def _accept_loop(self, listener: socket.socket) -> None:
        while not self._stopping.is_set():
            try:
                sock, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return  # listener closed: unplugged or stopped
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._lock:
                self._conns.append(sock)
            t = threading.Thread(target=_Connection(self, sock).serve, daemon=True)
            t.start()
            self._threads = [th for th in self._threads if th.is_alive()] + [t]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m devices.phone.simulator",
        description="Simulated Android phone on an ADB-over-TCP port (connect with `adb connect HOST:PORT`).",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5555, help="TCP port (0 = pick a free one)")
    parser.add_argument(
        "--profile", default="pixel-6", help=f"built-in profile: {', '.join(sorted(PROFILES))}"
    )
    parser.add_argument(
        "--profile-file", help="JSON profile (PhoneProfile.to_dict format) instead of --profile"
    )
    parser.add_argument("--delay", type=float, default=0.0, help="seconds to wait before each answer")
    parser.add_argument("--unauthorized", action="store_true", help="demand a key and never accept it")
    args = parser.parse_args(argv)
    from pathlib import Path

    profile = (
        PhoneProfile.from_json_file(Path(args.profile_file))
        if args.profile_file
        else get_profile(args.profile)
    )
    sim = PhoneSimulator(
        profile, args.host, args.port, PhoneFaults(delay_s=args.delay, unauthorized=args.unauthorized)
    )
    host, port = sim.start()
    print(f"simulated {profile.props.get('ro.product.model')} listening on {host}:{port}", flush=True)
    return serve_until_interrupted(sim.stop)


if __name__ == "__main__":
    raise SystemExit(main())
