"""Money beyond 32 bits and unknown plans, through the JSON API, on SQLite and PostgreSQL."""

from __future__ import annotations

from web_edge import Edge

from inspector.certificates.testing import sample_request
from warranty.plans import get_plan

PRICE = 5_000_000_000  # 50 million yuan in fen: above 2**31, a jewel a live show may sell


def test_ten_times_refund_on_an_expensive_jewel_is_approved(edge: Edge) -> None:
    """A sale above 2**31 fen and its 10x authenticity refund are stored (BIGINT columns, BIGINT model)."""
    staff, sup = edge.auth("staff"), edge.auth("supervisor")
    hid = edge.issue("jewelry")
    r = edge.client.post(
        "/api/warranty/sales",
        json={
            "cert": hid,
            "order_ref": "LIVE-9",
            "price_minor": PRICE,
            "currency": "CNY",
            "plan_id": "jewelry-authenticity",
        },
        headers=staff,
    )
    assert r.status_code == 201, r.text
    r = edge.client.post(
        "/api/warranty/claims", json={"cert": hid, "order_ref": "LIVE-9", "problem": "authenticity"}
    )
    assert r.status_code == 201, r.text
    ref = r.json()["ref"]
    weight = sample_request("jewelry").identity["weight_mg"]
    steps = [
        (staff, "transitions", {"action": "accept"}),
        (staff, "transitions", {"action": "receive", "weight_mg": weight}),
        (staff, "reinspection", {"grade": "D", "notes": "plated brass under the 750 stamp"}),
        (sup, "transitions", {"action": "approve", "outcome": "refund", "note": "not 18K gold"}),
    ]
    for headers, kind, body in steps:
        r = edge.client.post(f"/api/warranty/claims/{ref}/{kind}", json=body, headers=headers)
        assert r.status_code == 200, (body, r.text)
    claim = edge.client.get(f"/api/warranty/claims/{ref}", headers=staff).json()
    plan = get_plan("jewelry-authenticity")
    assert plan.authenticity_multiple == 10 and plan.return_shipping_compensation is not None
    assert claim["state"] == "approved"
    assert claim["payout_minor"] == PRICE * 10 + plan.return_shipping_compensation.amount_minor


def test_unknown_plan_id_is_a_422_listing_the_plans(edge: Edge) -> None:
    """A sale naming a plan that does not exist is the caller's mistake: 422 with the plans, no sale."""
    hid = edge.issue()
    body = {"cert": hid, "order_ref": "O-1", "price_minor": 1, "currency": "CNY", "plan_id": "gold-forever"}
    r = edge.client.post("/api/warranty/sales", json=body, headers=edge.auth("staff"))
    assert r.status_code == 422, r.text
    assert "phone-180" in r.json()["detail"] and "gold-forever" not in r.text
    r = edge.client.post("/api/warranty/sales", json={**body, "plan_id": None}, headers=edge.auth("staff"))
    assert r.status_code == 201, "the refused sale left nothing behind"


def test_a_price_whose_refund_would_overflow_is_refused(edge: Edge) -> None:
    """A price so large that ten times it leaves 64 bits is a 422, not a failed refund later."""
    hid = edge.issue("jewelry")
    body = {"cert": hid, "order_ref": "O-1", "price_minor": 2**62, "currency": "CNY"}
    r = edge.client.post("/api/warranty/sales", json=body, headers=edge.auth("staff"))
    assert r.status_code == 422, r.text
