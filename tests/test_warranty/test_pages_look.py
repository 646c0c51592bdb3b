"""Every warranty page a person reads, in a real browser, in Chinese and English, on a phone and a
desktop: nothing wider than the screen, no serious accessibility problem, no English left on a
Chinese page. Screenshots go to test-artifacts/screens/warranty-*.png to look at."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest
from browser import LOCALES, WIDTHS, LiveServer, chromium, look_at, reader_page
from page_language import untranslated
from wty_helpers import add_user, phone_photo

from inspector.certificates.testing import SAMPLE_IMEIS, issue_sample_certificate
from inspector.db import session_scope
from inspector.photostore import FileSystemPhotoStore
from warranty.evidence import Reinspection
from warranty.service import Actor, open_claim, record_sale, transition

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = pytest.mark.browser

STAFF = Actor("sam", "staff")
# A buyer's description with a token no line break fits (a pasted tracking link), and a hash.
LONG_TEXT = (
    "The back glass cracked by itself two days after delivery; the camera fogs up. Tracking: "
    "https://express.example.com/track?no=SF1234567890123456789&sig=" + "9f" * 32
)


@dataclass(frozen=True)
class Seeded:
    base: str
    phone_cert: str
    jewelry_cert: str
    approved_ref: str  # a phone claim re-inspected (a new crack) and approved for a refund
    approved_secret: str
    received_ref: str  # a phone claim received at the warehouse, waiting for re-inspection
    awaiting_secret: str  # a jewelry claim accepted, waiting for the item
    awaiting_ref: str


def _sold(s: Any, settings: Any, kind: str, order: str, price: int, **overrides: Any) -> str:
    issued = issue_sample_certificate(s, settings, kind, **overrides)
    record_sale(
        s,
        STAFF,
        cert_human_id=issued.human_id,
        order_ref=order,
        price_minor=price,
        currency="CNY",
        buyer_contact="+86 138 0000 0000",
    )
    return issued.human_id


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeded]:
    """A server whose claims are in the states that show the most on each page."""
    server = LiveServer(tmp_path_factory.mktemp("wlook"))
    store = FileSystemPhotoStore(server.settings.data_dir / "photos")
    certified, now_cracked = store.put(phone_photo(crack=False)), store.put(phone_photo(crack=True))
    scratch = {
        "kind": "scratch",
        "region": "back",
        "photo": 0,
        "bbox": [330, 280, 320, 60],
        "length_um": 4200,
    }
    crack = {"kind": "crack", "region": "back", "photo": 0, "bbox": [350, 640, 340, 250], "length_um": 31000}
    grade = {
        "grade": "B",
        "scale": "A-D",
        "reasons": ["light scratch"],
        "measurements": {},
        "defects": [scratch],
    }
    with session_scope(server.engine) as s:
        photos = [{"sha256": certified, "role": "back"}]
        phone = _sold(s, server.settings, "phone", "LOOK-P-1", 259900, photos=photos, grade=grade)
        phone2 = _sold(s, server.settings, "phone", "LOOK-P-2", 189900, photos=photos, grade=grade)
        jewelry = _sold(s, server.settings, "jewelry", "LOOK-J-1", 468000)
        approved, approved_secret = open_claim(
            s,
            Actor.buyer(),
            cert_human_id=phone,
            order_ref="LOOK-P-1",
            problem="functional_fault",
            description=LONG_TEXT,
        )
        transition(s, approved.ref, "accept", STAFF)
        transition(s, approved.ref, "receive", STAFF, identity_value=SAMPLE_IMEIS[0])
        re = Reinspection(
            inspection_id="insp-" + "7c" * 16, grade="D", photos=[now_cracked], defects=[scratch, crack]
        )
        transition(s, approved.ref, "reinspect", Actor("station-7", "operator"), reinspection=re)
        transition(
            s, approved.ref, "approve", STAFF, outcome="refund", note="Stress fracture from the camera island"
        )
        received, _ = open_claim(s, STAFF, cert_human_id=phone2, problem="no_reason_return")
        transition(s, received.ref, "accept", STAFF)
        transition(s, received.ref, "receive", STAFF, identity_value=SAMPLE_IMEIS[0])
        awaiting, awaiting_secret = open_claim(
            s, Actor.buyer(), cert_human_id=jewelry, order_ref="LOOK-J-1", problem="authenticity"
        )
        transition(s, awaiting.ref, "accept", STAFF)
        refs = (approved.ref, received.ref, awaiting.ref)
    add_user(server.engine, "sue", "supervisor", "supervisor-pass")
    with server.running() as base:
        yield Seeded(base, phone, jewelry, refs[0], approved_secret, refs[1], awaiting_secret, refs[2])


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as b:
        yield b


def _sign_in(page: Page, base: str) -> None:
    page.goto(f"{base}/auth/login?next=/staff/claims")
    page.fill("input[name=username]", "sue")
    page.fill("input[name=password]", "supervisor-pass")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}/staff/claims")


def _look_at_pages(
    browser: Browser, base: str, pages: dict[str, str], *, staff: bool
) -> dict[str, list[str]]:
    """Each page in each language and width: what is wrong with it (empty lists when nothing)."""
    found: dict[str, list[str]] = {}
    for locale in LOCALES:
        for width in WIDTHS:
            with reader_page(browser, locale, width) as page:
                if staff:
                    _sign_in(page, base)
                for name, path in pages.items():
                    page.goto(base + path)
                    look = look_at(page, f"warranty-{name}-{locale}-{width}")
                    problems = look.problems()
                    if locale == "zh-CN":
                        problems += [
                            f"English on a Chinese page: {m!r}" for m in untranslated(page.content())
                        ]
                    found[f"{name} {locale} {width}"] = problems
    return found


def test_buyer_pages_read_well_in_both_languages_on_phone_and_desktop(
    browser: Browser, seeded: Seeded
) -> None:
    """Claim form, status pages (approved with a refund; waiting for the item) and the error page
    of a wrong link: no overflow, no serious axe violation, no English on the Chinese pages."""
    pages = {
        "claim-form": f"/claims/new?cert={seeded.jewelry_cert}",
        "status-approved": f"/claims/s/{seeded.approved_secret}",
        "status-awaiting": f"/claims/s/{seeded.awaiting_secret}",
        "buyer-label": f"/claims/s/{seeded.awaiting_secret}/label",
        "buyer-error": "/claims/s/not-a-real-link",
    }
    found = _look_at_pages(browser, seeded.base, pages, staff=False)
    assert {k: v for k, v in found.items() if v} == {}


def test_staff_pages_read_well_in_both_languages_on_phone_and_desktop(
    browser: Browser, seeded: Seeded
) -> None:
    """Queue, a decided claim with its evidence and audit log, a claim waiting for re-inspection
    (the widest forms), reports, the printed label and the error page of an unknown claim."""
    pages = {
        "queue": "/staff/claims?state=all",
        "claim-approved": f"/staff/claims/{seeded.approved_ref}",
        "claim-received": f"/staff/claims/{seeded.received_ref}",
        "reports": "/staff/reports",
        "label": f"/staff/claims/{seeded.awaiting_ref}/label",
        "staff-error": "/staff/claims/WC-NOTHERE",
    }
    found = _look_at_pages(browser, seeded.base, pages, staff=True)
    assert {k: v for k, v in found.items() if v} == {}
