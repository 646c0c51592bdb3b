"""JSON numbers, text with NUL or lone surrogates: refused with a 422 that says where, on both databases."""

from __future__ import annotations

import pytest
from web_edge import Edge

JSON = {"content-type": "application/json"}


def _assert_refused(r: object, where: list[object], words: str) -> None:
    status = r.status_code  # type: ignore[attr-defined]
    text: str = r.text  # type: ignore[attr-defined]
    assert status == 422, text[:300]
    errors = r.json()["detail"]  # type: ignore[attr-defined]
    assert any(e["loc"] == where and words in e["msg"] for e in errors), errors


@pytest.mark.parametrize("literal", ["1e400", "-1e400", "NaN", "Infinity", "-Infinity"])
def test_non_finite_json_numbers_are_a_422_on_every_route(edge: Edge, literal: str) -> None:
    """1e400, NaN and Infinity (which Python reads as inf/nan) are refused as bodies of any JSON route."""
    staff = {**edge.auth("staff"), **JSON}
    sale = f'{{"cert": "X", "order_ref": "o", "currency": "CNY", "price_minor": {literal}}}'
    _assert_refused(
        edge.client.post("/api/warranty/sales", content=sale, headers=staff),
        ["body", "price_minor"],
        "finite",
    )
    claim = f'{{"cert": "X", "problem": "functional_fault", "extra": [1, {{"deep": {literal}}}]}}'
    _assert_refused(
        edge.client.post("/api/warranty/claims", content=claim, headers=JSON),
        ["body", "extra", 1, "deep"],
        "finite",
    )
    start = f'{{"kind": "phone", "auto_finish": {literal}}}'
    op = {**edge.auth("operator"), **JSON}
    _assert_refused(
        edge.client.post("/api/station/inspections", content=start, headers=op),
        ["body", "auto_finish"],
        "finite",
    )


def test_lone_surrogates_in_json_text_are_a_422(edge: Edge) -> None:
    """A lone surrogate (\\ud800) in a value or a field name is refused instead of failing the response."""
    body = '{"cert": "X", "problem": "functional_fault", "description": "a\\ud800b"}'
    _assert_refused(
        edge.client.post("/api/warranty/claims", content=body, headers=JSON),
        ["body", "description"],
        "surrogate",
    )
    body = '{"cert": "X", "problem": "functional_fault", "\\udfff": 1}'
    _assert_refused(
        edge.client.post("/api/warranty/claims", content=body, headers=JSON), ["body"], "surrogate"
    )


def test_integers_beyond_64_bits_in_json_are_a_422(edge: Edge) -> None:
    """An integer no database column holds (2**64) is refused before any handler sees it."""
    staff = edge.auth("staff")
    r = edge.client.post(
        "/api/warranty/sales",
        json={"cert": "X", "order_ref": "o", "currency": "CNY", "price_minor": 2**64},
        headers=staff,
    )
    _assert_refused(r, ["body", "price_minor"], "64 bits")
    r = edge.client.post(
        "/api/warranty/claims/WC-X/transitions", json={"action": "accept", "version": -(2**70)}, headers=staff
    )
    _assert_refused(r, ["body", "version"], "64 bits")


def test_nul_characters_are_a_422_in_paths_queries_json_and_forms(edge: Edge) -> None:
    """NUL (which PostgreSQL refuses in text) is a 422 wherever it comes: path, query, JSON, form."""
    staff, op = edge.auth("staff"), edge.auth("operator")
    _assert_refused(edge.client.get("/api/warranty/claims/WC-%00", headers=staff), ["path"], "NUL")
    _assert_refused(edge.client.get("/api/warranty/coverage/AB%00CD"), ["path"], "NUL")
    _assert_refused(
        edge.client.get("/api/station/inspections", params={"status": "run\x00ning"}, headers=op),
        ["query", "status"],
        "NUL",
    )
    hid = edge.issue()
    r = edge.client.post(
        "/api/warranty/claims",
        json={"cert": hid, "order_ref": "O-1", "problem": "functional_fault", "description": "a\x00b"},
    )
    _assert_refused(r, ["body", "description"], "NUL")
    r = edge.client.post("/auth/login", data={"username": "staff1\x00", "password": "x", "next": "/"})
    _assert_refused(r, ["body", "username"], "NUL")


def test_nul_in_a_multipart_sign_in_is_a_422(edge: Edge) -> None:
    """The sign-in form sent as multipart (read by its handler, not the guard) refuses NUL too."""
    r = edge.client.post("/auth/login", files={"username": (None, "staff1\x00"), "password": (None, "pw")})
    assert r.status_code == 422, r.text[:300]
    assert "NUL" in r.text


def test_refusals_never_repeat_the_input(edge: Edge) -> None:
    """The 422 says where and what is wrong, but carries none of the refused text back."""
    secret = "s3cr3t-" + "z" * 500
    r = edge.client.post(
        "/api/warranty/claims",
        content=f'{{"cert": "X", "problem": "functional_fault", "description": "{secret}\\u0000"}}',
        headers=JSON,
    )
    assert r.status_code == 422
    assert "s3cr3t" not in r.text


def test_nul_in_a_multipart_claim_form_is_refused_and_stores_nothing(edge: Edge) -> None:
    """The buyer's claim form (multipart, read by its handler) refuses NUL text with a 422, no claim."""
    hid = edge.issue()
    r = edge.client.post(
        "/api/warranty/sales",
        json={"cert": hid, "order_ref": "O-1", "price_minor": 100, "currency": "CNY"},
        headers=edge.auth("staff"),
    )
    assert r.status_code == 201, r.text
    fields = {"cert": hid, "order_ref": "O-1", "problem": "functional_fault", "description": "dead\x00screen"}
    r = edge.client.post("/claims/new", files={k: (None, v) for k, v in fields.items()})
    assert r.status_code == 422, r.text[:300]
    assert "NUL" in r.text
    queue = edge.client.get("/api/warranty/claims", headers=edge.auth("staff")).json()
    assert queue["total"] == 0
