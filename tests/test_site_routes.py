"""Files browsers ask every site for."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from inspector.config import Settings
from inspector.web.app import create_app


def test_favicon_is_served_so_browser_tabs_show_the_station_icon(tmp_path: Path) -> None:
    """/favicon.ico answers with a real icon instead of a 404 in every page load's log."""
    app = create_app(Settings(data_dir=tmp_path))
    with TestClient(app) as client:
        r = client.get("/favicon.ico")
    assert r.status_code == 200
    assert r.headers["content-type"] == "image/vnd.microsoft.icon"
    assert r.content[:4] == b"\x00\x00\x01\x00"  # ICO header: reserved 0, type 1 (icon)
