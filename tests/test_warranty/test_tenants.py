# ruff: noqa: RUF001  (Chinese text is written with its own full-width punctuation)
"""Two sellers on one platform: the tenant matrix (every staff route x who asks) and the rows each sees.

Seller ``acme`` runs station ``st-acme``, seller ``jade`` runs ``st-jade``, ``st-own`` is the
platform's own. Each route is asked about acme's claim (or certificate) by acme's people, jade's
people, the platform's own staff, the platform admin and an anonymous caller: acme and the admin
get it, the others a 404 that does not confirm it exists (or the sign-in answer when anonymous).
Lists (queue, reports, CSV) hold only the asker's stations' rows.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from page_language import untranslated
from sqlalchemy.engine import Engine
from wty_helpers import IMEI, STAFF, buyer_claim, make_cert, sell

from inspector.auth import Role, create_user, issue_token
from inspector.auth.sellers import add_seller
from inspector.certificates.testing import issue_sample_certificate
from inspector.config import ServerRole, Settings
from inspector.db import make_engine, migrate, session_scope
from inspector.platform.tables import EnrolledStation
from inspector.web.app import create_app
from warranty.service import transition

STATIONS = {"st-acme": "acme", "st-jade": "jade", "st-own": None}
SELLER_NAMES = {"acme": "Acme Phones", "jade": "Jade House"}
# Who asks: (role, seller). Supervisors may do everything staff may, and see reports.
PEOPLE: dict[str, tuple[str, str | None]] = {
    "acme_staff": ("staff", "acme"),
    "acme_supervisor": ("supervisor", "acme"),
    "jade_staff": ("staff", "jade"),
    "jade_supervisor": ("supervisor", "jade"),
    "own_supervisor": ("supervisor", None),
    "admin": ("admin", None),
}
ASKERS = ["anonymous", *PEOPLE]
# The stations whose rows each asker sees.
SEES: dict[str, set[str]] = {
    "acme_staff": {"st-acme"},
    "acme_supervisor": {"st-acme"},
    "jade_staff": {"st-jade"},
    "jade_supervisor": {"st-jade"},
    "own_supervisor": {"st-own"},
    "admin": set(STATIONS),
}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A platform with two sellers, a station each and one of its own, a token per person."""
    tmp: Path = tmp_path_factory.mktemp("tenants")
    url = f"sqlite:///{tmp / 'p.db'}"
    migrate(url)
    engine = make_engine(url)
    with session_scope(engine) as s:
        for seller_id, name in SELLER_NAMES.items():
            add_seller(s, seller_id, name)
        for n, (station_id, seller) in enumerate(STATIONS.items()):
            s.add(
                EnrolledStation(
                    station_id=station_id,
                    seller_id=seller,
                    status_list_first=1_000_000 + 64 * n,
                    status_list_count=64,
                )
            )
        tokens = {
            who: issue_token(s, create_user(s, who, Role(role), "correct-horse", seller_id=seller))
            for who, (role, seller) in PEOPLE.items()
        }
    settings = Settings(data_dir=tmp, database_url=url, role=ServerRole.PLATFORM)
    app = create_app(settings, engine=engine)
    with TestClient(app) as client:
        yield {
            "data": tmp,
            "url": url,
            "engine": engine,
            "tokens": tokens,
            "client": client,
            "claims": {st: _claim(engine, st) for st in STATIONS},
        }
    engine.dispose()


def _claim(engine: Engine, station: str, steps: tuple[str, ...] = ()) -> dict[str, str]:
    """A sold certificate of ``station`` with a buyer's claim, moved through ``steps``."""
    cert = make_cert(station=station)
    sell(engine, cert)
    ref, _ = buyer_claim(engine, cert.human_id)
    with session_scope(engine) as s:
        for step in steps:
            transition(s, ref, step, STAFF, **({"identity_value": IMEI} if step == "receive" else {}))
    return {"ref": ref, "cert": cert.human_id, "station": station}


def _h(world: dict[str, Any], who: str) -> dict[str, str]:
    return {} if who == "anonymous" else {"Authorization": f"Bearer {world['tokens'][who]}"}


def _state(world: dict[str, Any], ref: str) -> str:
    r = world["client"].get(f"/api/warranty/claims/{ref}", headers=_h(world, "admin"))
    return str(r.json()["state"])


def _sees_acme(who: str) -> bool:
    return who != "anonymous" and "st-acme" in SEES[who]


# Expected status of each route about acme's claim: (anonymous, in scope, out of scope).
ROUTES: dict[str, tuple[int, int, int]] = {
    "claim_page": (303, 200, 404),
    "claim_api": (401, 200, 404),
    "label": (303, 200, 404),
    "act_page": (303, 303, 404),
    "act_api": (401, 200, 404),
    "reinspect_api": (401, 200, 404),
    "reinspect_by_certificate": (401, 200, 404),
    "record_sale": (401, 201, 404),
    "open_on_behalf_page": (303, 303, 404),
    "open_on_behalf_api": (201, 201, 404),  # anonymous: the buyer, proved by the order reference
}
REINSPECTION = {"inspection_id": "insp-t", "grade": "B", "photos": ["c" * 64], "defects": []}


@pytest.mark.parametrize("who", ASKERS)
@pytest.mark.parametrize("route", list(ROUTES))
def test_tenant_matrix_for_one_claim(world: dict[str, Any], route: str, who: str) -> None:
    """Acme's claim and certificate answer acme's people and the platform admin; jade's people and
    the platform's own staff get 404 (as for a claim that does not exist) and change nothing."""
    c: TestClient = world["client"]
    engine: Engine = world["engine"]
    h = _h(world, who)
    anonymous, allowed, refused = ROUTES[route]
    expected = anonymous if who == "anonymous" else (allowed if _sees_acme(who) else refused)
    claim = _claim(engine, "st-acme", ("accept", "receive") if route.startswith("reinspect") else ())
    ref, cert = claim["ref"], claim["cert"]
    before = _state(world, ref)
    if route in ("claim_page", "claim_api", "label"):
        url = {
            "claim_page": f"/staff/claims/{ref}",
            "claim_api": f"/api/warranty/claims/{ref}",
            "label": f"/staff/claims/{ref}/label",
        }[route]
        r = c.get(url, headers=h, follow_redirects=False)
    elif route == "act_page":
        r = c.post(f"/staff/claims/{ref}/act", data={"action": "accept"}, headers=h, follow_redirects=False)
    elif route == "act_api":
        r = c.post(f"/api/warranty/claims/{ref}/transitions", json={"action": "accept"}, headers=h)
    elif route == "reinspect_api":
        r = c.post(f"/api/warranty/claims/{ref}/reinspection", json=REINSPECTION, headers=h)
    elif route == "reinspect_by_certificate":
        r = c.post(f"/api/warranty/certificates/{cert}/reinspection", json=REINSPECTION, headers=h)
    elif route == "record_sale":
        new = make_cert(station="st-acme")
        body = {"cert": new.human_id, "order_ref": "O-7", "price_minor": 100, "currency": "CNY"}
        r = c.post("/api/warranty/sales", json=body, headers=h)
    else:  # open a claim on a buyer's behalf for a sold acme certificate without one
        new = make_cert(station="st-acme")
        sell(engine, new)
        form = {"cert": new.human_id, "order_ref": "ORD-1001", "problem": "functional_fault"}
        if route == "open_on_behalf_page":
            r = c.post("/staff/claims", data=form, headers=h, follow_redirects=False)
        else:
            r = c.post("/api/warranty/claims", json=form, headers=h)
    assert r.status_code == expected, (route, who, r.status_code, r.text[:300])
    if expected == 404:  # the same answer as for a claim or certificate that does not exist
        assert ("there is no" in r.text or "has no open claim" in r.text) and "acme" not in r.text.lower()
        assert _state(world, ref) == before  # nothing moved
    if expected == 303 and who == "anonymous":
        assert r.headers["location"].startswith("/auth/login?next=")


@pytest.mark.parametrize("who", ASKERS)
def test_queue_holds_only_the_askers_stations(world: dict[str, Any], who: str) -> None:
    """The claim queue, as a page and as JSON, lists the claims of the asker's stations only."""
    c: TestClient = world["client"]
    h = _h(world, who)
    api = c.get("/api/warranty/claims?state=all", headers=h)
    page = c.get("/staff/claims?state=all", headers=h, follow_redirects=False)
    if who == "anonymous":
        assert (api.status_code, page.status_code) == (401, 303)
        return
    assert (api.status_code, page.status_code) == (200, 200)
    seen = {row["station_id"] for row in api.json()["claims"]}
    assert seen == SEES[who]
    for station, claim in world["claims"].items():
        assert (claim["ref"] in page.text) == (station in SEES[who]), (station, who)
    for station in set(STATIONS) - SEES[who]:  # not even by asking for that station
        other = c.get(f"/api/warranty/claims?state=all&station={station}", headers=h).json()
        assert other["claims"] == [] and other["total"] == 0


# Reports are for supervisors: staff get 403 whoever's they are.
REPORTERS = ["anonymous", "acme_staff", "acme_supervisor", "jade_supervisor", "own_supervisor", "admin"]


@pytest.mark.parametrize("who", REPORTERS)
def test_reports_and_exports_hold_only_the_askers_stations(world: dict[str, Any], who: str) -> None:
    """The report page, the claims CSV and the rates CSV count and list only the asker's stations."""
    c: TestClient = world["client"]
    h = _h(world, who)
    answers = {
        url: c.get(url, headers=h, follow_redirects=False)
        for url in ("/staff/reports", "/staff/reports/claims.csv", "/staff/reports/rates.csv")
    }
    if who in ("anonymous", "acme_staff"):
        assert {r.status_code for r in answers.values()} == ({303} if who == "anonymous" else {403})
        return
    assert {r.status_code for r in answers.values()} == {200}
    claims = list(csv.DictReader(io.StringIO(answers["/staff/reports/claims.csv"].text)))
    assert {row["station_id"] for row in claims} == SEES[who]
    rates = list(csv.DictReader(io.StringIO(answers["/staff/reports/rates.csv"].text)))
    assert {row["value"] for row in rates if row["dimension"] == "station_id"} == SEES[who]
    for station in STATIONS:
        assert (station in answers["/staff/reports"].text) == (station in SEES[who]), (station, who)


@pytest.mark.parametrize(
    ("who", "english", "chinese"),
    [
        ("acme_staff", "Seller: Acme Phones", "卖家：Acme Phones"),
        ("jade_supervisor", "Seller: Jade House", "卖家：Jade House"),
        ("admin", "Platform: every seller", "平台：全部卖家"),
    ],
)
def test_staff_pages_say_which_seller_in_both_languages(
    world: dict[str, Any], who: str, english: str, chinese: str
) -> None:
    """The header of the staff pages names the seller the person works for (or every seller)."""
    c: TestClient = world["client"]
    for lang, words in (("en-US", english), ("zh-CN", chinese)):
        r = c.get("/staff/claims", headers={**_h(world, who), "Accept-Language": lang})
        assert r.status_code == 200 and words in r.text, (who, lang)


@pytest.mark.parametrize("who", ["acme_supervisor", "admin"])
def test_the_stations_page_speaks_chinese(world: dict[str, Any], who: str) -> None:
    """In zh-CN the stations page (with the admin's seller column) shows no English message."""
    r = world["client"].get("/staff/stations", headers={**_h(world, who), "Accept-Language": "zh-CN"})
    assert r.status_code == 200 and "检测站" in r.text
    assert untranslated(r.text) == []


def test_the_platforms_own_staff_page_names_no_seller(world: dict[str, Any]) -> None:
    """Staff of no seller see no seller's name at the top (they work for the platform itself)."""
    r = world["client"].get("/staff/claims", headers=_h(world, "own_supervisor"))
    assert r.status_code == 200 and 'class="w-seller"' not in r.text


@pytest.mark.parametrize("who", ASKERS)
def test_stations_page_lists_only_the_askers_stations(world: dict[str, Any], who: str) -> None:
    """The staff's stations page lists the stations they work with, linked to their claims."""
    r = world["client"].get("/staff/stations", headers=_h(world, who), follow_redirects=False)
    if who == "anonymous":
        assert r.status_code == 303 and r.headers["location"].startswith("/auth/login?next=")
        return
    assert r.status_code == 200
    for station in STATIONS:
        assert (f"station={station}" in r.text) == (station in SEES[who]), (station, who)
    assert ("<th>Seller</th>" in r.text) == (who == "admin")  # only the platform admin sees several


def test_a_station_servers_console_has_no_stations_link(world: dict[str, Any], tmp_path: Path) -> None:
    """Stations are a platform's matter: a station server's staff console does not offer the page."""
    url = f"sqlite:///{tmp_path / 's.db'}"
    migrate(url)
    engine = make_engine(url)
    with session_scope(engine) as s:
        token = issue_token(s, create_user(s, "desk", Role.staff, "correct-horse"))
    with TestClient(create_app(Settings(data_dir=tmp_path, database_url=url), engine=engine)) as c:
        page = c.get("/staff/claims", headers={"Authorization": f"Bearer {token}"})
    assert page.status_code == 200 and 'href="/staff/stations"' not in page.text
    on_platform = world["client"].get("/staff/claims", headers=_h(world, "acme_staff"))
    assert 'href="/staff/stations"' in on_platform.text
    engine.dispose()


@pytest.mark.parametrize("who", ASKERS)
def test_certificate_status_changes_stay_within_the_seller(world: dict[str, Any], who: str) -> None:
    """Suspending a certificate (supervisors and admins) works on the asker's own stations'
    certificates; another seller's answers 404 as an unknown one and stays valid."""
    with session_scope(world["engine"]) as s:
        human_id = issue_sample_certificate(
            s, Settings(data_dir=world["data"], database_url=world["url"]), station_id="st-acme"
        ).human_id
    r = world["client"].post(
        f"/api/certificates/{human_id}/suspend", json={"reason": "buyer dispute"}, headers=_h(world, who)
    )
    role = PEOPLE[who][0] if who != "anonymous" else "anonymous"
    expected = {"anonymous": 401, "staff": 403}.get(role, 200 if _sees_acme(who) else 404)
    assert r.status_code == expected, (who, r.text)
    status = world["client"].get(f"/c/{human_id}/verify.json").json()["verdict"]
    assert status == ("suspended" if expected == 200 else "valid")
