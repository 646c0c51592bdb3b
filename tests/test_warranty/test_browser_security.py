"""The consoles in a real browser with the security headers on: a page on another port of the same
host cannot move a claim with the staff member's cookie, and the consoles' own pages and forms
work with no Content-Security-Policy violation."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

import pytest
from browser import LiveServer, chromium, free_port
from wty_helpers import add_user

from inspector.auth.tenancy import EVERYTHING
from inspector.certificates.testing import issue_sample_certificate
from inspector.db import session_scope
from warranty.service import Actor, get_claim, open_claim, record_sale

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.browser

# Records violations in every page before its own scripts run (init scripts are not subject to CSP).
VIOLATION_RECORDER = (
    "window.__csp = [];"
    "document.addEventListener('securitypolicyviolation',"
    " (e) => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));"
)


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A server with a sold certificate, two open claims and a staff account."""
    server = LiveServer(tmp_path_factory.mktemp("wsec"))
    refs, secrets = [], []
    with session_scope(server.engine) as s:
        for i in range(2):
            issued = issue_sample_certificate(s, server.settings)
            order = f"SEC-{i}"
            record_sale(
                s,
                Actor("seed", "staff"),
                cert_human_id=issued.human_id,
                order_ref=order,
                price_minor=100000,
                currency="CNY",
            )
            claim, secret = open_claim(
                s, Actor.buyer(), cert_human_id=issued.human_id, order_ref=order, problem="functional_fault"
            )
            refs.append(claim.ref)
            secrets.append(secret)
        cert = issued.human_id
    add_user(server.engine, "sam", "staff", "warehouse-pass")
    with server.running() as base:
        yield {"base": base, "engine": server.engine, "refs": refs, "secrets": secrets, "cert": cert}


def _state(live: dict[str, Any], ref: str) -> str:
    with session_scope(live["engine"]) as s:
        return get_claim(s, ref, EVERYTHING).state


def _sign_in(page: Page, base: str) -> None:
    page.goto(f"{base}/auth/login?next=/staff/claims")
    page.fill("input[name=username]", "sam")
    page.fill("input[name=password]", "warehouse-pass")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}/staff/claims")


@pytest.fixture
def attacker_site(live: dict[str, Any]) -> Iterator[str]:
    """Another port of the same host serving a page that auto-posts the staff 'accept' form."""
    target = f"{live['base']}/staff/claims/{live['refs'][0]}/act"
    html = (
        f'<form id="f" method="post" action="{target}">'
        '<input name="action" value="accept"><input name="note" value="forged"></form>'
        "<script>document.getElementById('f').submit()</script>"
    ).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(html)

        def log_message(self, *args: object) -> None:
            return

    httpd = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_page_on_another_port_cannot_move_a_claim_with_the_staff_cookie(
    live: dict[str, Any], attacker_site: str
) -> None:
    """The reported attack, in Chromium: signed-in staff open a page on another port of the same
    host that posts the claim form; the post is refused (403) and the claim stays submitted."""
    ref = live["refs"][0]
    with chromium() as browser:
        page = browser.new_page()
        page.set_default_timeout(15000)
        _sign_in(page, live["base"])
        with page.expect_response(lambda r: r.url.endswith(f"/staff/claims/{ref}/act")) as posted:
            page.goto(attacker_site)
        assert posted.value.status == 403
        assert _state(live, ref) == "submitted"


def test_console_pages_and_forms_work_with_no_csp_violation(live: dict[str, Any]) -> None:
    """Staff sign in, accept a claim from its page, print its label, sign out; a buyer withdraws
    through the confirm dialog; the verify page, the not-found page, the error page and the API
    docs render. Not one Content-Security-Policy violation on any of them."""
    from playwright.sync_api import expect

    base, ref, secret = live["base"], live["refs"][1], live["secrets"][1]
    with chromium() as browser:
        context = browser.new_context()
        context.add_init_script(VIOLATION_RECORDER)
        console_errors: list[str] = []
        violations: list[str] = []

        def watch(page: Page) -> None:
            page.on(
                "console", lambda m: console_errors.append(m.text) if "Security Policy" in m.text else None
            )

        context.on("page", watch)
        page = context.new_page()
        page.set_default_timeout(15000)

        def visited() -> None:
            violations.extend(f"{page.url}: {v}" for v in page.evaluate("window.__csp"))

        _sign_in(page, base)
        visited()
        page.goto(f"{base}/staff/claims/{ref}")
        page.locator("#form-accept button").click()
        expect(page.locator("#claim-state")).to_have_text("awaiting item")
        assert _state(live, ref) == "awaiting_item"
        visited()
        page.get_by_role("link", name="Print return label").click()
        page.evaluate("window.print = () => { window.__printed = true; }")
        page.locator("[data-print]").click()
        assert page.evaluate("window.__printed") is True
        visited()
        page.goto(f"{base}/staff/claims/NOSUCHCLAIM")
        expect(page.locator("a[data-back]")).to_be_visible()
        visited()
        page.goto(f"{base}/docs")
        expect(page.locator(".swagger-ui .info .title")).to_contain_text("Inspector")
        visited()
        page.goto(f"{base}/staff/claims")
        page.get_by_role("button", name="Sign out").click()
        page.wait_for_url(f"{base}/auth/login")
        visited()

        buyer = context.new_page()
        buyer.set_default_timeout(15000)
        page = buyer
        buyer.goto(f"{base}/c/{live['cert']}")
        expect(buyer.locator("#match")).to_be_visible()
        visited()
        buyer.goto(f"{base}/c/NOSUCH")
        visited()
        buyer.goto(f"{base}/claims/s/{secret}")
        buyer.once("dialog", lambda d: d.dismiss())  # page.js asks first: cancelling keeps the claim
        buyer.get_by_role("button", name="Withdraw").click()
        assert _state(live, ref) == "awaiting_item"
        buyer.once("dialog", lambda d: d.accept())
        buyer.get_by_role("button", name="Withdraw").click()
        expect(buyer.get_by_role("button", name="Withdraw")).to_have_count(0)
        assert _state(live, ref) == "closed"  # a withdrawn claim is closed
        visited()
        assert violations == [] and console_errors == [], (violations, console_errors)
