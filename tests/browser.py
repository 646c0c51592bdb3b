"""Plumbing for tests that drive a real browser against a real server on loopback.

``LiveServer`` gives a migrated SQLite database under a temp folder and settings whose public
URL is the port it will serve on; seed through ``.settings``/``.engine``, then serve the app
with ``with server.running():`` (uvicorn in a thread, stopped and disposed afterwards).
``chromium()`` launches the system Chromium headless (never a downloaded browser build).
``reader_page(browser, locale, width)`` opens a tab as a reader of that language on a screen that
wide; ``look_at(page, name)`` saves a full-page screenshot under ``test-artifacts/screens/`` (to
look at), and reports what overflows the screen and axe-core's serious and critical violations.
Import as ``from browser import ...`` (``tests/`` is on ``sys.path`` through its conftest).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import uvicorn

from inspector.config import Settings
from inspector.db import make_engine, migrate
from inspector.web.app import create_app

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

CHROMIUM_PATH = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-background-networking", "--disable-gpu"]
SERVER_START_TIMEOUT_S = 20
SCREENS_DIR = Path(__file__).resolve().parent.parent / "test-artifacts" / "screens"
PHONE_WIDTH, DESKTOP_WIDTH = 390, 1366
WIDTHS = (PHONE_WIDTH, DESKTOP_WIDTH)
LOCALES = ("zh-CN", "en")


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


@contextmanager
def reader_page(browser: Browser, locale: str, width: int, height: int = 844) -> Iterator[Page]:
    """A tab as a reader of ``locale`` (its Accept-Language) on a screen ``width`` CSS px wide."""
    context = browser.new_context(
        locale=locale, viewport={"width": width, "height": height}, device_scale_factor=1
    )
    try:
        yield context.new_page()
    finally:
        context.close()


@dataclass
class PageLook:
    """What a look at one rendered page found."""

    screenshot: Path
    overflow_px: int  # how far the page is wider than the screen (0: it fits)
    serious: list[str] = field(default_factory=list)  # axe-core violations, serious or critical

    def problems(self) -> list[str]:
        found = [f"{self.overflow_px} px wider than the screen"] if self.overflow_px > 0 else []
        return found + self.serious


def look_at(page: Page, name: str) -> PageLook:
    """Screenshot the whole page to ``test-artifacts/screens/<name>.png`` and check it."""
    from axe_playwright_python.sync_playwright import Axe

    SCREENS_DIR.mkdir(parents=True, exist_ok=True)
    path = SCREENS_DIR / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    overflow = int(page.evaluate("document.documentElement.scrollWidth - window.innerWidth"))
    response: dict[str, Any] = Axe().run(page).response
    serious = [
        f"axe {v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes'][:3]]}"
        for v in response.get("violations", [])
        if v.get("impact") in ("serious", "critical")
    ]
    return PageLook(path, overflow, serious)
