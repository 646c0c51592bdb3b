"""A hanging PostgreSQL (through a real TCP proxy) under a real uvicorn server: requests that need
the database get a clear 503 instead of waiting for ever, and pages that need none keep answering."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from faultproxy import Mode
from proxied_postgres import ProxiedPostgres

from inspector.config import Settings
from inspector.db import DatabaseLimits, make_engine
from inspector.dbguard import gate_for
from inspector.station.ports import StationHardware
from inspector.station.runtime import RunningStation
from inspector.web.availability import UNAVAILABLE

CLIENT_TIMEOUT_S = 60.0  # far above every database limit below: a request still open after it hangs
HANGING_REQUESTS = 45  # more than the server's 40 worker threads


@pytest.fixture
def served(
    proxied_postgres: ProxiedPostgres, tmp_path: Path
) -> Iterator[tuple[RunningStation, ProxiedPostgres]]:
    """The station web app (no devices) on a real socket, its database behind the fault proxy."""
    settings = Settings(data_dir=tmp_path / "data", database_url=proxied_postgres.url, port=0, simulate=True)
    limits = DatabaseLimits(
        connect_timeout_s=2,
        statement_timeout_s=1.0,
        answer_grace_s=1.0,
        pool_size=2,
        max_overflow=0,
        pool_timeout_s=1.0,
        retry_after_s=1.0,
    )
    engine = make_engine(proxied_postgres.url, limits)
    running = RunningStation(settings, engine=engine, hardware=StationHardware(), port=0).start()
    try:
        yield running, proxied_postgres
    finally:
        running.stop()
        engine.dispose()


def test_hanging_database_gives_503_while_pages_without_database_answer(
    served: tuple[RunningStation, ProxiedPostgres],
) -> None:
    """45 concurrent requests on a hanging database all end in 503 "database unavailable" (no SQL,
    a Retry-After), the overlay page, its script, its event stream and /healthz answer meanwhile,
    and once the database is back the same route answers 200 again."""
    running, pg = served
    base = running.base_url
    with httpx.Client(base_url=base, timeout=CLIENT_TIMEOUT_S) as c:
        assert c.get("/api/station/live").status_code == 200
        assert c.get("/healthz").json() == {"status": "ok", "database": "up"}

    pg.proxy.set_mode(Mode.HANG)

    def live() -> httpx.Response:
        return httpx.get(f"{base}/api/station/live", timeout=CLIENT_TIMEOUT_S)

    with ThreadPoolExecutor(HANGING_REQUESTS) as pool:
        pending = [pool.submit(live) for _ in range(HANGING_REQUESTS)]
        with httpx.Client(base_url=base, timeout=CLIENT_TIMEOUT_S) as c:
            overlay = c.get("/station/overlay")
            script = c.get("/station/static/overlay.js")
            health = c.get("/healthz")
            with c.stream("GET", "/api/station/events") as stream:
                first = next(stream.iter_lines())
        answers = [f.result() for f in pending]

    assert overlay.status_code == 200 and "<html" in overlay.text.lower()
    assert script.status_code == 200
    assert health.status_code == 200
    assert first.startswith("retry:")  # the live event stream opened
    assert [r.status_code for r in answers] == [503] * HANGING_REQUESTS
    for r in answers:
        assert r.json() == {"detail": UNAVAILABLE}
        assert int(r.headers["retry-after"]) >= 1
    with httpx.Client(base_url=base, timeout=CLIENT_TIMEOUT_S) as c:
        assert c.get("/healthz").json()["database"] == "down"
        page = c.get("/api/station/live", headers={"Accept": "text/html"})  # a browser gets a page
        assert page.status_code == 503 and "Database unavailable" in page.text
        page = c.get("/api/station/live", headers={"Accept": "text/html", "Accept-Language": "zh-CN"})
        assert page.status_code == 503 and "数据库暂时不可用" in page.text  # in the reader's language

    pg.proxy.set_mode(Mode.PASS)
    gate = gate_for(running.engine)
    assert gate is not None
    gate.failed()  # restart the 1 s retry clock now that the server answers again
    with httpx.Client(base_url=base, timeout=CLIENT_TIMEOUT_S) as c:
        statuses = []
        for _ in range(200):  # about 1 s of fast 503s, then the probe reconnects
            r = c.get("/api/station/live")
            statuses.append(r.status_code)
            if r.status_code == 200:
                break
            gate_wait = gate.seconds_until_retry()
            if gate_wait:
                time.sleep(min(gate_wait, 0.2))
        assert statuses[-1] == 200, statuses
        assert set(statuses) <= {200, 503}
        assert c.get("/healthz").json()["database"] == "up"


def test_readiness_fails_fast_and_says_the_database_is_the_problem(
    served: tuple[RunningStation, ProxiedPostgres],
) -> None:
    """A hanging database takes the station out of rotation (503 from /readyz, within the limits)
    while /healthz still says the process is up; the checks that need the database are skipped."""
    running, pg = served
    with httpx.Client(base_url=running.base_url, timeout=CLIENT_TIMEOUT_S) as c:
        assert c.get("/readyz").status_code == 200
        pg.proxy.set_mode(Mode.HANG)
        r = c.get("/readyz")
        assert c.get("/healthz").status_code == 200
    assert r.status_code == 503
    checks = {ch["name"]: ch["state"] for ch in r.json()["checks"]}
    assert checks == {
        "database": "failed",
        "hardware": "ok",
        "migrations": "skipped",
        "signing_keys": "skipped",
    }
