"""The site-wide pages in a real browser: both languages, phone and desktop width."""

from __future__ import annotations

from pathlib import Path

import pytest
from browser import LOCALES, WIDTHS, LiveServer, chromium, look_at, reader_page
from page_language import untranslated

from inspector.config import ServerRole


@pytest.mark.parametrize("locale", LOCALES)
def test_the_sign_in_page_reads_well_in_each_language_and_width(tmp_path: Path, locale: str) -> None:
    """Nothing wider than the screen, no serious accessibility problem, the words in the reader's
    language; screenshots in test-artifacts/screens/ to look at."""
    server = LiveServer(tmp_path)
    with server.running() as base, chromium() as browser:
        for width in WIDTHS:
            with reader_page(browser, locale, width) as page:
                page.goto(f"{base}/auth/login")
                look = look_at(page, f"login-{locale}-{width}")
                assert look.problems() == [], look.problems()
                heading = page.locator("h1").inner_text()
                assert heading == ("登录" if locale == "zh-CN" else "Sign in")


@pytest.mark.parametrize("locale", LOCALES)
def test_the_page_not_found_reads_well_in_each_language_and_width(tmp_path: Path, locale: str) -> None:
    server = LiveServer(tmp_path)
    with server.running() as base, chromium() as browser:
        for width in WIDTHS:
            with reader_page(browser, locale, width) as page:
                response = page.goto(f"{base}/c/no-such-page/at/all")
                assert response is not None and response.status == 404
                look = look_at(page, f"not-found-{locale}-{width}")
                assert look.problems() == [], look.problems()


@pytest.mark.parametrize("locale", LOCALES)
def test_the_platform_home_page_finds_a_certificate_by_its_number(tmp_path: Path, locale: str) -> None:
    """A buyer without the QR code types the number from the label and lands on its verify page."""
    server = LiveServer(tmp_path)
    server.settings = server.settings.model_copy(update={"role": ServerRole.PLATFORM})
    with server.running() as base, chromium() as browser:
        for width in WIDTHS:
            with reader_page(browser, locale, width) as page:
                page.goto(f"{base}/")
                look = look_at(page, f"platform-home-{locale}-{width}")
                assert look.problems() == [], look.problems()
                if locale == "zh-CN":
                    assert untranslated(page.content()) == []
        with reader_page(browser, locale, WIDTHS[0]) as page:
            page.goto(f"{base}/")
            page.fill("input[name=q]", "7T5K-PGHA-TW")
            page.click("button[type=submit]")
            assert page.url == f"{base}/c/7T5K-PGHA-TW"  # no such certificate here: its own page says so
