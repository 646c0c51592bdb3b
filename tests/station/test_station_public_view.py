"""What the public live view and event stream show when an inspection stops, and who may fetch an
inspection's QR code: fixed notices only (no file paths, SQL or operator notes), no enumeration."""

from __future__ import annotations

import httpx
from station_helpers import Station

from inspector.station.notices import PublicNotice

SECRET_REASON = "C:\\Users\\op\\notes.txt SELECT * FROM auth_user -- call Li on 138 0000 0000"


def test_live_view_shows_fixed_notices_not_internal_errors_or_abort_reasons(station: Station) -> None:
    """An interrupted inspection (driver error text) and an abort with a free-text reason reach the
    public live view and event stream only as fixed codes and messages; the operator still sees all."""
    events = station.events()
    station.sim.phone.unplug()
    with station.client() as op, httpx.Client(base_url=station.base, timeout=10) as anon:
        iid = op.post("/api/station/inspections", json={"kind": "phone"}).json()["id"]
        internal = station.wait_status(iid, "interrupted")["error"]
        assert internal and "phone" in internal.lower()
        live = anon.get("/api/station/live").json()["inspection"]
        assert live["error_code"] == PublicNotice.interrupted.value
        assert live["error"] == PublicNotice.interrupted.message
        assert live["steps"][0]["error_code"] == PublicNotice.check_error.value
        assert internal not in anon.get("/api/station/live").text

        r = op.post(f"/api/station/inspections/{iid}/abort", json={"reason": SECRET_REASON})
        assert r.status_code == 200 and SECRET_REASON in r.json()["error"]  # the operator's view
        live_text = anon.get("/api/station/live").text
        live = anon.get("/api/station/live").json()["inspection"]
        assert live["error_code"] == PublicNotice.aborted.value
        assert live["error"] == PublicNotice.aborted.message
        for leak in ("SELECT", "notes.txt", "138 0000", internal):
            assert leak not in live_text
    aborted = events.wait_for(lambda e: e["type"] == "inspection.aborted")
    assert aborted["inspection"]["error_code"] == PublicNotice.aborted.value
    for ev in events.events:
        assert "SELECT" not in str(ev) and internal not in str(ev)
        assert "by" not in ev  # who resumed or aborted stays off the public stream


def test_inspection_qr_code_is_not_public_by_inspection_number(station: Station) -> None:
    """Anonymous callers cannot walk ``/api/station/inspections/{n}/qr.svg`` through every
    certificate (401); an operator can; the public QR code goes by certificate id."""
    with httpx.Client(base_url=station.base, timeout=10) as anon:
        for n in (1, 2, 3):
            assert anon.get(f"/api/station/inspections/{n}/qr.svg").status_code == 401
    with station.client() as op:
        assert op.get("/api/station/inspections/999999/qr.svg").status_code == 404
