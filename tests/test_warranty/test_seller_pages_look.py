"""A seller's staff on a shared platform, in a real browser, in Chinese and English, on a phone and
a desktop: the header names the seller, the stations page lists theirs. Nothing wider than the
screen, no serious accessibility problem, no English left on a Chinese page. Screenshots go to
test-artifacts/screens/seller-*.png to look at."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest
from browser import LOCALES, WIDTHS, LiveServer, chromium, look_at, reader_page
from page_language import untranslated

from inspector.auth.sellers import add_seller
from inspector.auth.service import Role, create_user
from inspector.certificates.testing import issue_sample_certificate
from inspector.config import ServerRole
from inspector.db import session_scope
from inspector.platform.tables import EnrolledStation

if TYPE_CHECKING:
    from playwright.sync_api import Browser

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A platform with seller "jade" running two stations (one with a certificate), and Mei, its staff."""
    server = LiveServer(tmp_path_factory.mktemp("sellerlook"))
    server.settings = server.settings.model_copy(update={"role": ServerRole.PLATFORM})
    with session_scope(server.engine) as s:
        add_seller(s, "jade", "翡翠坊 Jade House")
    with session_scope(server.engine) as s:
        for n, station in enumerate(("live-room-3-long-station-name", "warehouse-desk")):
            s.add(
                EnrolledStation(
                    station_id=station,
                    status_list_first=1_000_000 + 64 * n,
                    status_list_count=64,
                    seller_id="jade",
                )
            )
        create_user(s, "mei", Role.staff, "staff-pass-long", seller_id="jade")
    with session_scope(server.engine) as s:
        issue_sample_certificate(s, server.settings, station_id="live-room-3-long-station-name")
    with server.running() as base:
        yield base


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as b:
        yield b


def test_a_sellers_staff_pages_read_well_in_both_languages(browser: Browser, platform: str) -> None:
    """The claims queue and the stations page of seller Jade's staff."""
    found: dict[str, list[str]] = {}
    for locale in LOCALES:
        for width in WIDTHS:
            with reader_page(browser, locale, width) as page:
                page.goto(f"{platform}/auth/login?next=/staff/claims")
                page.fill("input[name=username]", "mei")
                page.fill("input[name=password]", "staff-pass-long")
                page.keyboard.press("Enter")
                page.wait_for_url(f"{platform}/staff/claims")
                assert "翡翠坊 Jade House" in page.inner_text("body")
                for name, path in (("queue", "/staff/claims"), ("stations", "/staff/stations")):
                    page.goto(platform + path)
                    look = look_at(page, f"seller-{name}-{locale}-{width}")
                    problems = look.problems()
                    if locale == "zh-CN":
                        problems += [
                            f"English on a Chinese page: {m!r}" for m in untranslated(page.content())
                        ]
                    found[f"{name} {locale} {width}"] = problems
                assert "warehouse-desk" in page.inner_text("main")
    assert {k: v for k, v in found.items() if v} == {}
