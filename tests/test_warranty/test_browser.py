"""The staff console in a real browser: a claim from the buyer's form through receipt,
re-inspection evidence and decision to resolution. Screenshots go to test-artifacts/warranty/."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from browser import LiveServer, chromium
from wty_helpers import add_user, phone_photo

from inspector.certificates.testing import SAMPLE_IMEIS, issue_sample_certificate
from inspector.db import session_scope
from inspector.photostore import FileSystemPhotoStore
from warranty.service import Actor, record_sale

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "warranty"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A uvicorn server with a sold, signed phone certificate (real photos) and staff accounts."""
    server = LiveServer(tmp_path_factory.mktemp("wlive"))
    settings, engine = server.settings, server.engine
    store = FileSystemPhotoStore(settings.data_dir / "photos")
    certified = store.put(phone_photo(crack=False))
    # bbox in permille of the photo: x, y, w, h
    scratch = {
        "kind": "scratch",
        "region": "back",
        "photo": 0,
        "bbox": [330, 280, 320, 60],
        "length_um": 4200,
    }
    with session_scope(engine) as s:
        issued = issue_sample_certificate(
            s,
            settings,
            photos=[{"sha256": certified, "role": "back"}],
            grade={
                "grade": "B",
                "scale": "A-D",
                "reasons": ["light scratch on back glass"],
                "measurements": {"longest_scratch_um": 4200},
                "defects": [scratch],
            },
        )
        record_sale(
            s,
            Actor("seed", "staff"),
            cert_human_id=issued.human_id,
            order_ref="LIVE-2026-0042",
            price_minor=259900,
            currency="CNY",
            buyer_contact="+86 138 0000 0000",
        )
    add_user(engine, "sam", "staff", "warehouse-pass")
    add_user(engine, "sue", "supervisor", "supervisor-pass")
    station_token = add_user(engine, "station-7", "operator")
    with server.running() as base:
        yield {"base": base, "cert": issued.human_id, "store": store, "station_token": station_token}


@pytest.mark.browser
def test_staff_console_handles_a_claim_from_receipt_to_resolution(live: dict[str, Any]) -> None:
    """Buyer opens a claim; staff accept, print the label, receive (IMEI checked), see the station's
    re-inspection side by side with the new crack highlighted, approve a refund, resolve and close;
    the supervisor sees it in the reports. Every step is visible to the buyer on the status link."""
    from playwright.sync_api import expect

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    base, cert = live["base"], live["cert"]
    with chromium() as browser:
        # --- the buyer, on a phone
        buyer = browser.new_page(viewport={"width": 390, "height": 844})
        buyer.set_default_timeout(15000)
        buyer.goto(f"{base}/claims/new?cert={cert}")
        expect(buyer.get_by_text("Not covered")).to_be_visible()
        buyer.fill("input[name=order_ref]", "LIVE-2026-0042")
        buyer.select_option("select[name=problem]", "functional_fault")
        buyer.fill("textarea[name=description]", "Back glass cracked by itself, camera fogs up")
        buyer.screenshot(path=str(ARTIFACTS / "01-buyer-claim-form.png"), full_page=True)
        buyer.get_by_role("button", name="Open claim").click()
        expect(buyer.get_by_text("Your claim is open")).to_be_visible()
        status_url = buyer.url
        buyer.screenshot(path=str(ARTIFACTS / "02-buyer-status.png"), full_page=True)

        # --- warehouse staff sign in and find it in the queue by certificate id
        staff = browser.new_page(viewport={"width": 1280, "height": 900})
        staff.set_default_timeout(15000)
        staff.goto(f"{base}/staff/claims")
        assert "/auth/login" in staff.url
        staff.fill("input[name=username]", "sam")
        staff.fill("input[name=password]", "warehouse-pass")
        staff.keyboard.press("Enter")
        staff.wait_for_url(f"{base}/staff/claims")
        staff.fill("#q", cert)
        staff.keyboard.press("Enter")
        expect(staff.locator("table.w-queue tbody tr")).to_have_count(1)
        staff.screenshot(path=str(ARTIFACTS / "03-staff-queue.png"), full_page=True)
        staff.locator("table.w-queue tbody a").first.click()
        expect(staff.locator("#claim-state")).to_have_text("submitted")

        staff.locator("#form-accept button").click()
        expect(staff.locator("#claim-state")).to_have_text("awaiting item")
        staff.get_by_role("link", name="Print return label").click()
        expect(staff.get_by_label("return label")).to_contain_text(cert)
        staff.screenshot(path=str(ARTIFACTS / "04-return-label.png"), full_page=True)
        staff.go_back()

        # wrong phone first: refused with a clear reason, nothing changes
        staff.fill("#form-receive input[name=identity_value]", "490154203237518")
        staff.locator("#form-receive button").click()
        expect(staff.locator("#action-error")).to_contain_text("identity mismatch")
        expect(staff.locator("#claim-state")).to_have_text("awaiting item")
        staff.screenshot(path=str(ARTIFACTS / "05-identity-mismatch.png"), full_page=True)
        staff.fill("#form-receive input[name=identity_value]", SAMPLE_IMEIS[0])
        staff.locator("#form-receive button").click()
        expect(staff.locator("#claim-state")).to_have_text("received")

        # --- the station's pipeline reports its re-inspection through the API
        ref = staff.locator("h1").inner_text().split()[1]
        new_photo = live["store"].put(phone_photo(crack=True))
        body = {
            "inspection_id": "insp-reinspect-1",
            "grade": "D",
            "photos": [new_photo],
            "defects": [
                {
                    "kind": "scratch",
                    "region": "back",
                    "photo": 0,
                    "bbox": [330, 280, 320, 60],
                    "length_um": 4300,
                },
                {
                    "kind": "crack",
                    "region": "back",
                    "photo": 0,
                    "bbox": [350, 640, 340, 250],
                    "length_um": 31000,
                },
            ],
        }
        r = httpx.post(
            f"{base}/api/warranty/claims/{ref}/reinspection",
            json=body,
            timeout=10,
            headers={"Authorization": f"Bearer {live['station_token']}"},
        )
        assert r.status_code == 200, r.text
        staff.reload()
        expect(staff.locator("#claim-state")).to_have_text("re-inspected")
        expect(staff.locator("#new-defects")).to_contain_text("1 new")
        expect(staff.locator("#defect-table tr.new")).to_contain_text("crack")
        staff.locator("#evidence").screenshot(path=str(ARTIFACTS / "06-evidence-side-by-side.png"))

        # --- decide, resolve, close (keyboard-only form filling)
        staff.select_option("#form-approve select[name=outcome]", "refund")
        staff.fill(
            "#form-approve input[name=note]",
            "Crack runs from the camera island; stress fracture, not impact",
        )
        staff.locator("#form-approve input[name=note]").press("Enter")
        expect(staff.locator("#claim-state")).to_have_text("approved")
        staff.screenshot(path=str(ARTIFACTS / "07-approved.png"), full_page=True)
        staff.fill("#form-resolve input[name=note]", "Refund 2609.00 CNY paid to the original payment method")
        staff.locator("#form-resolve button").click()
        expect(staff.locator("#claim-state")).to_have_text("resolved")
        staff.locator("#form-close button").click()
        expect(staff.locator("#claim-state")).to_have_text("closed")
        expect(staff.locator("#audit tbody tr")).to_have_count(7)
        staff.screenshot(path=str(ARTIFACTS / "08-closed-with-audit-log.png"), full_page=True)

        # --- the buyer sees the outcome on the same link
        buyer.goto(status_url)
        expect(buyer.get_by_text("Approved: refund")).to_be_visible()
        buyer.screenshot(path=str(ARTIFACTS / "09-buyer-sees-refund.png"), full_page=True)

        # --- the supervisor's reports; staff may not see them
        staff.goto(f"{base}/staff/reports")
        expect(staff.get_by_text("may not see the reports")).to_be_visible()
        expect(staff.locator(".w-who")).to_contain_text("sam")  # the refusal page keeps who is signed in
        staff.screenshot(path=str(ARTIFACTS / "10-staff-refused-reports.png"), full_page=True)
        staff.set_viewport_size({"width": 390, "height": 844})
        staff.goto(f"{base}/lang/zh-CN?next=/staff/reports")
        expect(staff.locator(".w-refusal")).to_be_visible()
        staff.screenshot(path=str(ARTIFACTS / "10-staff-refused-reports-zh-phone.png"), full_page=True)
        sup = browser.new_page(viewport={"width": 390, "height": 844})
        sup.set_default_timeout(15000)
        sup.goto(f"{base}/auth/login?next=/staff/reports")
        sup.fill("input[name=username]", "sue")
        sup.fill("input[name=password]", "supervisor-pass")
        sup.keyboard.press("Enter")
        sup.wait_for_url(f"{base}/staff/reports")
        expect(sup.locator("#rate-station_id")).to_contain_text("station-1")
        sup.screenshot(path=str(ARTIFACTS / "10-supervisor-reports-phone.png"), full_page=True)
