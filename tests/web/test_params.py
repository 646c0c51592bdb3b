"""Numbers in paths and query strings the database cannot hold are refused, never a 500."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from web_edge import Edge

from inspector.config import Settings
from inspector.station.ports import StationHardware
from inspector.station.runtime import RunningStation

BEYOND_INT32 = [2**31, 2**63, 2**70]


@pytest.mark.parametrize("number", BEYOND_INT32)
def test_inspection_ids_beyond_32_bits_are_a_422_naming_the_bound(edge: Edge, number: int) -> None:
    """Inspection ids >= 2**31 (PostgreSQL INTEGER) get a 422 on every station route, qr.svg too."""
    op = edge.auth("operator")
    answers = [
        edge.client.get(f"/api/station/inspections/{number}", headers=op),
        edge.client.get(f"/api/station/inspections/{number}/steps", headers=op),
        edge.client.post(f"/api/station/inspections/{number}/finish", headers=op),
        edge.client.post(f"/api/station/inspections/{number}/abort", headers=op, json={"reason": "x"}),
        edge.client.post(f"/api/station/inspections/{number}/resume", headers=op),
        edge.client.post(f"/api/station/inspections/{number}/steps/screen/answer", headers=op, json={}),
        edge.client.get(f"/api/station/inspections/{number}/qr.svg", headers=op),
    ]
    for r in answers:
        assert r.status_code == 422, (r.request.url.path, r.status_code, r.text[:200])
        assert "2147483647" in r.text
    # The largest id the column can hold is still just "not found".
    assert edge.client.get(f"/api/station/inspections/{2**31 - 1}/qr.svg", headers=op).status_code == 404


@pytest.mark.parametrize("offset", [str(2**31), str(2**63), "9" * 40, "-5", "x"])
def test_any_queue_offset_gives_a_page_not_a_500(edge: Edge, offset: str) -> None:
    """A huge (or nonsense) offset on the claim queue, JSON and page, gives an empty page, not a 500."""
    staff = edge.auth("staff")
    api = edge.client.get("/api/warranty/claims", params={"offset": offset}, headers=staff)
    assert api.status_code == 200, api.text[:200]
    assert api.json()["claims"] == [] or offset in ("-5", "x")
    page = edge.client.get("/staff/claims", params={"offset": offset}, headers=staff)
    assert page.status_code == 200


@pytest.mark.parametrize("last_id", ["9" * 5000, "\u00b2", str(2**70)])
def test_an_event_stream_resumed_from_an_impossible_id_opens_not_500(tmp_path: Path, last_id: str) -> None:
    """A Last-Event-ID no counter reaches (5000 digits, a superscript digit) opens the stream, not a 500."""
    url = f"sqlite:///{tmp_path / 'sse.db'}"
    settings = Settings(data_dir=tmp_path / "data", database_url=url, port=0)
    with RunningStation(settings, hardware=StationHardware()) as running:
        headers = {"last-event-id": last_id.encode("latin-1")}
        with (
            httpx.Client(base_url=running.base_url, timeout=httpx.Timeout(10.0, read=30.0)) as client,
            client.stream("GET", "/api/station/events", headers=headers) as r,
        ):
            assert r.status_code == 200
            assert next(line for line in r.iter_lines() if line.startswith("event:")) == "event: hello"
