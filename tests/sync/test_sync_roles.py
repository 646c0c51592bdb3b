"""What each role serves: a platform drives no hardware and takes uploads; a station the reverse."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sync_processes import ROOT

from inspector.config import ServerRole, Settings
from inspector.platform.runtime import SQLITE_WARNING, PlatformSetupError, check_database
from inspector.web.app import create_app


def test_platform_serves_verify_and_upload_api_but_no_station(sqlite_engine: Engine, tmp_path: Path) -> None:
    """On the platform the station's API and pages are absent (nothing builds hardware on a visit)
    while enrolment answers; on a station it is the other way round, and its sync state is for
    operators only."""
    platform = Settings(data_dir=tmp_path, role=ServerRole.PLATFORM)
    with TestClient(create_app(platform, engine=sqlite_engine)) as c:
        assert c.get("/api/station/live").status_code == 404
        assert c.get("/station/overlay").status_code == 404
        assert c.get("/api/station/sync").status_code == 404
        refused = c.post(
            "/api/platform/enrol", json={"code": "X", "station_id": "s", "public_key": "z", "proof": "p"}
        )
        assert refused.status_code == 403 and refused.json()["error"] == "unknown_code"
        ready = c.get("/readyz").json()
        assert {"name": "hardware", "state": "ok", "detail": "none needed: this is the platform"} in ready[
            "checks"
        ]
    station = Settings(data_dir=tmp_path, role=ServerRole.STATION, simulate=False)
    with TestClient(create_app(station, engine=sqlite_engine)) as c:
        assert c.post("/api/platform/enrol", json={}).status_code == 404
        assert c.get("/api/station/sync").status_code == 401


def test_platform_on_sqlite_runs_one_worker_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """SQLite is for a demo: one worker is allowed with a warning that says to use PostgreSQL, two are
    refused by ``inspector serve`` with what to change."""
    settings = Settings(data_dir=tmp_path, role=ServerRole.PLATFORM)
    with caplog.at_level(logging.WARNING, logger="inspector.platform"):
        check_database(settings, 1)
    assert [r.getMessage() for r in caplog.records] == [SQLITE_WARNING]
    with pytest.raises(PlatformSetupError):
        check_database(settings, 2)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "inspector",
            "serve",
            "--role",
            "platform",
            "--workers",
            "2",
            "--data-dir",
            str(tmp_path),
        ],
        cwd=ROOT,
        env={k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "INSPECTOR_DATABASE_URL")},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1 and "several workers need PostgreSQL" in done.stderr
