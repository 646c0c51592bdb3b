"""Browser tests: the operator console and the stream overlay in Debian's headless Chromium."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from station_helpers import Station, running_sqlite_station

pytestmark = pytest.mark.browser
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "station"
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-background-networking", "--disable-gpu"]
TIMEOUT_MS = 60_000


@pytest.fixture
def sqlite_station(tmp_path: Path) -> Iterator[Station]:
    with running_sqlite_station(tmp_path, "browser.db") as st:
        yield st


def review_by_keyboard(console: Any) -> None:
    """Confirm every finding the grader marked with Y, then submit with Enter (when the review waits)."""
    console.wait_for_selector("#prompt:not([hidden])")
    if console.get_attribute("#prompt", "data-step") != "review":
        return
    console.wait_for_selector("#findings li.focused")
    for _ in range(console.locator("#findings li").count()):
        console.keyboard.press("y")
    console.keyboard.press("Enter")
    console.wait_for_function("() => document.querySelector('#prompt').dataset.step !== 'review'")


def open_console(browser: Any, st: Station, init_script: str | None = None) -> Any:
    """The operator console, signed in with the station's token, once it shows the devices."""
    console = browser.new_page(viewport={"width": 1440, "height": 1000})
    console.set_default_timeout(TIMEOUT_MS)
    if init_script is not None:
        console.add_init_script(init_script)
    console.goto(f"{st.base}/station/console#token={st.token}")
    console.wait_for_selector("#devices dt")
    return console


def wait_for_held(page: Any, held: Callable[[], bool], what: str) -> None:
    """Wait until a held request has reached its route handler (handlers run only while the page
    is waited on)."""
    for _ in range(TIMEOUT_MS // 20):
        if held():
            return
        page.wait_for_timeout(20)
    raise AssertionError(f"{what} never left the console")


def test_console_runs_inspection_and_overlay_follows(sqlite_station: Station) -> None:
    """An operator drives a whole phone inspection from the keyboard in the console (1 = phone,
    S = start, P/F = checks, Enter = finish) while the public overlay shows the live checklist,
    the photos, the verdict and the certificate QR code."""
    sync_api = pytest.importorskip("playwright.sync_api")
    st = sqlite_station
    st.sim.put_phone(seed=5, defects=("scratch",))
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            overlay = browser.new_page(viewport={"width": 1920, "height": 1080})
            overlay.set_default_timeout(TIMEOUT_MS)
            csp_messages: list[str] = []  # Chromium logs every Content-Security-Policy violation
            overlay.on("console", lambda m: csp_messages.append(m.text) if "Policy" in m.text else None)
            overlay.goto(f"{st.base}/station/overlay")
            bg = overlay.evaluate("getComputedStyle(document.body).backgroundColor")
            assert bg in ("rgba(0, 0, 0, 0)", "transparent")

            console = browser.new_page(viewport={"width": 1440, "height": 1000})
            console.set_default_timeout(TIMEOUT_MS)
            console.on("console", lambda m: csp_messages.append(m.text) if "Policy" in m.text else None)
            console.goto(f"{st.base}/station/console#token={st.token}")
            console.wait_for_url(f"{st.base}/station/console")  # signed in through the login page
            assert "token=" not in console.url  # the token is not left in the address bar
            console.wait_for_selector("#preview[src^='blob:']")
            console.wait_for_selector("#devices dt")
            console.keyboard.press("1")
            console.keyboard.press("s")
            review_by_keyboard(console)
            console.wait_for_selector("#prompt:has-text('Buttons')")
            overlay.wait_for_selector("#photos figure img")
            overlay.wait_for_selector("#steps li.waiting")
            overlay.screenshot(path=str(ARTIFACTS / "overlay-during.png"), omit_background=True)
            console.screenshot(path=str(ARTIFACTS / "console-check.png"), full_page=True)
            for key, label in (("p", "Speaker"), ("p", "cameras"), ("p", "Touch"), ("f", "All checks done")):
                console.keyboard.press(key)
                try:
                    console.wait_for_selector(f"#prompt:has-text('{label}')")
                except sync_api.TimeoutError as exc:  # once in a slow CI run, with no clue why: keep one
                    live = httpx.get(f"{st.base}/api/station/live", timeout=10).text[:3000]
                    console.screenshot(path=str(ARTIFACTS / "console-stuck.png"), full_page=True)
                    raise AssertionError(
                        f"no prompt {label!r} after {key!r}; the station says {live}"
                    ) from exc
            console.keyboard.press("Enter")
            console.wait_for_selector("#cert-link")
            assert console.inner_text("#insp-status") == "completed"
            result = console.inner_text("#result")
            assert "Verdict Fail" in result and "Failed checks: Touch screen responds everywhere" in result
            console.screenshot(path=str(ARTIFACTS / "console-done.png"), full_page=True)

            overlay.wait_for_selector("#cert:not([hidden]) #qr[src$='qr.svg']")
            overlay.wait_for_function("() => document.querySelector('#qr').naturalWidth > 0")
            assert "/c/" in overlay.inner_text("#cert-url")
            checklist = overlay.inner_text("#steps")
            assert "Identity" in checklist and "Touch screen" in checklist
            assert overlay.locator("#steps li.failed").count() == 1
            overlay.screenshot(path=str(ARTIFACTS / "overlay-done.png"), omit_background=True)
            assert csp_messages == []  # the console and overlay work under the strict policy
        finally:
            browser.close()


# Marks, in the page, that the console has read the reply the test held back (a reply's body is
# read, then shown, before the page runs its next task: so the page has shown it or dropped it).
HELD_REPLY_SEEN = """
const json = Response.prototype.json;
Response.prototype.json = function () {
  const held = this.headers.get("x-test-held") === "1";
  return json.call(this).then((data) => { if (held) window.heldReplySeen = true; return data; });
};
"""


def test_console_keeps_the_newer_state_when_an_older_reply_comes_late(sqlite_station: Station) -> None:
    """A view of the inspection that the station sent while the automatic checks ran, delivered to
    the console only once the "Buttons" question is on screen (as a slow reply does on a loaded
    machine), does not take the question away: the console keeps the newer state, and P answers
    "Buttons" so the station asks the next check. Before views carried a revision, the late view
    put "running" back on screen with no prompt; P then did nothing while the station waited."""
    sync_api = pytest.importorskip("playwright.sync_api")
    st = sqlite_station
    st.sim.put_phone(seed=5)
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            console = open_console(browser, st, HELD_REPLY_SEEN)
            held: list[tuple[Any, Any]] = []

            def hold_first_running_view(route: Any) -> None:
                if route.request.method != "GET" or held:
                    route.fallback()
                    return
                reply = route.fetch()  # the station's answer now, handed to the console later
                if reply.json()["status"] == "running":
                    held.append((route, reply))
                else:
                    route.fulfill(response=reply)

            console.route(re.compile(r"/api/station/inspections/\d+$"), hold_first_running_view)
            console.keyboard.press("1")
            console.keyboard.press("s")
            review_by_keyboard(console)
            console.wait_for_selector("#prompt:has-text('Buttons')")
            assert held, "no view of the running inspection was fetched"
            route, reply = held[0]
            route.fulfill(response=reply, headers={**reply.headers, "x-test-held": "1"})
            console.wait_for_function("() => window.heldReplySeen === true")

            assert console.is_visible("#prompt:has-text('Buttons')")
            assert console.get_attribute("#insp-status", "data-status") == "waiting_operator"
            console.keyboard.press("p")
            console.wait_for_selector("#prompt:has-text('Speaker')")
            iid = reply.json()["id"]
            steps = httpx.get(f"{st.base}/api/station/inspections/{iid}", headers=st.auth, timeout=10).json()[
                "steps"
            ]
            assert [s["status"] for s in steps if s["key"] == "check_buttons"] == ["passed"]
        finally:
            browser.close()


def test_console_sends_an_answer_once_while_it_is_on_its_way(sqlite_station: Station) -> None:
    """P pressed twice on "Buttons" while the first answer and the station's news are still on their
    way (a loaded machine) sends one answer: the station is not asked to take "Buttons" again (it
    would refuse, and the operator would read an error), and the next check takes P at once."""
    sync_api = pytest.importorskip("playwright.sync_api")
    st = sqlite_station
    st.sim.put_phone(seed=5)
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            console = open_console(browser, st)
            console.keyboard.press("1")
            console.keyboard.press("s")
            review_by_keyboard(console)
            console.wait_for_selector("#prompt:has-text('Buttons')")

            answers: list[str] = []
            console.on("request", lambda r: answers.append(r.url) if r.url.endswith("/answer") else None)
            holding = True
            held: list[tuple[Any, Any]] = []  # (route, the station's reply, or None: fetch when let go)

            def hold(route: Any) -> None:
                if not holding:
                    route.fallback()
                elif route.request.url.endswith("/answer"):
                    held.append((route, route.fetch()))  # the station takes the answer now
                else:
                    held.append((route, None))

            console.route(re.compile(r"/api/station/inspections/\d+(/steps/\w+/answer)?$"), hold)
            console.keyboard.press("p")
            wait_for_held(console, lambda: any(reply is not None for _, reply in held), "the answer")
            console.keyboard.press("p")  # returns once the page has handled the key
            holding = False
            for route, reply in held:
                if reply is None:
                    route.fallback()
                else:
                    route.fulfill(response=reply)
            console.wait_for_selector("#prompt:has-text('Speaker')")
            console.keyboard.press("p")
            console.wait_for_selector("#prompt:has-text('cameras')")
            assert [u.rsplit("/", 2)[1] for u in answers] == ["check_buttons", "check_speaker"]
            assert console.is_hidden("#flash"), console.inner_text("#flash")
        finally:
            browser.close()


def test_console_shows_pulled_cable_and_resumes(sqlite_station: Station) -> None:
    """With the rig's cable pulled, a jewelry inspection started from the console stops with the
    reason on screen and a Resume button (also on the overlay); after replugging, R resumes it (a
    second R while the first is on its way sends nothing) and the operator completes the
    declaration from the keyboard."""
    sync_api = pytest.importorskip("playwright.sync_api")
    st = sqlite_station
    st.sim.put_jewelry(mg=2_345, seed=3)
    st.sim.rig.unplug()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            overlay = browser.new_page(viewport={"width": 1920, "height": 1080})
            overlay.set_default_timeout(TIMEOUT_MS)
            overlay.goto(f"{st.base}/station/overlay")
            console = open_console(browser, st)
            console.keyboard.press("2")
            console.keyboard.press("s")
            console.wait_for_selector("#insp-error:not([hidden])")
            assert "rig" in console.inner_text("#insp-error").lower()
            assert console.is_visible("#resume")
            assert console.inner_text("#insp-status") == "interrupted"
            overlay.wait_for_selector("#error:not([hidden])")
            console.screenshot(path=str(ARTIFACTS / "console-interrupted.png"), full_page=True)
            overlay.screenshot(path=str(ARTIFACTS / "overlay-interrupted.png"), omit_background=True)

            st.sim.rig.replug()
            resumes: list[Any] = []  # held until R has been pressed twice
            console.route(re.compile(r"/api/station/inspections/\d+/resume$"), lambda r: resumes.append(r))
            console.keyboard.press("r")
            wait_for_held(console, lambda: bool(resumes), "the resume")
            console.keyboard.press("r")  # a second R while the first is on its way sends nothing
            console.wait_for_timeout(200)
            assert len(resumes) == 1
            resumes[0].fallback()
            review_by_keyboard(console)
            console.wait_for_selector("#prompt select[name=metal]")
            console.select_option("#prompt select[name=metal]", "platinum")
            console.fill("#prompt input[name=hallmark]", "PT950")
            console.press("#prompt input[name=hallmark]", "Enter")
            console.wait_for_selector("#prompt:has-text('All checks done')")
            console.keyboard.press("Enter")
            console.wait_for_selector("#cert-link")
            assert console.is_hidden("#insp-error")
            overlay.wait_for_selector("#cert:not([hidden])")
            assert "platinum" in overlay.inner_text("#item-title")
            console.screenshot(path=str(ARTIFACTS / "console-jewelry-done.png"), full_page=True)
            overlay.screenshot(path=str(ARTIFACTS / "overlay-jewelry-done.png"), omit_background=True)
        finally:
            browser.close()
