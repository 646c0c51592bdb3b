"""Run a whole station (database, hardware, pipeline, web server) in one object.

Used by ``inspector serve``/``inspector demo``, the end-to-end tests and the benchmark, so
they all exercise the same wiring: uvicorn on a real socket, the app from ``create_app``,
the station service with its hardware attached to ``app.state.station``.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from typing import Any

import uvicorn
from sqlalchemy.engine import Engine
from sqlmodel import Session

from inspector.config import Settings
from inspector.db import DatabaseLimits, make_engine, migrate
from inspector.public_address import require_public
from inspector.station.hardware import build_hardware
from inspector.station.ports import StationHardware
from inspector.station.service import StationService
from inspector.sync.enrolment import current_enrolment, issuer_base


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


class RunningStation:
    """``start()`` brings everything up (uvicorn in a thread); ``stop()`` takes it down."""

    def __init__(
        self,
        settings: Settings,
        *,
        simulation: Any = None,
        engine: Engine | None = None,
        hardware: StationHardware | None = None,
        port: int | None = None,
    ) -> None:
        self.settings = settings
        self.simulation = simulation
        self._engine = engine
        self._own_engine = engine is None
        self.hardware = hardware
        self.port = port if port is not None else (settings.port or 0)  # 0: any free port, set by start()
        self.station: StationService | None = None
        self.recovered: list[int] = []
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.settings.host}:{self.port}"

    @property
    def engine(self) -> Engine:
        assert self._engine is not None
        return self._engine

    def start(self, timeout: float = 30.0) -> RunningStation:
        from inspector.web.app import create_app

        self._socket = self._listen()
        try:
            self.settings.data_dir.mkdir(parents=True, exist_ok=True)
            url = self.settings.resolved_database_url
            if self._engine is None:
                limits = DatabaseLimits.from_settings(self.settings)
                migrate(url, limits)  # DatabaseUnavailable within seconds when down or hanging
                self._engine = make_engine(url, limits)
            if self.simulation is None and not self.settings.simulate:
                self._require_public_address()
            if self.hardware is None:
                self.hardware = build_hardware(self.settings, simulation=self.simulation)
            self.simulation = self.hardware.simulation
            app = create_app(self.settings, engine=self._engine)
            self.station = StationService(self._engine, self.settings, self.hardware)
            self.recovered = self.station.start()
            app.state.station = self.station
            config = uvicorn.Config(
                app,
                host=self.settings.host,
                port=self.port,
                log_config=None,  # our handlers (inspector.logsetup), not uvicorn's own
                log_level=None,
                access_log=self.settings.access_log,
                timeout_graceful_shutdown=1,
                lifespan="on",
                proxy_headers=True,
                forwarded_allow_ips=self.settings.forwarded_allow_ips,
            )
        except Exception:  # nothing left half-open: the port, the hardware, the engine
            self.stop()
            raise
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, name="station-http", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the web server did not start on {self.base_url}")
            time.sleep(0.02)
        return self

    def _require_public_address(self) -> None:
        """On real hardware, refuse to sign certificates with an address only this computer opens."""
        with Session(self.engine) as session:
            enrolment = current_enrolment(session, self.settings.station_id)
        if enrolment is None:
            require_public(self.settings.public_base_url, "INSPECTOR_PUBLIC_BASE_URL")
        else:  # an enrolled station signs the platform's address
            require_public(
                issuer_base(enrolment),
                "the platform's INSPECTOR_PUBLIC_BASE_URL (then enrol this station again)",
            )

    def _listen(self) -> socket.socket:
        """Bind the web port first, before the simulators take ephemeral ports (one of them could be
        the port asked for) and before hardware is opened for a port that turns out to be taken."""
        host = self.settings.host
        sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, self.port))
        except OSError as exc:
            sock.close()
            raise RuntimeError(f"cannot listen on {host}:{self.port}: {exc.strerror}") from exc
        self.port = int(sock.getsockname()[1])
        return sock

    def stop(self) -> None:
        if self.station is not None:
            self.station.bus.close()
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self.station is not None:
            self.station.shutdown(timeout=10)
        if self.hardware is not None:
            self.hardware.close()
        if self._socket is not None:
            self._socket.close()
        if self._own_engine and self._engine is not None:
            with contextlib.suppress(Exception):
                self._engine.dispose()

    def __enter__(self) -> RunningStation:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
