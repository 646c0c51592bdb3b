"""The fault-injection proxy itself: pass, drop, hang and back to pass, against a real echo server."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest
from faultproxy import FaultProxy, Mode


@pytest.fixture
def echo_port() -> Iterator[int]:
    """A threaded TCP echo server on a free port."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.05)
    stop = threading.Event()

    def serve(conn: socket.socket) -> None:
        with conn:
            while data := conn.recv(4096):
                conn.sendall(data)

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            threading.Thread(target=serve, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join()
    server.close()


def _roundtrip(port: int, payload: bytes = b"ping", timeout: float = 2.0) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as conn:
        conn.sendall(payload)
        return conn.recv(4096)


def _refused(port: int) -> bool:
    """True when the proxy closes a new connection without echoing."""
    try:
        return _roundtrip(port) == b""
    except ConnectionError:
        return True


def test_proxy_forwards_drops_hangs_and_recovers(echo_port: int) -> None:
    """Each mode does what it says: echo in pass, closed in drop, silence in hang, echo again after."""
    with FaultProxy("127.0.0.1", echo_port) as proxy:
        assert _roundtrip(proxy.port) == b"ping"

        held = socket.create_connection(proxy.address, timeout=2)
        held.sendall(b"a")
        assert held.recv(16) == b"a"
        proxy.set_mode(Mode.DROP)
        assert held.recv(16) == b""  # the open connection was closed
        held.close()
        assert _refused(proxy.port)  # new ones are accepted and closed at once

        proxy.set_mode(Mode.HANG)
        with pytest.raises(TimeoutError):
            _roundtrip(proxy.port, timeout=0.3)

        proxy.set_mode(Mode.PASS)
        assert _roundtrip(proxy.port) == b"ping"
