"""Two sellers on one platform process (PostgreSQL), each with a station process (SQLite) enrolled
by the real commands: each seller's staff see their own station's claims only, the admin sees both."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import httpx
from browser import free_port
from sqlalchemy.engine import Engine
from sync_processes import (
    ServeProcess,
    cli,
    issue,
    station_engine,
    station_process,
    station_settings,
    wait_until,
)

from inspector.sync.enrolment import enrol

SELLERS = {"acme": ("Acme Phones", "st-acme-1"), "jade": ("Jade House", "st-jade-1")}


def _platform(platform_data: Path, platform_url: str) -> list[str]:
    return ["--data-dir", str(platform_data), "--database-url", platform_url]


def _token(where: list[str], name: str, role: str, seller: str | None) -> dict[str, str]:
    """A platform user made with ``inspector users add`` and the headers of their API token."""
    extra = ["--seller", seller] if seller else []
    cli("users", "add", name, "--role", role, "--password", f"pw-{name}-long", *extra, *where)
    token = cli("users", "token", name, *where).strip().splitlines()[-1]
    return {"Authorization": f"Bearer {token}"}


def _verifies(platform: ServeProcess, human_id: str) -> bool:
    try:
        return httpx.get(f"{platform.base}/c/{human_id}/verify.json", timeout=10).status_code == 200
    except httpx.HTTPError:
        return False


def test_each_sellers_staff_see_only_their_own_stations_claims(
    platform: ServeProcess, platform_url: str, platform_engine: Engine, platform_data: Path, tmp_path: Path
) -> None:
    """The admin adds two sellers and enrols a station for each with ``enrol-code --seller``; each
    station issues a certificate that reaches the platform, is sold and claimed there. Acme's staff
    list, open and act on acme's claim only (jade's is 404, as if it did not exist, and so is
    selling jade's certificate); jade's staff likewise; the platform admin sees both, and each
    seller's supervisor exports only their own claims."""
    where = _platform(platform_data, platform_url)
    for seller_id, (name, _) in SELLERS.items():
        assert f"added seller {seller_id}" in cli(
            "platform", "sellers", "add", seller_id, "--name", name, *where
        )
    stations = {}
    for seller_id, (_, station_id) in SELLERS.items():
        out = cli("platform", "enrol-code", station_id, "--seller", seller_id, *where)
        assert f"of seller {seller_id}" in out
        code = out.splitlines()[1].strip()
        data = tmp_path / station_id
        engine = station_engine(data)
        enrol(engine, station_settings(data, station_id), platform.base, code)
        stations[seller_id] = (station_id, data, engine)
    listing = cli("platform", "sellers", "list", *where)
    assert "acme" in listing and "Jade House" in listing
    assert "seller acme" in cli("platform", "stations", "--seller", "acme", *where)

    certs: dict[str, str] = {}
    processes = []
    try:
        for seller_id, (station_id, data, engine) in stations.items():
            certs[seller_id], _ = issue(engine, data, station_id)
            processes.append(station_process(data, station_id, free_port()).start())
        for human_id in certs.values():
            wait_until(f"certificate {human_id} at the platform", lambda h=human_id: _verifies(platform, h))
    finally:
        for proc in processes:
            proc.stop()
        for _, _, engine in stations.values():
            engine.dispose()

    staff = {seller: _token(where, f"{seller}-staff", "staff", seller) for seller in SELLERS}
    supervisors = {seller: _token(where, f"{seller}-sup", "supervisor", seller) for seller in SELLERS}
    admin = _token(where, "platform-admin", "admin", None)
    refs: dict[str, str] = {}
    with httpx.Client(base_url=platform.base, timeout=30) as c:
        for seller_id, human_id in certs.items():
            other = "jade" if seller_id == "acme" else "acme"
            sale = {
                "cert": human_id,
                "order_ref": f"ORD-{seller_id}",
                "price_minor": 99900,
                "currency": "CNY",
            }
            assert c.post("/api/warranty/sales", json=sale, headers=staff[other]).status_code == 404
            assert c.post("/api/warranty/sales", json=sale, headers=staff[seller_id]).status_code == 201
            claim = {"cert": human_id, "order_ref": f"ORD-{seller_id}", "problem": "functional_fault"}
            r = c.post("/api/warranty/claims", json=claim)  # the buyer, with the order reference
            assert r.status_code == 201, r.text
            refs[seller_id] = r.json()["ref"]

        for seller_id, headers in staff.items():
            other = "jade" if seller_id == "acme" else "acme"
            queue = c.get("/api/warranty/claims", headers=headers).json()
            assert [row["ref"] for row in queue["claims"]] == [refs[seller_id]]
            page = c.get("/staff/claims", headers=headers)
            assert refs[seller_id] in page.text and refs[other] not in page.text
            assert SELLERS[seller_id][0] in page.text  # the header names their seller
            assert c.get(f"/api/warranty/claims/{refs[other]}", headers=headers).status_code == 404
            assert c.get(f"/staff/claims/{refs[other]}", headers=headers).status_code == 404
            move = {"action": "accept"}
            assert (
                c.post(
                    f"/api/warranty/claims/{refs[other]}/transitions", json=move, headers=headers
                ).status_code
                == 404
            )
            accepted = c.post(
                f"/api/warranty/claims/{refs[seller_id]}/transitions", json=move, headers=headers
            )
            assert accepted.status_code == 200 and accepted.json()["state"] == "awaiting_item"

        everything = c.get("/api/warranty/claims", headers=admin).json()
        assert sorted(row["ref"] for row in everything["claims"]) == sorted(refs.values())
        for seller_id, headers in supervisors.items():
            exported = c.get("/staff/reports/claims.csv", headers=headers)
            rows = list(csv.DictReader(io.StringIO(exported.text)))
            assert [(row["ref"], row["station_id"]) for row in rows] == [
                (refs[seller_id], SELLERS[seller_id][1])
            ]
