"""Behind a reverse proxy every request comes from the proxy's address: per-client limits must count
the client the proxy names, and only when the proxy is one the station was told to trust."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from inspector.auth import Role, create_user
from inspector.auth.signin import PER_CLIENT_AND_USER
from inspector.config import Settings
from inspector.db import make_engine, migrate, session_scope
from inspector.station.ports import StationHardware
from inspector.station.runtime import RunningStation


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[object]:
    started: list[RunningStation] = []

    def start(forwarded_allow_ips: str) -> str:
        url = f"sqlite:///{tmp_path / f'{len(started)}.db'}"
        migrate(url)
        engine = make_engine(url)
        with session_scope(engine) as s:
            create_user(s, "anna", Role.staff, "right-password-1")
        settings = Settings(data_dir=tmp_path, database_url=url, forwarded_allow_ips=forwarded_allow_ips)
        running = RunningStation(settings, engine=engine, hardware=StationHardware(), port=0).start()
        started.append(running)
        return running.base_url

    yield start
    for running in started:
        running.stop()


def _failed_sign_ins(base: str, forwarded_for: str, count: int) -> list[int]:
    with httpx.Client(base_url=base, timeout=30) as c:
        return [
            c.post(
                "/auth/login",
                data={"username": "anna", "password": "wrong", "next": "/"},
                headers={"Origin": base, "X-Forwarded-For": forwarded_for},
            ).status_code
            for _ in range(count)
        ]


def test_a_trusted_proxys_clients_are_limited_one_by_one(serve) -> None:  # type: ignore[no-untyped-def]
    """Through a trusted proxy (loopback, the default), one client locked out leaves the next one free."""
    base = serve("127.0.0.1")
    tries = PER_CLIENT_AND_USER.limit
    assert _failed_sign_ins(base, "203.0.113.1", tries + 1)[-1] == 429
    assert _failed_sign_ins(base, "203.0.113.2", 1) == [401]


def test_an_untrusted_peer_cannot_pick_its_client_address(serve) -> None:  # type: ignore[no-untyped-def]
    """A peer that is not a trusted proxy cannot dodge the limit by sending a new X-Forwarded-For."""
    base = serve("192.0.2.254")
    tries = PER_CLIENT_AND_USER.limit
    assert _failed_sign_ins(base, "203.0.113.1", tries + 1)[-1] == 429
    assert _failed_sign_ins(base, "203.0.113.2", 1) == [429]
