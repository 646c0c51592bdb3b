"""Plumbing for tests that drive a real browser against a real server on loopback.

``LiveServer`` gives a migrated SQLite database under a temp folder and settings whose public
URL is the port it will serve on; seed through ``.settings``/``.engine``, then serve the app
with ``with server.running():`` (uvicorn in a thread, stopped and disposed afterwards).
``chromium()`` launches the system Chromium headless (never a downloaded browser build).
Import as ``from browser import ...`` (``tests/`` is on ``sys.path`` through its conftest).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import uvicorn

from inspector.config import Settings
from inspector.db import make_engine, migrate
from inspector.web.app import create_app

if TYPE_CHECKING:
    from playwright.sync_api import Browser

CHROMIUM_PATH = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-background-networking", "--disable-gpu"]
SERVER_START_TIMEOUT_S = 20


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LiveServer:
    """The app with its own database, to be served on a free loopback port."""

    def __init__(self, data_dir: Path) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.settings = Settings(data_dir=data_dir, public_base_url=self.base)
        migrate(self.settings.resolved_database_url)
        self.engine = make_engine(self.settings.resolved_database_url)

    @contextmanager
    def running(self) -> Iterator[str]:
        """Serve until the block ends; yields the base URL. Disposes the engine afterwards."""
        server = uvicorn.Server(
            uvicorn.Config(create_app(self.settings, engine=self.engine), port=self.port, log_level="warning")
        )
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        try:
            deadline = time.monotonic() + SERVER_START_TIMEOUT_S
            while not server.started:
                assert time.monotonic() < deadline, "server did not start"
                time.sleep(0.05)
            yield self.base
        finally:
            server.should_exit = True
            thread.join(timeout=10)
            self.engine.dispose()


@contextmanager
def chromium() -> Iterator[Browser]:
    """A headless system Chromium, closed when the block ends."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM_PATH, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
