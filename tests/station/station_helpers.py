"""Helpers: a whole station (simulated devices behind real ptys/ADB, uvicorn on a real socket)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.engine import Engine

from devices.simulated_station import SimulatedStation
from inspector.auth import Role, create_user, issue_token
from inspector.config import Settings
from inspector.db import make_engine, migrate, session_scope
from inspector.station.review import agreeing_answer
from inspector.station.runtime import RunningStation, free_port

WAIT_S = 60.0


def make_user(engine: Engine, name: str, role: Role) -> str:
    with session_scope(engine) as s:
        user = create_user(s, name, role, "pw-" + name)
        token = issue_token(s, user, name="test")
    return token


class EventCollector:
    """Reads the public SSE stream in a thread and keeps every event."""

    def __init__(self, url: str, headers: dict[str, str] | None = None) -> None:
        self.url = url
        self.headers = headers or {}
        self.events: list[dict[str, Any]] = []
        self.hello = threading.Event()
        self._cv = threading.Condition()
        self._stop = False
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        assert self.hello.wait(10), "event stream did not open"

    def _run(self) -> None:
        try:
            self._read()
        except httpx.HTTPError:
            return  # the server went away: the test decides whether that matters

    def _read(self) -> None:
        with (
            httpx.Client(timeout=httpx.Timeout(5.0, read=30.0)) as c,
            c.stream("GET", self.url, headers=self.headers) as r,
        ):
            data: list[str] = []
            for line in r.iter_lines():
                if self._stop:
                    return
                if line.startswith("event: hello"):
                    self.hello.set()
                if line.startswith("data:"):
                    data.append(line[5:].strip())
                elif line == "" and data:
                    ev = json.loads("\n".join(data))
                    data = []
                    if "type" in ev:
                        with self._cv:
                            self.events.append(ev)
                            self._cv.notify_all()

    def wait_for(self, pred: Callable[[dict[str, Any]], bool], timeout: float = WAIT_S) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        with self._cv:
            while True:
                for ev in self.events:
                    if pred(ev):
                        return ev
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = [(e["type"], e.get("step")) for e in self.events]
                    raise AssertionError(f"event not seen within {timeout} s; saw {seen}")
                self._cv.wait(left)

    def close(self) -> None:
        self._stop = True


@dataclass
class Station:
    running: RunningStation
    sim: SimulatedStation
    base: str
    token: str
    engine: Engine
    settings: Settings
    collectors: list[EventCollector] = field(default_factory=list)

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.base, headers=self.auth, timeout=30.0)

    def events(self, query: str = "") -> EventCollector:
        c = EventCollector(f"{self.base}/api/station/events{query}")
        self.collectors.append(c)
        return c

    def start_phone(self, seed: int = 3, defects: tuple[str, ...] = ()) -> int:
        """Put a simulated phone on the station and start its inspection; the inspection's id."""
        self.sim.put_phone(seed=seed, defects=defects)
        with self.client() as c:
            r = c.post("/api/station/inspections", json={"kind": "phone"})
            assert r.status_code == 201, r.text
            return int(r.json()["id"])

    def pass_review(self, iid: int, timeout: float = WAIT_S) -> dict[str, Any]:
        """Wait until the inspection is past its review of the marked defects, confirming every
        finding when the review waits for the operator (the grader marks false defects on renders)."""
        deadline = time.monotonic() + timeout
        with self.client() as c:
            while True:
                view: dict[str, Any] = c.get(f"/api/station/inspections/{iid}").json()
                review = next(s for s in view["steps"] if s["action"] == "operator.review")
                if review["status"] == "waiting":
                    r = c.post(
                        f"/api/station/inspections/{iid}/steps/{review['key']}/answer",
                        json=agreeing_answer(review),
                    )
                    assert r.status_code == 200, r.text
                    return dict(r.json())
                if review["status"] != "pending" or view["status"] in ("interrupted", "aborted", "completed"):
                    return view
                if time.monotonic() > deadline:
                    raise AssertionError(f"inspection {iid} never reached its review: {view['status']}")
                time.sleep(0.05)

    def wait_status(self, iid: int, *statuses: str, timeout: float = WAIT_S) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        with self.client() as c:
            while True:
                view: dict[str, Any] = c.get(f"/api/station/inspections/{iid}").json()
                if view["status"] in statuses:
                    return view
                if time.monotonic() > deadline:
                    raise AssertionError(f"inspection {iid} stayed {view['status']}: {view.get('error')}")
                time.sleep(0.05)


def start_station(
    engine: Engine,
    database_url: str,
    tmp_path: Path,
    *,
    sim: SimulatedStation | None = None,
    port: int | None = None,
) -> Station:
    port = port or free_port()
    settings = Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        port=port,
        public_base_url=f"http://127.0.0.1:{port}",
        simulate=True,
    )
    if sim is None:
        sim = SimulatedStation(scale_settle_s=0.1).start()
        sim.rig.deg_per_s = 720.0  # a fast turntable keeps the suite quick; bench/ uses the real pace
    running = RunningStation(settings, simulation=sim, engine=engine, port=port).start()
    token = make_user(engine, f"op{port}", Role.operator)
    return Station(running, sim, running.base_url, token, engine, settings)


def stop_station(st: Station) -> None:
    for c in st.collectors:
        c.close()
    st.running.stop()


@contextmanager
def running_sqlite_station(folder: Path, name: str = "station.db") -> Iterator[Station]:
    """A running station on its own SQLite database in ``folder`` (tests where the database kind
    does not matter: pages, browser flows); everything is stopped and disposed afterwards."""
    url = f"sqlite:///{folder / name}"
    migrate(url)
    engine = make_engine(url)
    st = start_station(engine, url, folder)
    try:
        yield st
    finally:
        stop_station(st)
        st.sim.stop()
        engine.dispose()
