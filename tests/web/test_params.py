"""Numbers in paths and query strings the database cannot hold are refused, never a 500."""

from __future__ import annotations

import pytest
from conftest import Edge

BEYOND_INT32 = [2**31, 2**63, 2**70]


@pytest.mark.parametrize("number", BEYOND_INT32)
def test_inspection_ids_beyond_32_bits_are_a_422_naming_the_bound(edge: Edge, number: int) -> None:
    """Inspection ids >= 2**31 (PostgreSQL INTEGER) get a 422 on every station route, public qr.svg too."""
    op = edge.auth("operator")
    answers = [
        edge.client.get(f"/api/station/inspections/{number}", headers=op),
        edge.client.get(f"/api/station/inspections/{number}/steps", headers=op),
        edge.client.post(f"/api/station/inspections/{number}/finish", headers=op),
        edge.client.post(f"/api/station/inspections/{number}/abort", headers=op, json={"reason": "x"}),
        edge.client.post(f"/api/station/inspections/{number}/resume", headers=op),
        edge.client.post(f"/api/station/inspections/{number}/steps/screen/answer", headers=op, json={}),
        edge.client.get(f"/api/station/inspections/{number}/qr.svg"),
    ]
    for r in answers:
        assert r.status_code == 422, (r.request.url.path, r.status_code, r.text[:200])
        assert "2147483647" in r.text
    # The largest id the column can hold is still just "not found".
    assert edge.client.get(f"/api/station/inspections/{2**31 - 1}/qr.svg").status_code == 404


@pytest.mark.parametrize("offset", [str(2**31), str(2**63), "9" * 40, "-5", "x"])
def test_any_queue_offset_gives_a_page_not_a_500(edge: Edge, offset: str) -> None:
    """A huge (or nonsense) offset on the claim queue, JSON and page, gives an empty page, not a 500."""
    staff = edge.auth("staff")
    api = edge.client.get("/api/warranty/claims", params={"offset": offset}, headers=staff)
    assert api.status_code == 200, api.text[:200]
    assert api.json()["claims"] == [] or offset in ("-5", "x")
    page = edge.client.get("/staff/claims", params={"offset": offset}, headers=staff)
    assert page.status_code == 200
