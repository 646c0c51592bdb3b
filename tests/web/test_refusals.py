"""Every package refuses the same way (inspector.web.refused): the status of the refusal, ``detail``
in English for programs, ``message`` in the reader's language for a console, ``error`` its kind."""

from __future__ import annotations

import re

from web_edge import Edge

ZH = {"Accept-Language": "zh-CN"}
CJK = re.compile(r"[\u4e00-\u9fff]")


def test_a_station_refusal_is_english_in_detail_and_chinese_in_message(edge: Edge) -> None:
    """An unknown inspection: 404, the English reason for programs, the Chinese one for the console."""
    r = edge.client.get("/api/station/inspections/424242", headers={**edge.auth("operator"), **ZH})
    assert r.status_code == 404
    body = r.json()
    assert body["detail"] == "no inspection 424242 on this station"
    assert CJK.search(body["message"]) and "424242" in body["message"]
    assert body["error"] == "station_refused"


def test_a_warranty_refusal_names_its_kind_and_speaks_the_readers_language(edge: Edge) -> None:
    """An unknown claim in the staff API: 404 ``not_found``, English detail, Chinese message."""
    r = edge.client.get("/api/warranty/claims/WC-NOSUCH00", headers={**edge.auth("staff"), **ZH})
    assert r.status_code == 404
    body = r.json()
    assert body["error"] == "not_found" and "WC-NOSUCH00" in body["detail"]
    assert CJK.search(body["message"]) and not CJK.search(body["detail"])


def test_certificate_status_refusals_are_404_for_unknown_and_409_for_the_wrong_state(edge: Edge) -> None:
    """Revoking an unknown certificate is 404; reinstating one that is not suspended is 409, and the
    refused action leaves the certificate as it was (still active, reinstate still refused)."""
    sup = edge.auth("supervisor")
    r = edge.client.post("/api/certificates/NOSUCH0000/revoke", json={"reason": "x"}, headers=sup)
    assert r.status_code == 404 and r.json()["error"] == "not_found"
    human_id = edge.issue()
    for _ in range(2):
        r = edge.client.post(f"/api/certificates/{human_id}/reinstate", json={}, headers=sup)
        assert r.status_code == 409, r.text
        assert r.json() == {
            "detail": "certificate is not suspended",
            "message": "certificate is not suspended",
            "error": "status_change_refused",
        }
    r = edge.client.post(f"/api/certificates/{human_id}/suspend", json={"reason": "checking"}, headers=sup)
    assert r.status_code == 200 and r.json()["status"] == "suspended"


def test_a_log_proof_for_a_tree_size_the_log_does_not_have_is_a_400(edge: Edge) -> None:
    """The transparency log refuses a consistency proof beyond its size with 400 and says the range."""
    edge.issue()
    r = edge.client.get("/log/consistency", params={"first": 1, "second": 99})
    assert r.status_code == 400
    assert r.json()["error"] == "bad_tree_size" and "current log size" in r.json()["detail"]
