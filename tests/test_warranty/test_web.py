"""Warranty over HTTP: the permission matrix (every role x every action), the buyer's claim form and
status link, bad input (unknown certificate, wrong order ref, expired window, oversize upload)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import delete
from sqlalchemy.engine import Engine
from wty_helpers import IMEI, STAFF, add_user, buyer_claim, make_cert, sell

from inspector.config import Settings
from inspector.db import make_engine, migrate, session_scope
from inspector.ratelimit import attempt_table
from inspector.web.app import create_app
from warranty.evidence import Reinspection
from warranty.service import transition

ROLES = ["anonymous", "operator", "staff", "supervisor", "admin"]


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()


PNG = _png()  # a real, decodable photo: uploads are decoded and re-encoded before they are kept


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """One migrated SQLite database and app for the module, with a user and token per role."""
    tmp: Path = tmp_path_factory.mktemp("wweb")
    url = f"sqlite:///{tmp / 'w.db'}"
    migrate(url)
    engine = make_engine(url)
    tokens = {role: add_user(engine, f"u-{role}", role) for role in ROLES if role != "anonymous"}
    app = create_app(Settings(data_dir=tmp, database_url=url), engine=engine)
    with TestClient(app) as client:
        yield {"engine": engine, "tokens": tokens, "client": client}
    engine.dispose()


@pytest.fixture(autouse=True)
def _fresh_attempt_limits(world: dict[str, Any]) -> None:
    """Every test of the module posts from the same client address: each starts with no attempts."""
    with world["engine"].begin() as conn:
        conn.execute(delete(attempt_table))


def _h(world: dict[str, Any], role: str) -> dict[str, str]:
    return {} if role == "anonymous" else {"Authorization": f"Bearer {world['tokens'][role]}"}


REINSPECTION = {"inspection_id": "insp-r", "grade": "C", "photos": ["b" * 64], "defects": [{"kind": "crack"}]}
ARGS: dict[str, dict[str, Any]] = {
    "accept": {},
    "receive": {"identity_value": IMEI},
    "reinspect": {"reinspection": Reinspection.model_validate(REINSPECTION)},
    "approve": {"outcome": "repair", "note": "fix it"},
    "deny": {"reason_code": "water", "note": "wet"},
    "resolve": {"note": "done"},
    "close": {},
}
PATH_TO = {  # actions that bring a fresh claim into the state where the action is legal
    "accept": [],
    "withdraw": [],
    "receive": ["accept"],
    "reinspect": ["accept", "receive"],
    "approve": ["accept", "receive", "reinspect"],
    "deny": ["accept", "receive", "reinspect"],
    "resolve": ["accept", "receive", "reinspect", "approve"],
    "close": ["accept", "receive", "reinspect", "approve", "resolve"],
}


def _claim(engine: Engine, steps: list[str]) -> tuple[str, str, str]:
    cert = make_cert()
    sell(engine, cert)
    ref, secret = buyer_claim(engine, cert.human_id)
    with session_scope(engine) as s:
        for step in steps:
            transition(s, ref, step, STAFF, **ARGS[step])
    return ref, secret, cert.human_id


# Expected status per action and role: anonymous, operator, staff, supervisor, admin.
MATRIX: dict[str, tuple[int, int, int, int, int]] = {
    "open_claim": (201, 403, 201, 201, 201),
    "open_claim_form": (303, 303, 303, 303, 303),  # the public form always acts as the buyer
    "open_on_behalf_page": (303, 403, 303, 303, 303),  # anonymous: sent to sign in
    "record_sale": (401, 403, 201, 201, 201),
    "view_queue_api": (401, 403, 200, 200, 200),
    "view_queue_page": (303, 403, 200, 200, 200),
    "view_claim_api": (401, 403, 200, 200, 200),
    "view_claim_page": (303, 403, 200, 200, 200),
    "accept": (401, 403, 200, 200, 200),
    "receive": (401, 403, 200, 200, 200),
    "reinspect": (401, 200, 200, 200, 200),
    "reinspect_by_certificate": (401, 200, 200, 200, 200),
    "approve": (401, 403, 200, 200, 200),
    "deny": (401, 403, 200, 200, 200),
    "resolve": (401, 403, 200, 200, 200),
    "close": (401, 403, 200, 200, 200),
    "withdraw": (303, 403, 200, 200, 200),  # the buyer withdraws through the secret status link
    "buyer_status": (200, 200, 200, 200, 200),  # whoever holds the secret link
    "label": (303, 403, 200, 200, 200),
    "reports": (303, 403, 403, 200, 200),
    "claims_csv": (303, 403, 403, 200, 200),
    "rates_csv": (303, 403, 403, 200, 200),
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", list(MATRIX))
def test_permission_matrix(world: dict[str, Any], action: str, role: str) -> None:
    """Who may do what: every (role, action) cell gets exactly the status the policy says."""
    c: TestClient = world["client"]
    engine: Engine = world["engine"]
    h = _h(world, role)
    expected = MATRIX[action][ROLES.index(role)]
    if action == "open_claim":
        cert = make_cert()
        sell(engine, cert)
        body = {"cert": cert.human_id, "order_ref": "ORD-1001", "problem": "functional_fault"}
        r = c.post("/api/warranty/claims", json=body, headers=h)
    elif action in ("open_claim_form", "open_on_behalf_page"):
        cert = make_cert()
        sell(engine, cert)
        form = {"cert": cert.human_id, "order_ref": "ORD-1001", "problem": "functional_fault"}
        url = "/claims/new" if action == "open_claim_form" else "/staff/claims"
        r = c.post(url, data=form, headers=h, follow_redirects=False)
        if r.status_code == 303 and not (role == "anonymous" and action == "open_on_behalf_page"):
            assert r.headers["location"].startswith(
                "/claims/s/" if action == "open_claim_form" else "/staff/claims/WC-"
            )
    elif action == "record_sale":
        cert = make_cert()
        body = {"cert": cert.human_id, "order_ref": "O-1", "price_minor": 100, "currency": "CNY"}
        r = c.post("/api/warranty/sales", json=body, headers=h)
    elif action in ("view_queue_api", "view_queue_page"):
        r = c.get(
            "/api/warranty/claims" if action.endswith("api") else "/staff/claims",
            headers=h,
            follow_redirects=False,
        )
    elif action in ("view_claim_api", "view_claim_page", "label"):
        ref, _, _ = _claim(engine, [])
        url = {
            "view_claim_api": f"/api/warranty/claims/{ref}",
            "view_claim_page": f"/staff/claims/{ref}",
            "label": f"/staff/claims/{ref}/label",
        }[action]
        r = c.get(url, headers=h, follow_redirects=False)
    elif action == "reinspect":
        ref, _, _ = _claim(engine, PATH_TO[action])
        r = c.post(f"/api/warranty/claims/{ref}/reinspection", json=REINSPECTION, headers=h)
    elif action == "reinspect_by_certificate":
        _, _, cert_id = _claim(engine, PATH_TO["reinspect"])
        r = c.post(f"/api/warranty/certificates/{cert_id}/reinspection", json=REINSPECTION, headers=h)
    elif action == "withdraw" and role == "anonymous":
        ref, secret, _ = _claim(engine, [])
        r = c.post(f"/claims/s/{secret}/withdraw", follow_redirects=False)
        assert c.post(f"/api/warranty/claims/{ref}/transitions", json={"action": "accept"}).status_code == 401
    elif action in PATH_TO:
        ref, _, _ = _claim(engine, PATH_TO[action])
        body = {"action": action, **{k: v for k, v in ARGS.get(action, {}).items() if k != "reinspection"}}
        r = c.post(f"/api/warranty/claims/{ref}/transitions", json=body, headers=h)
    elif action == "buyer_status":
        _, secret, _ = _claim(engine, [])
        r = c.get(f"/claims/s/{secret}", headers=h)
    elif action in ("reports", "claims_csv", "rates_csv"):
        url = {
            "reports": "/staff/reports",
            "claims_csv": "/staff/reports/claims.csv",
            "rates_csv": "/staff/reports/rates.csv",
        }[action]
        r = c.get(url, headers=h, follow_redirects=False)
    else:  # pragma: no cover - the matrix and this dispatcher must list the same actions
        raise AssertionError(action)
    assert r.status_code == expected, (action, role, r.status_code, r.text[:300])
    if expected == 303 and role == "anonymous" and action not in ("withdraw", "open_claim_form"):
        assert r.headers["location"].startswith("/auth/login?next=")
    if expected == 403:
        assert "may not" in r.text


def test_buyer_claim_form_to_status_page(world: dict[str, Any]) -> None:
    """A buyer opens a claim from the form with cert id + order ref and lands on a secret status page."""
    c: TestClient = world["client"]
    cert = make_cert()
    sell(world["engine"], cert)
    page = c.get(f"/claims/new?cert={cert.human_id}")
    assert page.status_code == 200
    assert "Liquid damage" in page.text and "180-day" in page.text  # exclusions and plan are shown
    r = c.post(
        f"/claims/new?cert={cert.human_id}",
        data={
            "cert": cert.human_id,
            "order_ref": "ORD-1001",
            "problem": "functional_fault",
            "description": "speaker crackles",
        },
        files={"photos": ("p.png", PNG, "image/png")},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text[:500]
    status = c.get(r.headers["location"])
    assert status.status_code == 200 and "submitted" in status.text and "buyer@example.com" not in status.text
    assert c.get("/claims/s/not-a-real-secret").status_code == 404


def test_bad_input_on_the_claim_form(world: dict[str, Any]) -> None:
    """Unknown certificate 404, wrong order ref 403, expired window 409, each explained."""
    c: TestClient = world["client"]
    r = c.get("/claims/new?cert=NOSUCH1")
    assert r.status_code == 404 and "There is no certificate with this id" in r.text
    r = c.post("/claims/new", data={"cert": "NOSUCH1", "order_ref": "x", "problem": "functional_fault"})
    assert r.status_code == 404
    cert = make_cert()
    sell(world["engine"], cert)
    r = c.post(
        "/claims/new", data={"cert": cert.human_id, "order_ref": "ORD-WRONG", "problem": "functional_fault"}
    )
    assert r.status_code == 403 and "does not match" in r.text
    old = make_cert(issued_days_ago=300)
    sell(world["engine"], old, days_ago=200)
    r = c.post(
        "/claims/new", data={"cert": old.human_id, "order_ref": "ORD-1001", "problem": "functional_fault"}
    )
    assert r.status_code == 409 and "warranty ended on" in r.text
    api = c.post(
        "/api/warranty/claims",
        json={"cert": old.human_id, "order_ref": "ORD-1001", "problem": "functional_fault"},
    )
    assert api.status_code == 409 and "ended" in api.json()["detail"]


def test_oversize_photo_is_refused_with_413(world: dict[str, Any]) -> None:
    """A claim photo over the limit gets 413 with the limit in the message, and no claim is opened."""
    c: TestClient = world["client"]
    cert = make_cert()
    sell(world["engine"], cert)
    big = PNG + b"\0" * (9 * 1024 * 1024)
    form = {"cert": cert.human_id, "order_ref": "ORD-1001", "problem": "functional_fault"}
    r = c.post("/claims/new", data=form, files={"photos": ("big.png", big, "image/png")})
    assert r.status_code == 413 and "larger than 8 MB" in r.text
    huge = io.BytesIO(PNG + b"\0" * (50 * 1024 * 1024))
    r = c.post("/claims/new", data=form, files={"photos": ("huge.png", huge, "image/png")})
    assert r.status_code == 413  # the route's body limit, before the form is parsed
    r = c.post("/claims/new", data=form, files={"photos": ("x.txt", b"hello", "text/plain")})
    assert r.status_code == 422 and "not a JPEG" in r.text
    ok = c.post("/claims/new", data=form, follow_redirects=False)
    assert ok.status_code == 303  # nothing was left open by the refused attempts


def test_illegal_transition_over_http_is_409_with_explanation(world: dict[str, Any]) -> None:
    """Approving a claim that was never received answers 409 explaining the state and the next steps."""
    c: TestClient = world["client"]
    ref, _, _ = _claim(world["engine"], [])
    r = c.post(
        f"/api/warranty/claims/{ref}/transitions",
        json={"action": "approve", "outcome": "refund", "note": "x"},
        headers=_h(world, "staff"),
    )
    assert r.status_code == 409
    assert "it is submitted" in r.json()["detail"] and "Possible now: accept" in r.json()["detail"]
    stale = c.post(
        f"/api/warranty/claims/{ref}/transitions",
        json={"action": "accept", "version": 7},
        headers=_h(world, "staff"),
    )
    assert stale.status_code == 409 and "changed by someone else" in stale.json()["detail"]


def test_coverage_api_is_public_and_has_no_buyer_data(world: dict[str, Any]) -> None:
    """The verify page's coverage data: plan, window, exclusions; never the buyer's contact or order."""
    c: TestClient = world["client"]
    cert = make_cert()
    sell(world["engine"], cert)
    r = c.get(f"/api/warranty/coverage/{cert.human_id}")
    assert r.status_code == 200
    body = r.json()
    assert body["active"] and body["basis"] == "sale" and body["plan_id"] == "phone-180"
    assert "ORD-1001" not in r.text and "buyer@example.com" not in r.text
    assert c.get("/api/warranty/coverage/NOPE").status_code == 404


def test_reports_and_csv(world: dict[str, Any]) -> None:
    """Supervisors see claim rates by grade/station/model/grader and can export every claim as CSV."""
    c: TestClient = world["client"]
    _claim(world["engine"], ["accept", "receive", "reinspect", "approve", "resolve"])
    h = _h(world, "supervisor")
    page = c.get("/staff/reports", headers=h)
    assert page.status_code == 200 and "Claim rate by grade" in page.text and "Pixel 7" in page.text
    csv_text = c.get("/staff/reports/claims.csv", headers=h).text
    lines = csv_text.strip().splitlines()
    assert lines[0].startswith("ref,cert_human_id,order_ref") and len(lines) > 1
    assert "buyer@example.com" not in csv_text
    rates = c.get("/staff/reports/rates.csv", headers=h).text
    assert rates.splitlines()[0] == "dimension,value,sold,claims,approved,denied,claim_rate"


def test_reinspection_api_checks_state_and_input(world: dict[str, Any]) -> None:
    """The station's re-inspection report is refused before receipt (409) and when malformed (422)."""
    c: TestClient = world["client"]
    h = _h(world, "operator")
    ref, _, _ = _claim(world["engine"], ["accept"])
    r = c.post(f"/api/warranty/claims/{ref}/reinspection", json=REINSPECTION, headers=h)
    assert r.status_code == 409 and "it is awaiting item" in r.json()["detail"]
    bad = c.post(
        f"/api/warranty/claims/{ref}/reinspection", json={"grade": "B", "photos": ["xyz"]}, headers=h
    )
    assert bad.status_code == 422 and "SHA-256" in bad.text


def test_second_staff_with_a_stale_page_gets_409(world: dict[str, Any]) -> None:
    """Two staff have the claim page open; the first decision wins, the second click is refused (409)
    with an explanation, and the page shows the claim as it is now."""
    c: TestClient = world["client"]
    ref, _, _ = _claim(world["engine"], [])
    page = c.get(f"/staff/claims/{ref}", headers=_h(world, "staff"))
    assert 'name="version" value="1"' in page.text
    first = c.post(
        f"/staff/claims/{ref}/act",
        data={"action": "accept", "version": "1"},
        headers=_h(world, "staff"),
        follow_redirects=False,
    )
    assert first.status_code == 303
    second = c.post(
        f"/staff/claims/{ref}/act",
        data={"action": "deny", "version": "1", "reason_code": "water", "note": "wet"},
        headers=_h(world, "supervisor"),
    )
    assert second.status_code == 409
    assert "changed by someone else" in second.text and "awaiting item" in second.text


def test_staff_records_reinspection_by_new_certificate_and_photos(world: dict[str, Any]) -> None:
    """Staff at a returns-desk station enter the re-inspection certificate id (grade, photos and defects
    come from it) or type defects and upload photos; the claim page then shows the new defect."""
    c: TestClient = world["client"]
    h = _h(world, "staff")
    ref, _, _ = _claim(world["engine"], ["accept", "receive"])
    new_cert = make_cert(grade="D", defects=[{"kind": "crack", "region": "screen"}], photos=["e" * 64])
    r = c.post(
        f"/staff/claims/{ref}/act",
        data={"action": "reinspect", "new_cert": new_cert.human_id},
        headers=h,
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text[:400]
    page = c.get(f"/staff/claims/{ref}", headers=h)
    assert (
        "new since the certificate" in page.text and "e" * 64 in page.text and new_cert.human_id in page.text
    )

    ref2, _, _ = _claim(world["engine"], ["accept", "receive"])
    bad = c.post(
        f"/staff/claims/{ref2}/act",
        data={"action": "reinspect", "grade": "C", "defects": "dent frame lots"},
        headers=h,
    )
    assert bad.status_code == 422 and "millimetres" in bad.text
    ok = c.post(
        f"/staff/claims/{ref2}/act",
        data={"action": "reinspect", "grade": "C", "defects": "dent frame 2.5\nscuff back"},
        files={"photos": ("r.png", PNG, "image/png")},
        headers=h,
        follow_redirects=False,
    )
    assert ok.status_code == 303
    assert c.get(f"/staff/claims/{ref2}", headers=h).text.count("new since the certificate") == 2


def test_station_reports_reinspection_by_original_certificate(world: dict[str, Any]) -> None:
    """A station that only knows the original certificate id records its re-inspection on the open claim."""
    c: TestClient = world["client"]
    ref, _, cert_id = _claim(world["engine"], ["accept", "receive"])
    h = _h(world, "operator")
    r = c.post(f"/api/warranty/certificates/{cert_id}/reinspection", json=REINSPECTION, headers=h)
    assert r.status_code == 200 and r.json()["ref"] == ref and r.json()["state"] == "reinspected"
    none = c.post("/api/warranty/certificates/NOCLAIM1/reinspection", json=REINSPECTION, headers=h)
    assert none.status_code == 404 and "no open claim" in none.json()["detail"]
    assert c.post(f"/api/warranty/certificates/{cert_id}/reinspection", json=REINSPECTION).status_code == 401
