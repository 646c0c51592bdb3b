"""The platform's event stream with two worker processes on PostgreSQL: what one worker publishes
reaches viewers on the other, a viewer resumes with Last-Event-ID, and a worker whose listening
connection is killed hears events again."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from browser import free_port
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sync_processes import ServeProcess, enrol_in_process, platform_process, user_auth, wait_until

from inspector.auth import Role
from inspector.db import make_engine
from inspector.eventbus.feeds import LISTENER_NAME
from inspector.platform.live import WORKER_HEADER

EVENTS_PATH = "/api/platform/events"
GUARD_S = 60.0  # a failure guard: events arrive long before


class SseReader:
    """One SSE connection read in a thread; each parsed event lands in ``events``."""

    def __init__(self, base: str, headers: dict[str, str]) -> None:
        self.events: queue.Queue[dict[str, Any]] = queue.Queue()
        self._client = httpx.Client(base_url=base, headers=headers, timeout=httpx.Timeout(30, read=None))
        self._cm = self._client.stream("GET", EVENTS_PATH)
        self.response = self._cm.__enter__()
        assert self.response.status_code == 200, self.response.read()
        self.worker = self.response.headers[WORKER_HEADER]
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        fields: dict[str, str] = {}
        try:
            for line in self.response.iter_lines():
                if line == "":
                    if "data" in fields:
                        self.events.put(fields)
                    fields = {}
                elif not line.startswith(":"):
                    name, _, value = line.partition(":")
                    fields[name] = value.removeprefix(" ")
        except httpx.HTTPError:
            pass  # closed by the test

    def next_of(self, event_type: str) -> dict[str, Any]:
        """The next event of ``event_type`` (others are skipped); fails after the guard time."""
        while True:
            try:
                fields = self.events.get(timeout=GUARD_S)
            except queue.Empty:
                raise AssertionError(f"no {event_type} event reached the viewer") from None
            if fields.get("event") == event_type:
                return fields

    def join(self) -> None:
        """Wait until the server ended the stream; fails after the guard time."""
        self._thread.join(GUARD_S)
        assert not self._thread.is_alive(), "the stream was still open"

    def close(self) -> None:
        self._client.close()


@pytest.fixture(scope="module")
def platform2(platform_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    """``inspector serve --role platform --workers 2`` on PostgreSQL."""
    data = tmp_path_factory.mktemp("platform2") / "data"
    proc = platform_process(data, platform_url, free_port(), workers=2).start()
    try:
        yield proc
    finally:
        proc.stop()


@pytest.fixture(scope="module")
def db(platform2: ServeProcess, platform_url: str) -> Iterator[Engine]:
    engine = make_engine(platform_url)
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def staff(db: Engine) -> dict[str, str]:
    return user_auth(db, "events-staff", Role.staff)


def _one_viewer_per_worker(base: str, staff: dict[str, str]) -> list[SseReader]:
    """Open streams until two different worker processes answer; close the extra ones."""
    by_worker: dict[str, SseReader] = {}
    extra: list[SseReader] = []
    for _ in range(60):
        reader = SseReader(base, staff)
        if reader.worker in by_worker:
            extra.append(reader)
        else:
            by_worker[reader.worker] = reader
        if len(by_worker) == 2:
            break
    for reader in extra:
        reader.close()
    assert len(by_worker) == 2, "every stream was served by the same worker process"
    return list(by_worker.values())


def _enrol(platform2: ServeProcess, db: Engine, tmp_path: Path, station_id: str) -> None:
    """A real enrolment over HTTP: one worker handles it and publishes station.enrolled."""
    enrol_in_process(platform2, db, tmp_path / station_id, station_id).dispose()


def test_an_event_from_one_worker_reaches_viewers_on_both(
    platform2: ServeProcess, db: Engine, staff: dict[str, str], tmp_path: Path
) -> None:
    """A station enrolled through whichever worker took the request shows up on the streams of
    both workers, so a viewer sees it wherever the load balancer put them."""
    viewers = _one_viewer_per_worker(platform2.base, staff)
    try:
        _enrol(platform2, db, tmp_path, "ev-both")
        for viewer in viewers:
            assert '"station_id": "ev-both"' in viewer.next_of("station.enrolled")["data"]
    finally:
        for viewer in viewers:
            viewer.close()


def test_a_viewer_who_reconnects_with_last_event_id_misses_nothing(
    platform2: ServeProcess, db: Engine, staff: dict[str, str], tmp_path: Path
) -> None:
    """After a dropped connection, the stream resumes after the last event seen: what happened
    meanwhile comes first, in order, whichever worker answers the reconnection."""
    viewer = SseReader(platform2.base, staff)
    _enrol(platform2, db, tmp_path, "ev-seen")
    seen = viewer.next_of("station.enrolled")
    viewer.close()
    _enrol(platform2, db, tmp_path, "ev-missed-1")
    _enrol(platform2, db, tmp_path, "ev-missed-2")
    again = SseReader(platform2.base, {**staff, "Last-Event-ID": seen["id"]})
    try:
        first, second = again.next_of("station.enrolled"), again.next_of("station.enrolled")
        assert '"ev-missed-1"' in first["data"] and '"ev-missed-2"' in second["data"]
        assert int(seen["id"]) < int(first["id"]) < int(second["id"])
    finally:
        again.close()


def test_a_worker_hears_events_again_after_its_listening_connection_is_killed(
    platform2: ServeProcess, db: Engine, staff: dict[str, str], tmp_path: Path
) -> None:
    """The database ends both workers' listening connections; each reconnects by itself and its
    viewers, still connected, receive the next event (and any published meanwhile)."""

    def listeners() -> list[int]:
        with db.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT pid FROM pg_stat_activity"
                    " WHERE application_name = :name AND datname = current_database()"
                ),
                {"name": LISTENER_NAME},
            )
            return [int(r[0]) for r in rows]

    before = wait_until("both workers listening", lambda: len(found := listeners()) == 2 and found)
    viewers = _one_viewer_per_worker(platform2.base, staff)
    try:
        with db.connect() as conn:
            for pid in before:
                conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        _enrol(platform2, db, tmp_path, "ev-after-kill")
        for viewer in viewers:
            assert '"ev-after-kill"' in viewer.next_of("station.enrolled")["data"]
        wait_until(
            "both workers listening again",
            lambda: len(now := listeners()) == 2 and not set(now) & set(before),
        )
        _enrol(platform2, db, tmp_path, "ev-relistened")
        for viewer in viewers:
            assert '"ev-relistened"' in viewer.next_of("station.enrolled")["data"]
    finally:
        for viewer in viewers:
            viewer.close()


def test_the_stream_is_for_signed_in_staff(platform2: ServeProcess, db: Engine) -> None:
    """Anonymous viewers and station operators are refused; nothing about the platform leaks."""
    assert httpx.get(platform2.base + EVENTS_PATH, timeout=10).status_code == 401
    operator = user_auth(db, "events-operator", Role.operator)
    refused = httpx.get(platform2.base + EVENTS_PATH, headers=operator, timeout=10)
    assert refused.status_code == 403 and WORKER_HEADER not in refused.headers


def test_open_streams_end_when_the_platform_stops(platform2: ServeProcess, staff: dict[str, str]) -> None:
    """Stopping the platform ends every open stream (the browser reconnects elsewhere) instead of
    the workers waiting for viewers who never leave; it serves streams again once started."""
    viewers = _one_viewer_per_worker(platform2.base, staff)
    try:
        platform2.stop()
        assert platform2.proc is not None and platform2.proc.returncode is not None
        for viewer in viewers:
            viewer.join()
    finally:
        for viewer in viewers:
            viewer.close()
        platform2.start()
    SseReader(platform2.base, staff).close()


def test_many_open_streams_leave_the_database_to_other_requests(
    platform2: ServeProcess, db: Engine, staff: dict[str, str], tmp_path: Path
) -> None:
    """More staff watching than a worker has database connections (5 + 5) is fine: a stream
    holds none, so enrolments and pages still get theirs, and every viewer hears the news."""
    viewers = [SseReader(platform2.base, staff) for _ in range(25)]
    try:
        _enrol(platform2, db, tmp_path, "ev-crowd")
        for viewer in viewers:
            assert '"ev-crowd"' in viewer.next_of("station.enrolled")["data"]
    finally:
        for viewer in viewers:
            viewer.close()
