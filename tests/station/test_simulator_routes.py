"""The debug-only cable-pull route exists only on simulated stations and only for operators."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from station_helpers import Station

from inspector.config import Settings
from inspector.web.app import create_app


def test_cable_route_is_absent_on_real_hardware(tmp_path: Path) -> None:
    """With INSPECTOR_SIMULATE off the route is not registered at all (404), even for the API schema."""
    app = create_app(Settings(data_dir=tmp_path, simulate=False))
    with TestClient(app) as c:
        assert c.post("/api/station/simulator/rig/unplug").status_code == 404
        assert "/api/station/simulator/{device}/{action}" not in c.get("/openapi.json").json()["paths"]


def test_cable_route_pulls_and_replugs_the_simulated_scale_for_an_operator_only(station: Station) -> None:
    """Anonymous callers get 401; an operator's unplug really pulls the simulated balance's cable and
    replug brings it back under the same path."""
    st = station
    with st.client() as c:
        assert c.post("/api/station/simulator/scale/unplug", headers={"Authorization": ""}).status_code == 401
        r = c.post("/api/station/simulator/scale/unplug")
        assert r.status_code == 200 and r.json() == {"device": "scale", "plugged": False}
        assert st.sim.scale is not None and not st.sim.scale.plugged
        r = c.post("/api/station/simulator/scale/replug")
        assert r.status_code == 200 and r.json()["plugged"] is True
        assert st.sim.scale.plugged
        assert c.post("/api/station/simulator/camera/unplug").status_code == 422
