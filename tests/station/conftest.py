"""Fixtures: a whole station (simulated devices behind real ptys/ADB, uvicorn on a real socket)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from station_helpers import Station, start_station, stop_station


@pytest.fixture
def station(engine: Engine, database_url: str, tmp_path: Path) -> Iterator[Station]:
    """A running station on simulated hardware, on SQLite and on PostgreSQL."""
    st = start_station(engine, database_url, tmp_path)
    try:
        yield st
    finally:
        stop_station(st)
        st.sim.stop()
