"""The sync as the station's people see it: a real station process, a real platform process.

The operator's console says in words what waits for the platform and why, and clears by itself
when the platform is back; the stream overlay offers the certificate's QR code only once buyers
can open it, by itself, and says meanwhile that it is being published; an enrolled station's
certificate pages send readers to the platform. The platform runs on SQLite here, as in
``make demo`` (``test_sync_end_to_end.py`` runs it on PostgreSQL).
Screenshots: test-artifacts/screens/sync-*.png.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from browser import LOCALES, WIDTHS, chromium, free_port, look_at, reader_page
from page_language import untranslated
from sqlalchemy.engine import Engine
from sync_processes import (
    ServeProcess,
    enrol_in_process,
    inspect_phone,
    issue,
    operator_auth,
    platform_process,
    station_process,
    tamper_certificate,
    wait_until,
)

from inspector.certificates.keys import ROOT_KEY_FILE
from inspector.db import make_engine

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = pytest.mark.browser
STATION = "st-pages"
TIMEOUT_MS = 60_000
WORDS = {
    "en": {
        "backlog": "1 certificate waiting for the platform",
        "unreachable": "Platform unreachable since",
        "not_yet": "Waiting for the platform",
        "all_sent": "All certificates are on the platform",
        "refused": "1 certificate refused by the platform: it was changed after it was signed",
        "refused_badge": "Refused by the platform",
    },
    "zh-CN": {
        "backlog": "1 份证书待同步到平台",
        "unreachable": "无法连接平台",
        "not_yet": "待同步到平台",
        "all_sent": "所有证书均已同步到平台",
        "refused": "1 份证书被平台拒收：签名后内容被改动过",  # noqa: RUF001 (Chinese punctuation)
        "refused_badge": "被平台拒收",
    },
}


@dataclass
class Site:
    platform: ServeProcess
    station: ServeProcess
    engine: Engine  # the station's database
    data: Path  # the station's data directory
    auth: dict[str, str]  # an operator's API token

    def sync(self) -> dict[str, Any]:
        r = httpx.get(f"{self.station.base}/api/station/sync", headers=self.auth, timeout=10)
        assert r.status_code == 200, r.text
        state: dict[str, Any] = r.json()
        return state


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """A platform (SQLite) and a simulated station enrolled with it, each its own process."""
    tmp = tmp_path_factory.mktemp("sync-pages")
    platform_data = tmp / "platform"
    platform_data.mkdir()
    platform_url = f"sqlite:///{platform_data / 'platform.db'}"
    platform = platform_process(platform_data, platform_url, free_port()).start()
    try:
        platform_engine = make_engine(platform_url)
        data = tmp / "station"
        engine = enrol_in_process(platform, platform_engine, data, STATION)
        platform_engine.dispose()
        auth = operator_auth(engine)
        station = station_process(data, STATION, free_port()).start()
        try:
            yield Site(platform, station, engine, data, auth)
        finally:
            station.stop()
            engine.dispose()
    finally:
        platform.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as b:
        yield b


@pytest.fixture(scope="module")
def cookies(site: Site, browser: Browser) -> list[Any]:
    """An operator's session, signed in once through the token link (it outlives station restarts)."""
    context = browser.new_context()
    try:
        page = context.new_page()
        token = site.auth["Authorization"].split()[1]
        page.goto(f"{site.station.base}/station/console#token={token}")
        page.wait_for_url(f"{site.station.base}/station/console")
        return list(context.cookies())
    finally:
        context.close()


def open_console(page: Page, site: Site, cookies: list[Any]) -> None:
    page.set_default_timeout(TIMEOUT_MS)
    page.context.add_cookies(cookies)
    page.goto(f"{site.station.base}/station/console")
    page.wait_for_selector("#sync-panel:not([hidden])")
    page.wait_for_selector("#result:not([hidden])")
    page.wait_for_selector("#recent li .badge:not(:empty)")
    page.wait_for_selector("#preview[src^='blob:']")


def open_overlay(page: Page, site: Site) -> None:
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(f"{site.station.base}/station/overlay")
    page.wait_for_selector("#verdict:not([hidden])")


def check_look(page: Page, name: str, locale: str) -> None:
    """Nothing wider than the screen, no serious accessibility problem, no English left on zh."""
    look = look_at(page, name)
    assert look.problems() == [], (name, look.problems())
    if locale == "zh-CN":
        html = page.content()
        assert untranslated(html) == [], (name, untranslated(html))


def restart_speaking(site: Site, tag: str) -> None:
    """The station again, set to a language (``INSPECTOR_LOCALE``): the overlay's audience hears it."""
    site.station.stop()
    site.station.env["INSPECTOR_LOCALE"] = tag
    site.station.start()


def test_console_and_overlay_follow_the_platform_going_away_and_coming_back(
    site: Site, browser: Browser, cookies: list[Any]
) -> None:
    """With the platform down, a phone is inspected: the console says, in the operator's language,
    that one certificate waits for the platform, since when the platform is unreachable and why,
    and marks the certificate as not on the platform yet; the overlay shows no QR code but says
    the certificate is being published. The platform comes back: with no reload, the overlay
    shows the QR code to the platform's address and the console says everything was sent."""
    site.platform.stop()
    try:
        view = inspect_phone(site.station.base, site.auth)
        hid = view["certificate_id"]
        assert view["certificate_on_platform"] is False
        wait_until("the station finding the platform away", lambda: site.sync()["condition"] == "offline")
        for locale in LOCALES:
            for width in WIDTHS:
                with reader_page(browser, locale, width) as page:
                    open_console(page, site, cookies)
                    page.wait_for_selector("#sync-panel[data-condition='offline']")
                    words = WORDS[locale]
                    assert page.inner_text("#sync-headline") == words["backlog"]
                    assert words["unreachable"] in page.inner_text("#sync-problem")
                    assert words["not_yet"] in page.inner_text("#result")
                    check_look(page, f"sync-console-offline-{locale}-{width}", locale)
        for width in WIDTHS:  # the station speaks English (the tests' INSPECTOR_LOCALE)
            with reader_page(browser, "en", width) as page:
                open_overlay(page, site)
                assert page.is_visible("#publishing") and page.is_hidden("#cert")
                check_look(page, f"sync-overlay-publishing-en-{width}", "en")

        restart_speaking(site, "zh-CN")
        with ExitStack() as stack:
            overlays = {w: stack.enter_context(reader_page(browser, "zh-CN", w)) for w in WIDTHS}
            for width, page in overlays.items():
                open_overlay(page, site)
                assert page.inner_text("#publishing") == "证书正在发布" and page.is_hidden("#cert")
                check_look(page, f"sync-overlay-publishing-zh-CN-{width}", "zh-CN")
            console = stack.enter_context(reader_page(browser, "zh-CN", 1366))
            open_console(console, site, cookies)
            console.wait_for_selector("#sync-panel[data-condition='offline']")

            site.platform.start()
            for width, page in overlays.items():  # by themselves: the page is not reloaded
                page.wait_for_selector("#cert:not([hidden]) #qr[src$='qr.svg']")
                page.wait_for_function("() => document.querySelector('#qr').naturalWidth > 0")
                assert page.is_hidden("#publishing")
                assert page.inner_text("#cert-url") == f"{site.platform.base}/c/{hid}".removeprefix("http://")
                check_look(page, f"sync-overlay-published-zh-CN-{width}", "zh-CN")
            console.wait_for_selector("#sync-panel[data-tone='good']")
            assert console.inner_text("#sync-headline") == WORDS["zh-CN"]["all_sent"]
            assert console.is_hidden("#sync-problem")
            assert WORDS["zh-CN"]["not_yet"] not in console.inner_text("#result")
        for locale in LOCALES:
            for width in WIDTHS:
                with reader_page(browser, locale, width) as page:
                    open_console(page, site, cookies)
                    assert page.inner_text("#sync-headline") == WORDS[locale]["all_sent"]
                    check_look(page, f"sync-console-sent-{locale}-{width}", locale)
    finally:
        if site.platform.proc is None or site.platform.proc.poll() is not None:
            site.platform.start()


def test_an_enrolled_stations_certificate_pages_send_readers_to_the_platform(site: Site) -> None:
    """A certificate signed for the platform is not checked on the station (which holds none of
    the platform's keys and makes no issuer root of its own to try): its page, credential,
    verification, label and label PDF answer 303 to the same at the platform's address, where it
    verifies once it has arrived."""
    hid, _ = issue(site.engine, site.data, STATION)
    home = f"{site.platform.base}/c/{hid}"
    for suffix in ("", ".json", "/verify.json", "/label", "/label.pdf"):
        for typed in (hid, hid.lower()):  # as a buyer may type it
            r = httpx.get(f"{site.station.base}/c/{typed}{suffix}", timeout=10)
            assert r.status_code == 303, (suffix, r.status_code, r.text[:300])
            assert r.headers["location"] == home + suffix
    verdict = wait_until(
        "the certificate verifying at the platform's address",
        lambda: (r := httpx.get(f"{home}/verify.json", timeout=10)).status_code == 200 and r.json(),
    )
    assert verdict["verdict"] == "valid", verdict
    assert not (site.data / "keys" / ROOT_KEY_FILE).exists()
    other = hid[:-1] + ("X" if hid[-1] != "X" else "Y")  # never the id itself
    missing = httpx.get(f"{site.station.base}/c/{other}", timeout=10)
    assert missing.status_code == 404  # an id the station never issued is still not found here


def test_a_certificate_the_platform_refuses_for_good_is_shown_refused_and_never_as_a_qr_code(
    site: Site, browser: Browser, cookies: list[Any]
) -> None:
    """A certificate altered on the station before the platform saw it is refused as tampered: the
    console says "1 certificate refused by the platform: ..." in the operator's language with the
    certificate's number, and marks it refused instead of waiting; the overlay shows neither its
    QR code nor "being published"."""
    site.platform.stop()
    try:
        view = inspect_phone(site.station.base, site.auth)
        hid = view["certificate_id"]
        tamper_certificate(site.engine, hid)
    finally:
        site.platform.start()
    wait_until("the station recording the refusal", lambda: site.sync()["refused"]["certificate"] == 1)
    for locale in LOCALES:
        with reader_page(browser, locale, 1366) as page:
            open_console(page, site, cookies)
            page.wait_for_selector("#sync-refused:not([hidden])")
            words = WORDS[locale]
            assert page.inner_text("#sync-refused-text") == words["refused"]
            assert page.inner_text("#sync-headline") != words["all_sent"]
            assert hid in page.inner_text("#sync-refused-detail")
            assert words["refused_badge"] in page.inner_text("#result")
            assert words["not_yet"] not in page.inner_text("#result")
            check_look(page, f"sync-console-refused-{locale}-1366", locale)
    spoken = site.station.env.get("INSPECTOR_LOCALE", "en")
    for width in WIDTHS:
        with reader_page(browser, spoken, width) as page:
            open_overlay(page, site)
            assert page.is_hidden("#publishing") and page.is_hidden("#cert")
            check_look(page, f"sync-overlay-refused-{spoken}-{width}", spoken)
