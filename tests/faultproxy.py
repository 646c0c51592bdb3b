"""A small threaded TCP proxy that tests put between a client and a server to inject faults.

Start one per test, point the client at ``proxy.port`` instead of the server, and switch its
mode at any moment::

    with FaultProxy("127.0.0.1", 5432) as proxy:
        url = f"postgresql+psycopg://postgres@127.0.0.1:{proxy.port}/test"
        ...
        proxy.set_mode(Mode.DROP)   # the database "goes away"
        proxy.set_mode(Mode.PASS)   # and comes back

Modes:

- ``PASS``: forward bytes both ways (the default).
- ``DROP``: close every open connection at once and refuse new ones (accepted, then closed
  straight away), as when a server restarts or a cable is pulled.
- ``HANG``: keep every connection open but stop forwarding in both directions, and accept new
  connections without ever answering them, as when a server or a firewall black-holes traffic.

Switching back to ``PASS`` lets new connections through again. Connections that were held in
``HANG`` are closed on that switch (their protocol state is unknown after bytes were swallowed),
so the client sees a broken connection instead of a stream with a hole in it.

Only the standard library is used; every socket operation uses a short timeout so that mode
changes and ``close()`` take effect within about a tenth of a second.
"""

from __future__ import annotations

import contextlib
import enum
import select
import socket
import threading
from types import TracebackType

__all__ = ["FaultProxy", "Mode"]

_POLL_S = 0.05
_CHUNK = 65536


class Mode(enum.StrEnum):
    """What the proxy does with traffic."""

    PASS = "pass"
    """Forward bytes both ways."""
    DROP = "drop"
    """Close all connections and refuse new ones."""
    HANG = "hang"
    """Accept, never answer: hold connections open and forward nothing."""


class _Link:
    """One client connection and its upstream connection."""

    def __init__(self, client: socket.socket, upstream: socket.socket | None) -> None:
        self.client = client
        self.upstream = upstream
        self.closed = threading.Event()

    def close(self) -> None:
        """Close both ends (idempotent)."""
        self.closed.set()
        for sock in (self.client, self.upstream):
            if sock is None:
                continue
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()


class FaultProxy:
    """A TCP proxy on 127.0.0.1 with a free port, forwarding to ``target_host:target_port``."""

    def __init__(self, target_host: str, target_port: int, mode: Mode = Mode.PASS) -> None:
        self.target = (target_host, target_port)
        self._mode = mode
        self._lock = threading.Lock()
        self._links: set[_Link] = set()
        self._stopping = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(_POLL_S)
        self.port: int = self._listener.getsockname()[1]
        self.connections_accepted = 0
        self._acceptor = threading.Thread(target=self._accept_loop, name="faultproxy-accept", daemon=True)
        self._acceptor.start()

    # -- control ---------------------------------------------------------------------------

    @property
    def mode(self) -> Mode:
        """The current mode."""
        return self._mode

    @property
    def address(self) -> tuple[str, int]:
        """Where clients connect: ``("127.0.0.1", port)``."""
        return ("127.0.0.1", self.port)

    def set_mode(self, mode: Mode) -> None:
        """Switch mode; ``DROP`` closes every open link now, leaving ``HANG`` closes held links."""
        with self._lock:
            previous, self._mode = self._mode, mode
            doomed = (
                list(self._links)
                if mode is Mode.DROP or (previous is Mode.HANG and mode is not Mode.HANG)
                else []
            )
            for link in doomed:
                self._links.discard(link)
        for link in doomed:
            link.close()

    def open_connections(self) -> int:
        """How many client connections are open right now."""
        with self._lock:
            return len(self._links)

    def close(self) -> None:
        """Stop accepting, close every connection and wait for the threads to end."""
        self._stopping.set()
        self._acceptor.join(timeout=2)
        self._listener.close()
        with self._lock:
            links, self._links = list(self._links), set()
        for link in links:
            link.close()

    def __enter__(self) -> FaultProxy:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- threads ---------------------------------------------------------------------------

    def _accept_loop(self) -> None:
        while not self._stopping.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections_accepted += 1
            mode = self._mode
            if mode is Mode.DROP:
                client.close()
                continue
            upstream: socket.socket | None = None
            if mode is Mode.PASS:
                try:
                    upstream = socket.create_connection(self.target, timeout=5)
                except OSError:
                    client.close()
                    continue
            link = _Link(client, upstream)
            with self._lock:
                self._links.add(link)
            threading.Thread(target=self._pump, args=(link,), name="faultproxy-link", daemon=True).start()

    def _pump(self, link: _Link) -> None:
        """Forward between the two ends while in PASS; hold everything while in HANG."""
        try:
            while not link.closed.is_set() and not self._stopping.is_set():
                if self._mode is not Mode.PASS or link.upstream is None:
                    # HANG (or a connection accepted while hanging): read nothing, answer nothing.
                    link.closed.wait(_POLL_S)
                    continue
                readable, _, _ = select.select([link.client, link.upstream], [], [], _POLL_S)
                if self._mode is not Mode.PASS:
                    continue
                for src in readable:
                    dst = link.upstream if src is link.client else link.client
                    data = src.recv(_CHUNK)
                    if not data:
                        return
                    dst.sendall(data)
        except (OSError, ValueError):
            return
        finally:
            with self._lock:
                self._links.discard(link)
            link.close()
