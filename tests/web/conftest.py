"""Fixtures for the web edge: the whole app over TestClient (real HTTP semantics, in process),
on SQLite and on PostgreSQL, with a user of each role and a signed certificate.

The station runs without devices (``StationHardware()``): these tests are about what the edge
accepts, not about inspections.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from web_edge import Edge

from inspector.auth import Role, create_user, issue_token
from inspector.config import Settings
from inspector.db import session_scope
from inspector.station.ports import StationHardware
from inspector.station.service import StationService
from inspector.web.app import create_app

ROLES = (Role.operator, Role.staff, Role.supervisor)


@pytest.fixture
def edge(tmp_path: Path, database_url: str, engine: Engine) -> Iterator[Edge]:
    settings = Settings(
        data_dir=tmp_path / "data", database_url=database_url, public_base_url="http://testserver"
    )
    tokens: dict[str, str] = {}
    with session_scope(engine) as s:
        for role in ROLES:
            user = create_user(s, f"{role.value}1", role, f"pw-{role.value}-1")
            tokens[role.value] = issue_token(s, user, name="test")
    app = create_app(settings, engine=engine)
    app.state.station = StationService(engine, settings, StationHardware())
    with TestClient(app, raise_server_exceptions=False) as client:
        yield Edge(client, engine, settings, tokens)
