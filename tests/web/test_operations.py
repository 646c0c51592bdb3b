"""What a service manager, a load balancer and Prometheus ask the station: /readyz and /metrics."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text
from sqlalchemy.engine import Engine

from inspector.auth import Role, create_user, issue_token
from inspector.certificates.keys import keys_dir, station_signing_key
from inspector.config import Settings
from inspector.db import session_scope
from inspector.station.ports import StationHardware
from inspector.station.service import StationService
from inspector.station.tables import Inspection, InspectionStep
from inspector.web.app import create_app

LOCAL = ("127.0.0.1", 50000)
REMOTE = ("203.0.113.9", 50000)


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(data_dir=tmp_path / "data", database_url=database_url)


def _client(settings: Settings, engine: Engine, client: tuple[str, int] = LOCAL, **hw: object) -> TestClient:
    app = create_app(settings, engine=engine)
    app.state.station = StationService(engine, settings, StationHardware(**hw))  # type: ignore[arg-type]
    return TestClient(app, client=client)


def _samples(body: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(body):
        for s in family.samples:
            found[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return found


def test_a_fresh_station_is_ready_and_says_what_it_checked(settings: Settings, engine: Engine) -> None:
    with _client(settings, engine) as c:
        r = c.get("/readyz")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["ready"] is True
    assert {ch["name"]: ch["state"] for ch in body["checks"]} == {
        "database": "ok",
        "hardware": "ok",
        "migrations": "ok",
        "signing_keys": "ok",
    }


def test_not_ready_names_the_missing_hardware_the_old_schema_and_the_lost_key(
    settings: Settings, engine: Engine
) -> None:
    """Each failed check says what is wrong in words an operator can act on, and the answer is 503
    so a load balancer takes the process out of rotation."""
    with session_scope(engine) as s:
        fingerprint = station_signing_key(s, settings, settings.station_id)[0].fingerprint
    (keys_dir(settings) / f"station-{fingerprint}.pem").unlink()
    with engine.begin() as conn:
        conn.execute(
            text(
                "delete from alembic_version"
                " where version_num = (select min(version_num) from alembic_version)"
            )
        )
    with _client(settings, engine, missing={"scale": "no balance on /dev/ttyUSB1"}) as c:
        r = c.get("/readyz")
    assert r.status_code == 503
    checks = {ch["name"]: ch for ch in r.json()["checks"]}
    assert checks["hardware"]["state"] == "failed" and "/dev/ttyUSB1" in checks["hardware"]["detail"]
    assert (
        checks["migrations"]["state"] == "failed" and "inspector db upgrade" in checks["migrations"]["detail"]
    )
    assert checks["signing_keys"]["state"] == "failed"
    assert "not in the data directory" in checks["signing_keys"]["detail"]


def test_a_schema_from_a_newer_version_is_named_not_ready(settings: Settings, engine: Engine) -> None:
    """A database a newer version migrated (a revision this code does not know) is not ready, and
    the check says so instead of failing the request."""
    with engine.begin() as conn:
        conn.execute(
            text("update alembic_version set version_num = 'station_0099' where version_num like 'station%'")
        )
    with _client(settings, engine) as c:
        r = c.get("/readyz")
    assert r.status_code == 503
    checks = {ch["name"]: ch for ch in r.json()["checks"]}
    assert checks["migrations"]["state"] == "failed" and "does not know" in checks["migrations"]["detail"]


def test_metrics_count_requests_by_route_and_read_the_database(settings: Settings, engine: Engine) -> None:
    """Prometheus sees requests by route template (not per id), this station's inspections by
    state with step durations, and open claims; the figures come from the database."""
    now = datetime.now(UTC)
    with session_scope(engine) as s:
        insp = Inspection(
            item_kind="phone",
            status="completed",
            station_id=settings.station_id,
            operator="o",
            started_by="api",
            flow=[],
        )
        other = Inspection(
            item_kind="phone",
            status="running",
            station_id="station-2",
            operator="o",
            started_by="api",
            flow=[],
        )
        s.add(insp)
        s.add(other)
        s.flush()
        assert insp.id is not None
        s.add(
            InspectionStep(
                inspection_id=insp.id,
                position=0,
                key="weigh",
                label="Weigh",
                action="scale.weigh",
                status="passed",
                duration_ms=1500,
                started_at=now,
                finished_at=now,
            )
        )
    with _client(settings, engine) as c:
        assert c.get("/c/NOSUCHCERT").status_code == 404
        assert c.get("/c/ALSONOTHERE").status_code == 404
        r = c.get("/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    samples = _samples(r.text)
    assert (
        samples[
            (
                "inspector_http_requests_total",
                (("method", "GET"), ("route", "/c/{ref}"), ("status", "404")),
            )
        ]
        == 2
    )
    assert samples[("inspector_inspections", (("state", "completed"),))] == 1
    assert samples[("inspector_inspections", (("state", "running"),))] == 0  # station-2's is not ours
    assert samples[("inspector_step_duration_seconds_sum", (("step", "weigh"),))] == 1.5
    assert samples[("inspector_claims_open", ())] == 0
    assert samples[("inspector_database_up", ())] == 1


def test_metrics_are_for_this_machine_or_a_supervisor(settings: Settings, engine: Engine) -> None:
    with session_scope(engine) as s:
        supervisor = issue_token(
            s, create_user(s, "sup", Role.supervisor, "pw-supervisor-1"), name="prometheus"
        )
        operator = issue_token(s, create_user(s, "op", Role.operator, "pw-operator-1"), name="x")
    with _client(settings, engine, client=REMOTE) as c:
        assert c.get("/metrics").status_code == 403
        assert c.get("/metrics", headers={"Authorization": f"Bearer {operator}"}).status_code == 403
        assert c.get("/metrics", headers={"Authorization": f"Bearer {supervisor}"}).status_code == 200
    with _client(settings, engine) as c:  # local, but relayed by a proxy: a client elsewhere
        assert c.get("/metrics", headers={"X-Forwarded-For": "198.51.100.7"}).status_code == 403
