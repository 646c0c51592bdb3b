"""Two stations on one database (SQLite and PostgreSQL): each sees and changes only its own
inspections: start-up recovery, the busy check, the list, the live view and single inspections."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from inspector.config import Settings
from inspector.station.flows import flow_for
from inspector.station.ports import StationHardware
from inspector.station.runtime import RunningStation
from inspector.station.service import StationError, StationService
from inspector.station.tables import Inspection, InspectionStep


@pytest.fixture
def two_stations(engine: Engine, tmp_path: Path) -> Iterator[tuple[RunningStation, RunningStation]]:
    """station-1 and station-2 (no devices), each with its own web server, on one database."""
    running = []
    for sid in ("station-1", "station-2"):
        settings = Settings(data_dir=tmp_path / sid, station_id=sid, port=0)
        running.append(RunningStation(settings, engine=engine, hardware=StationHardware(), port=0).start())
    try:
        yield running[0], running[1]
    finally:
        for r in running:
            r.stop()


def _station(running: RunningStation) -> StationService:
    assert running.station is not None
    return running.station


def _insert(engine: Engine, station_id: str, status: str, first_step: str = "pending") -> int:
    """A phone inspection row (with its steps) as a station process would have left it."""
    flow = flow_for("phone")
    with Session(engine) as s:
        insp = Inspection(
            item_kind="phone",
            status=status,
            station_id=station_id,
            operator="op",
            flow=[st.as_dict() for st in flow],
        )
        s.add(insp)
        s.flush()
        assert insp.id is not None
        for pos, st in enumerate(flow):
            s.add(
                InspectionStep(
                    inspection_id=insp.id,
                    position=pos,
                    key=st.key,
                    action=st.action,
                    label=st.label,
                    status=first_step if pos == 0 else "pending",
                )
            )
        s.commit()
        return insp.id


def _status(engine: Engine, iid: int) -> str:
    with Session(engine) as s:
        insp = s.get(Inspection, iid)
        assert insp is not None
        return insp.status


def test_start_up_recovery_interrupts_only_its_own_station(
    engine: Engine, two_stations: tuple[RunningStation, RunningStation]
) -> None:
    """station-2 recovering after a restart leaves station-1's running inspection running;
    station-1's own recovery interrupts it."""
    one, two = (_station(r) for r in two_stations)
    theirs = _insert(engine, "station-1", "running", first_step="running")
    assert two.recover() == []
    assert _status(engine, theirs) == "running"
    assert one.recover() == [theirs]
    assert _status(engine, theirs) == "interrupted"


def test_busy_check_counts_only_its_own_station(
    engine: Engine, two_stations: tuple[RunningStation, RunningStation]
) -> None:
    """An inspection waiting for station-1's operator does not stop station-2 from starting one,
    and station-2's does not stop station-1 from being refused for its own."""
    one, two = (_station(r) for r in two_stations)
    waiting = _insert(engine, "station-1", "waiting_operator")
    started = two.start_inspection("phone", "op2")  # no phone here: it ends interrupted, that is fine
    two.wait_idle(started)
    assert _status(engine, waiting) == "waiting_operator"
    with pytest.raises(StationError, match=f"inspection {waiting} "):
        one.start_inspection("phone", "op1")


def test_list_live_view_and_lookups_show_only_their_own_station(
    engine: Engine, two_stations: tuple[RunningStation, RunningStation]
) -> None:
    """station-1's list, its public live view (the overlay's data, over HTTP) and its lookups by id
    never show station-2's item, even when station-2's is newer and active."""
    r1, _r2 = two_stations
    one = _station(r1)
    own_done = _insert(engine, "station-1", "completed")
    other_active = _insert(engine, "station-2", "running")

    assert [v.id for v in one.list_inspections()] == [own_done]
    live = httpx.get(f"{r1.base_url}/api/station/live", timeout=30).json()["inspection"]
    assert live["id"] == own_done and live["station_id"] == "station-1"
    with pytest.raises(StationError) as caught:
        one.get(other_active)
    assert caught.value.status == 404
    with pytest.raises(StationError):
        one.abort(other_active, "op1")
    assert _status(engine, other_active) == "running"
