"""The station's own pages in a real browser: the home page, the operator console and the stream
overlay, during and after an inspection, in both languages, on a phone and a laptop screen.

One simulated station (SQLite) and one browser serve the whole module. The console follows its
reader's language; the overlay follows the station's, so each language's overlay is looked at
with the station set to that language. Screenshots: test-artifacts/screens/station-*.png.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from browser import LOCALES, WIDTHS, chromium, look_at, reader_page
from page_language import untranslated, visible_text
from station_helpers import Station, make_user, running_sqlite_station

from inspector.auth import Role
from inspector.i18n import AppLocale, parse_locale, translate

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = pytest.mark.browser
TIMEOUT_MS = 60_000
PHONE_CHECKS = ("check_buttons", "check_speaker", "check_cameras", "check_touch")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Station]:
    with running_sqlite_station(tmp_path_factory.mktemp("station-pages"), "pages.db") as st:
        yield st


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as b:
        yield b


@pytest.fixture(scope="module")
def operator_cookies(site: Station, browser: Browser) -> list[Any]:
    """The session of an operator signed in once through the token link (as `inspector demo` prints)."""
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(f"{site.base}/station/console#token={site.token}")
        page.wait_for_url(f"{site.base}/station/console")
        return list(context.cookies())
    finally:
        context.close()


@contextmanager
def station_speaks(st: Station, tag: str) -> Iterator[None]:
    """The station set to a language (``INSPECTOR_LOCALE``), as the overlay's audience hears it."""
    before = st.settings.locale
    locale = parse_locale(tag)
    assert locale is not None
    st.settings.locale = locale
    try:
        yield
    finally:
        st.settings.locale = before


def open_console(page: Page, st: Station, cookies: list[Any]) -> None:
    page.set_default_timeout(TIMEOUT_MS)
    page.context.add_cookies(cookies)
    page.goto(f"{st.base}/station/console")
    page.wait_for_selector("#devices dt")
    page.wait_for_selector("#steps li")
    page.wait_for_selector("#recent li .badge:not(:empty)")
    page.wait_for_selector("#preview[src^='blob:']")


def open_overlay(page: Page, st: Station) -> None:
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(f"{st.base}/station/overlay")
    page.wait_for_selector("#checklist:not([hidden]) #steps li")


def check_look(page: Page, name: str, locale: str) -> str:
    """Nothing wider than the screen, no serious accessibility problem and, on a Chinese page, no
    English catalogue message left; returns the page's HTML."""
    look = look_at(page, name)
    assert look.problems() == [], (name, look.problems())
    html = page.content()
    if locale == "zh-CN":
        assert untranslated(html) == [], (name, untranslated(html))
    return html


def check_overlay(page: Page, name: str, locale: str, secrets: list[str]) -> None:
    """The overlay shows no internal detail and cuts nothing short."""
    html = check_look(page, name, locale)
    text = visible_text(html)
    for secret in secrets:
        assert secret not in html, (name, secret)
    assert not re.search(r"Transport|/dev/|\.py\b|Traceback", text), (name, text)
    assert "…" not in text and "..." not in text, (name, text)
    cut = page.evaluate(
        """() => [...document.querySelectorAll('#steps li span, #reasons li, #item-title, .sub')]
             .filter((el) => el.scrollWidth > el.clientWidth + 1
                             || getComputedStyle(el).textOverflow === 'ellipsis')
             .map((el) => el.textContent)"""
    )
    assert cut == [], (name, cut)
    spill = page.evaluate(
        """() => [...document.querySelectorAll('.panel:not([hidden])')].flatMap((panel) => {
             const box = panel.getBoundingClientRect();
             return [...panel.querySelectorAll('li, figure, #cert')].filter((el) => {
               const r = el.getBoundingClientRect();
               return r.bottom > box.bottom + 1 || r.right > box.right + 1;
             }).map((el) => el.textContent.trim());
           })"""
    )
    assert spill == [], (name, spill)


def inspect_phone(st: Station) -> tuple[int, list[str]]:
    """A phone inspection over the API, left waiting at its first operator check; returns its id and
    what must never reach the stream (IMEIs, serials, the USB transport)."""
    st.sim.put_phone(seed=5, defects=("scratch",))
    with st.client() as c:
        assert c.post("/api/station/arm", json={"kind": "phone"}).status_code == 200
        r = c.post("/api/station/inspections", json={"kind": "phone", "auto_finish": False})
        iid = int(r.json()["id"])
        st.pass_review(iid)  # the marks on the rendered phone, confirmed
        view = st.wait_status(iid, "waiting_operator")
        waiting = [s["key"] for s in view["steps"] if s["status"] == "waiting"]
        assert waiting == ["check_buttons"], waiting
    ident = view["identity"]
    connection = view["steps"][0]["result"]["connection"]
    secrets = [*ident["imeis"], ident["serial"], connection.get("serial"), connection.get("transport")]
    return iid, [str(s) for s in secrets if s]


def finish_phone(st: Station, iid: int) -> dict[str, Any]:
    with st.client() as c:
        for key in PHONE_CHECKS:
            st.wait_status(iid, "waiting_operator")
            answer = {"passed": key != "check_touch"}
            r = c.post(f"/api/station/inspections/{iid}/steps/{key}/answer", json=answer)
            assert r.status_code == 200, r.text
        st.wait_status(iid, "waiting_operator")
        assert c.post(f"/api/station/inspections/{iid}/finish").status_code == 200
    return st.wait_status(iid, "completed")


def look_at_everything(
    browser: Browser, st: Station, cookies: list[Any], moment: str, secrets: list[str]
) -> None:
    for locale in LOCALES:
        for width in WIDTHS:
            with reader_page(browser, locale, width) as page:
                open_console(page, st, cookies)
                check_look(page, f"station-console-{moment}-{locale}-{width}", locale)
            with station_speaks(st, locale), reader_page(browser, locale, width) as page:
                open_overlay(page, st)
                check_overlay(page, f"station-overlay-{moment}-{locale}-{width}", locale, secrets)


def test_home_page_reads_well_in_each_language_and_width(site: Station, browser: Browser) -> None:
    """The station's home page: in the reader's language, nothing wider than the screen."""
    for locale in LOCALES:
        for width in WIDTHS:
            with reader_page(browser, locale, width) as page:
                page.goto(f"{site.base}/")
                check_look(page, f"station-home-{locale}-{width}", locale)
                heading = page.locator("h1").inner_text()
                assert heading == ("检测工位" if locale == "zh-CN" else "Inspection station")


def test_opening_the_console_leaves_the_station_armed_as_it_was(
    site: Station, browser: Browser, operator_cookies: list[Any]
) -> None:
    """A jewel on the station, armed for jewelry: an operator opening the console (whatever their
    browser chose last time) sees jewelry selected and the station stays armed for it, with the
    jewel still on it; pressing 1 arms it for a phone, because the operator chose so."""
    site.sim.put_jewelry(mg=4_321, seed=7)
    with site.client() as c:
        assert c.post("/api/station/arm", json={"kind": "jewelry"}).json() == {"armed_kind": "jewelry"}
    with reader_page(browser, "en", 1366) as page:
        page.add_init_script("localStorage.setItem('station-kind', 'phone')")  # an earlier session's pick
        page.set_default_timeout(TIMEOUT_MS)
        page.context.add_cookies(operator_cookies)
        page.goto(f"{site.base}/station/console")
        page.wait_for_selector("#devices dt")
        page.wait_for_selector("#kind-jewelry[aria-checked='true']")
        page.wait_for_load_state("networkidle")
        with site.client() as c:
            assert c.get("/api/station/devices").json()["armed_kind"] == "jewelry"
        assert site.sim.camera is not None and site.sim.camera.item is not None
        assert site.sim.camera.item.kind == "jewelry"

        with page.expect_response("**/api/station/arm") as armed:
            page.keyboard.press("1")
        assert armed.value.json() == {"armed_kind": "phone"}
        assert page.get_attribute("#kind-phone", "aria-checked") == "true"
    with site.client() as c:
        assert c.get("/api/station/devices").json()["armed_kind"] == "phone"


def test_console_and_overlay_read_well_during_and_after_an_inspection(
    site: Station, browser: Browser, operator_cookies: list[Any]
) -> None:
    """While a phone waits for its operator checks and once its certificate is issued, the console
    (operator's language) and the overlay (station's language) fit a 390 px phone and a 1366 px
    laptop with no serious accessibility problem and no English left on the Chinese pages; the
    overlay names no IMEI, serial or USB transport and shows the grade's reasons whole."""
    iid, secrets = inspect_phone(site)
    look_at_everything(browser, site, operator_cookies, "during", secrets)

    done = finish_phone(site, iid)
    assert done["verdict"] == "fail" and done["grade"]
    look_at_everything(browser, site, operator_cookies, "after", secrets)

    for locale in LOCALES:
        app_locale = parse_locale(locale)
        assert app_locale is not None
        with station_speaks(site, locale), reader_page(browser, locale, 1920, 1080) as page:  # OBS's size
            live = httpx.get(f"{site.base}/api/station/live", timeout=10).json()["inspection"]
            open_overlay(page, site)
            page.wait_for_selector("#cert:not([hidden])")
            shown = live["shown"]
            assert page.inner_text("#grade") == shown["grade"]
            if app_locale is AppLocale.ZH_CN and done["grade"] == "D":
                assert shown["grade"] == "8成新及以下"  # a phone's grade by its trade name
            reasons = page.inner_text("#reasons")
            for reason in shown["reasons"][:3]:  # whole sentences, in the station's language
                assert reason in reasons
            status = {s["key"]: s["shown"]["status"] for s in live["steps"]}
            assert page.locator("#steps li.failed").count() == 1
            assert status["check_touch"] == ("未通过" if app_locale is AppLocale.ZH_CN else "failed")
            check_overlay(page, f"station-overlay-obs-{locale}", locale, secrets)


def test_recent_list_and_header_agree_in_the_readers_language(
    site: Station, browser: Browser, operator_cookies: list[Any]
) -> None:
    """While an inspection waits for the operator, the console's header and its row in the recent
    list say the same state, in Chinese for a Chinese reader."""
    site.sim.put_phone(seed=11)
    with site.client() as c:
        r = c.post("/api/station/inspections", json={"kind": "phone", "auto_finish": False})
        iid = int(r.json()["id"])
    site.wait_status(iid, "waiting_operator")
    try:
        with reader_page(browser, "zh-CN", 390) as page:
            open_console(page, site, operator_cookies)
            page.wait_for_selector(f"#recent li[data-id='{iid}'] .badge[data-status='waiting_operator']")
            page.wait_for_selector("#insp-status[data-status='waiting_operator']")
            header = page.inner_text("#insp-status")
            assert header == "等待操作员"
            assert page.inner_text(f"#recent li[data-id='{iid}'] .badge") == header
    finally:
        with site.client() as c:
            assert c.post(f"/api/station/inspections/{iid}/abort").status_code == 200


def test_a_refused_start_is_explained_in_the_readers_language(site: Station) -> None:
    """The API keeps its English ``detail`` for programs and says the same in the reader's
    language as ``message`` (what the console shows)."""
    with site.client() as c:
        r = c.post(
            "/api/station/inspections",
            json={"kind": "jewelry", "supersedes": "NOSUCHCERT"},
            headers={"Accept-Language": "zh-CN"},
        )
    assert r.status_code == 422
    said = "no certificate %(id)s: check the id on the item's label"
    assert r.json()["detail"] == said % {"id": "NOSUCHCERT"}
    chinese = translate(AppLocale.ZH_CN, said, id="NOSUCHCERT")
    assert r.json()["message"] == chinese and chinese != r.json()["detail"] and "NOSUCHCERT" in chinese


def test_a_jewel_stopped_by_a_pulled_cable_then_declared_and_certified(
    site: Station, browser: Browser, operator_cookies: list[Any]
) -> None:
    """A jewelry inspection whose rig cable is pulled: the Chinese console names the step it stopped
    at and what to do, the overlay tells the audience only that it is paused; once resumed, the
    declaration form offers the metals in Chinese, and the overlay of the certified piece (four
    photos, its declared metal in the title) fits both screens in both languages."""
    site.sim.put_jewelry(mg=2_345, seed=3)
    site.sim.rig.unplug()
    try:
        with site.client() as c:
            r = c.post("/api/station/inspections", json={"kind": "jewelry", "auto_finish": False})
            iid = int(r.json()["id"])
        stopped = site.wait_status(iid, "interrupted")
        assert "rig" in str(stopped["error"]).lower()
        with reader_page(browser, "zh-CN", 390) as page:
            open_console(page, site, operator_cookies)
            page.wait_for_selector("#insp-error:not([hidden])")
            headline = page.inner_text("#insp-error-text")
            assert headline.startswith("检测停在“打开灯箱”"), headline
            assert page.is_visible("#resume")
            check_look(page, "station-console-interrupted-zh-CN-390", "zh-CN")
        with station_speaks(site, "zh-CN"), reader_page(browser, "zh-CN", 1366) as page:
            open_overlay(page, site)
            assert page.inner_text("#error") == "检测已暂停，工位稍后会继续。"  # noqa: RUF001
            check_overlay(page, "station-overlay-interrupted-zh-CN-1366", "zh-CN", [site.sim.rig_port])
    finally:
        site.sim.rig.replug()

    with site.client() as c:
        assert c.post(f"/api/station/inspections/{iid}/resume").status_code == 200
    site.pass_review(iid)
    site.wait_status(iid, "waiting_operator")
    with reader_page(browser, "zh-CN", 390) as page:
        open_console(page, site, operator_cookies)
        page.wait_for_selector("#prompt select[name=metal]")
        options = page.locator("#prompt select[name=metal] option").all_inner_texts()
        assert "铂金" in options and "platinum" not in options
        page.select_option("#prompt select[name=metal]", "platinum")  # the stored value stays English
        page.fill("#prompt input[name=hallmark]", "PT950")
        page.press("#prompt input[name=hallmark]", "Enter")
        page.wait_for_selector("#prompt:has-text('所有检测项已完成')")
        check_look(page, "station-console-declare-done-zh-CN-390", "zh-CN")
        page.keyboard.press("Enter")
        page.wait_for_selector("#cert-link")
    done = site.wait_status(iid, "completed")
    assert done["identity"]["declared"]["metal"] == "platinum"

    for locale in LOCALES:
        for width in WIDTHS:
            with station_speaks(site, locale), reader_page(browser, locale, width) as page:
                open_overlay(page, site)
                page.wait_for_selector("#cert:not([hidden])")
                assert page.locator("#photos figure").count() == 4
                title = page.inner_text("#item-title")
                assert title == ("铂金首饰" if locale == "zh-CN" else "platinum jewelry")
                check_overlay(page, f"station-overlay-jewelry-{locale}-{width}", locale, [site.sim.rig_port])


def test_a_viewer_is_told_in_their_language_that_the_console_is_for_operators(site: Station) -> None:
    """Staff who open the console get a page saying their role may not drive the station, in Chinese
    for a Chinese reader (not a bare English line)."""
    staff = make_user(site.engine, "viewer", Role.staff)
    r = httpx.get(
        f"{site.base}/station/console",
        headers={"Authorization": f"Bearer {staff}", "Accept-Language": "zh-CN"},
        follow_redirects=False,
        timeout=10,
    )
    assert r.status_code == 403
    said = translate(AppLocale.ZH_CN, "Your role “%(role)s” may not drive the station.", role="staff")
    assert said in r.text and '<html lang="zh-CN">' in r.text
    assert untranslated(r.text) == []
