"""The staff claim queue on the platform hears claims change without a reload, in both languages."""

from __future__ import annotations

from pathlib import Path

import pytest
from browser import LiveServer, chromium, reader_page
from wty_helpers import add_user, buyer_claim, make_cert, sell

from inspector.config import ServerRole

pytestmark = pytest.mark.browser
TIMEOUT_MS = 30_000
NOTICE = {"zh-CN": "有理赔单发生了变动", "en": "Claims changed since this page was loaded"}


def test_the_platform_queue_says_when_a_claim_was_opened_meanwhile(tmp_path: Path) -> None:
    """Staff looking at the queue see, in their language, that a buyer opened a claim after the
    page was read, and the reload button shows it; the station's queue has no such notice."""
    server = LiveServer(tmp_path / "platform")
    server.settings = server.settings.model_copy(update={"role": ServerRole.PLATFORM})
    token = add_user(server.engine, "sam", "staff")
    with server.running() as base, chromium() as browser:
        for locale, words in NOTICE.items():
            cert = make_cert()
            sell(server.engine, cert)
            with reader_page(browser, locale, 1366) as page:
                page.set_default_timeout(TIMEOUT_MS)
                page.goto(f"{base}/auth/login?next=/staff/claims#token={token}")
                page.wait_for_url(f"{base}/staff/claims")
                notice = page.locator("#queue-live")
                assert notice.is_hidden() and cert.human_id not in page.inner_text("table")
                buyer_claim(server.engine, cert.human_id)
                notice.wait_for(state="visible")
                assert words in notice.inner_text()
                notice.get_by_role("button").click()
                page.wait_for_selector(f"table :text('{cert.human_id}')")


def test_the_station_queue_has_no_live_notice(tmp_path: Path) -> None:
    """A station has no platform event stream; its queue page does not try to open one."""
    server = LiveServer(tmp_path / "station")
    token = add_user(server.engine, "sam", "staff")
    with server.running() as base, chromium() as browser, reader_page(browser, "en", 1366) as page:
        page.set_default_timeout(TIMEOUT_MS)
        page.goto(f"{base}/auth/login?next=/staff/claims#token={token}")
        page.wait_for_url(f"{base}/staff/claims")
        assert page.locator("#queue-live").count() == 0
