"""A station process killed in the middle of an inspection leaves a clear, resumable record."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from station_helpers import EventCollector, make_user, start_station, stop_station

from inspector.auth import Role
from inspector.station.runtime import free_port
from inspector.station.tables import Inspection, InspectionStep

CHECKS = ["check_buttons", "check_speaker", "check_cameras", "check_touch"]


def _wait_up(base: str, proc: subprocess.Popen[bytes], log: Path, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else "(no output)"
            raise AssertionError(f"inspector serve exited with {proc.returncode}:\n{tail}")
        try:
            if httpx.get(f"{base}/api/station/live", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError("inspector serve did not come up")


def test_kill_mid_step_then_restart_and_resume(engine: Engine, database_url: str, tmp_path: Path) -> None:
    """`inspector serve` is killed (SIGKILL) while the turntable photographs the back of a phone. The
    database shows the finished steps intact and that step 'running'; the restarted service marks the
    inspection interrupted with the step named, and resume finishes it without re-running earlier steps."""
    data = tmp_path / "data"
    log = tmp_path / "serve.log"
    port = free_port()
    token = make_user(engine, "night-op", Role.operator)
    env = {**os.environ, "INSPECTOR_STATION_ID": "station-1"}
    with log.open("wb") as err:  # why it exited, if it does: the failure message shows its tail
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "inspector",
                "serve",
                "--simulate",
                "--data-dir",
                str(data),
                "--database-url",
                database_url,
                "--port",
                str(port),
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_up(base, proc, log)
        events = EventCollector(f"{base}/api/station/events")
        r = httpx.post(
            f"{base}/api/station/inspections",
            json={"kind": "phone"},
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )
        assert r.status_code == 201, r.text
        iid = r.json()["id"]
        events.wait_for(lambda e: e["type"] == "step.started" and e["step"] == "photo_back")
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        events.close()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)

    with Session(engine) as s:
        insp = s.get(Inspection, iid)
        assert insp is not None and insp.status == "running"  # what the crash left behind
        steps = {
            st.key: st for st in s.exec(select(InspectionStep).where(InspectionStep.inspection_id == iid))
        }
        assert steps["photo_back"].status == "running"
        assert steps["photo_screen"].status == "passed" and steps["photo_screen"].result["photos"]

    st = start_station(engine, database_url, tmp_path)  # the service starts again on the same data
    try:
        assert iid in st.running.recovered
        with st.client() as c:
            view = c.get(f"/api/station/inspections/{iid}").json()
            assert view["status"] == "interrupted"
            assert "Photo of the back" in view["error"] and "resume" in view["error"]
            steps = {s["key"]: s for s in view["steps"]}
            assert steps["photo_back"]["status"] == "error"
            assert c.post(f"/api/station/inspections/{iid}/resume").status_code == 200
            st.pass_review(iid)  # the grader may mark something on the rendered phone
            for key in CHECKS:
                deadline = time.monotonic() + 60
                while (now := c.get(f"/api/station/inspections/{iid}").json())[
                    "status"
                ] != "waiting_operator":
                    assert now["status"] == "running", now["error"]
                    assert time.monotonic() < deadline, "resume did not reach the operator checks"
                    time.sleep(0.05)
                assert (
                    c.post(
                        f"/api/station/inspections/{iid}/steps/{key}/answer", json={"passed": True}
                    ).status_code
                    == 200
                )
            view = st.wait_status(iid, "completed")
        steps = {s["key"]: s for s in view["steps"]}
        assert steps["connect"]["attempts"] == 1 and steps["photo_screen"]["attempts"] == 1
        assert steps["photo_back"]["attempts"] == 2 and steps["photo_back"]["status"] == "passed"
        assert view["certificate_id"] and view["error"] is None
        # the photo taken before the crash is still served, by its digest
        sha = steps["photo_screen"]["photos"][0]["sha256"]
        assert httpx.get(f"{st.base}/photos/{sha}", timeout=10).status_code == 200
    finally:
        stop_station(st)
        st.sim.stop()
