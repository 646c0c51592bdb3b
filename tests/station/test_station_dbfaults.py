"""PostgreSQL faults under a running station (through a real TCP proxy): an inspection always ends
in a recorded state, and a station whose database hangs refuses to start with a clear message."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from faultproxy import Mode
from proxied_postgres import ProxiedPostgres
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from station_helpers import start_station, stop_station

from devices.simulated_station import SimulatedStation
from inspector.db import DatabaseLimits, make_engine
from inspector.station.runtime import free_port
from inspector.station.tables import Inspection, InspectionStep

WAIT_S = 60.0  # far above the limits below: a state not reached by then is never reached
LIMITS = DatabaseLimits(connect_timeout_s=2, statement_timeout_s=2.0, answer_grace_s=1.0, retry_after_s=1.0)


def _until(what: str, check: Callable[[], bool]) -> None:
    deadline = time.monotonic() + WAIT_S
    while not check():
        assert time.monotonic() < deadline, f"not reached within {WAIT_S} s: {what}"
        time.sleep(0.1)


def _row(engine: Engine, iid: int) -> tuple[Inspection, dict[str, InspectionStep]]:
    with Session(engine) as s:
        insp = s.get(Inspection, iid)
        assert insp is not None
        steps = s.exec(select(InspectionStep).where(InspectionStep.inspection_id == iid)).all()
        return insp, {st.key: st for st in steps}


@pytest.mark.parametrize("fault", [Mode.DROP, Mode.HANG])
def test_database_lost_mid_inspection_ends_interrupted_and_a_new_inspection_starts(
    proxied_postgres: ProxiedPostgres, tmp_path: Path, fault: Mode
) -> None:
    """The database drops (or hangs) while the turntable photographs the back of a phone. The
    step's result cannot be saved and neither can "interrupted": the station keeps that write and,
    once the database is back, records the inspection interrupted at that step (resumable, no SQL
    in the reason); the station is not left busy, so a new inspection starts."""
    direct = make_engine(proxied_postgres.direct_url)  # the test's own view, around the proxy
    engine = make_engine(proxied_postgres.url, LIMITS)
    sim = SimulatedStation(scale_settle_s=0.1).start()
    sim.rig.deg_per_s = 45.0  # the back photo's half turn takes 4 s: time to pull the database
    st = start_station(engine, proxied_postgres.url, tmp_path, sim=sim)
    try:
        events = st.events()
        with st.client() as c:
            r = c.post("/api/station/inspections", json={"kind": "phone"})
            assert r.status_code == 201, r.text
            iid = r.json()["id"]
        events.wait_for(lambda e: e["type"] == "step.started" and e["step"] == "photo_back")
        proxied_postgres.proxy.set_mode(fault)

        station = st.running.station
        assert station is not None
        _until("the interruption is kept for later", lambda: iid in station.recorder.pending())
        insp, _ = _row(direct, iid)
        assert insp.status == "running"  # nothing reached the database yet

        proxied_postgres.proxy.set_mode(Mode.PASS)
        _until("the interruption is recorded", lambda: _row(direct, iid)[0].status == "interrupted")
        insp, steps = _row(direct, iid)
        assert insp.error is not None
        assert "database" in insp.error and "Photo of the back" in insp.error and "resume" in insp.error
        assert "select" not in insp.error.lower() and "psycopg" not in insp.error
        assert steps["photo_back"].status == "error"
        assert steps["photo_screen"].status == "passed"
        assert station.recorder.pending() == []
        events.wait_for(lambda e: e["type"] == "inspection.interrupted" and e["inspection_id"] == iid)

        with st.client() as c:
            r = c.post("/api/station/inspections", json={"kind": "phone"})
            assert r.status_code == 201, r.text
            assert c.post(f"/api/station/inspections/{r.json()['id']}/abort").status_code == 200
    finally:
        stop_station(st)
        sim.stop()
        engine.dispose()
        direct.dispose()


def test_serve_on_a_hanging_database_exits_with_a_clear_message(
    proxied_postgres: ProxiedPostgres, tmp_path: Path
) -> None:
    """`inspector serve` whose PostgreSQL accepts connections but never answers exits 1 within its
    connect timeout, saying which database did not answer and what to check; no traceback, no SQL."""
    proxied_postgres.proxy.set_mode(Mode.HANG)
    env = {**os.environ, "INSPECTOR_DB_CONNECT_TIMEOUT_S": "2"}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "inspector",
            "serve",
            "--simulate",
            "--data-dir",
            str(tmp_path / "data"),
            "--database-url",
            proxied_postgres.url,
            "--port",
            str(free_port()),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=WAIT_S,
    )
    assert proc.returncode == 1, proc.stderr
    port = proxied_postgres.proxy.port
    assert proc.stderr.strip() == (
        f"inspector: error: could not start the station: the postgresql database at 127.0.0.1:{port} "
        "did not answer within 2 s; check that it is running and reachable, then try again"
    )


def test_healthz_answers_on_sqlite_too(engine: Engine, database_url: str, tmp_path: Path) -> None:
    """/healthz answers on both databases without a query (SQLite: state unknown, no gate)."""
    st = start_station(engine, database_url, tmp_path)
    try:
        body = httpx.get(f"{st.base}/healthz", timeout=30).json()
        assert body["status"] == "ok"
        assert body["database"] in ("up", "unknown")
    finally:
        stop_station(st)
        st.sim.stop()
