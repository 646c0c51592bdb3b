"""The demo's platform: ``inspector serve --role platform`` in a child process on this machine.

SQLite under the demo's data directory (a fresh machine has no PostgreSQL), and the demo station
enrolled with it on the first run, with a one-time code the demo makes and uses itself, as an
admin and a station operator would. A later run starts the same platform on the same address:
that address is signed into every certificate the station issued for it.
"""

from __future__ import annotations

import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from sqlalchemy.engine import Engine
from sqlmodel import Session

from inspector.cli import CommandError
from inspector.config import Settings
from inspector.db import make_engine, open_database, session_scope
from inspector.platform.enrolment import make_code
from inspector.sync.enrolment import EnrolmentFailed, current_enrolment, enrol

START_TIMEOUT_S = 90.0
LOG_FILE = "platform.log"
# The child's address and database come from its command line, never from this shell's settings.
NOT_INHERITED = ("INSPECTOR_PUBLIC_BASE_URL", "INSPECTOR_DATABASE_URL", "DATABASE_URL", "INSPECTOR_ROLE")
PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def dies_with_this_process() -> Callable[[], None] | None:
    """A ``preexec_fn`` that has Linux send the child SIGTERM when this process dies, however.

    Without it a demo killed with SIGKILL leaves its platform running and holding the port that
    the next run must use. The kernel signals the child when the thread that started it ends, so
    start children from the main thread. None where there is no ``prctl`` (not Linux).
    """
    if not sys.platform.startswith("linux"):
        return None
    libc = ctypes.CDLL(None, use_errno=True)  # loaded here: the child only calls into it
    parent = os.getpid()

    def arm() -> None:
        if libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
        if os.getppid() != parent:  # the parent died before the line above: nobody will signal
            os.kill(os.getpid(), signal.SIGTERM)

    return arm


def port_free(host: str, port: int) -> bool:
    """Can a server listen there? (As servers do, regardless of connections closing on it.)"""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def enrolled_platform(station: Settings) -> str | None:
    """The platform this station's data directory is enrolled with, if any."""
    engine = open_database(station)
    try:
        with Session(engine) as session:
            enrolment = current_enrolment(session, station.station_id)
            return enrolment.platform_url if enrolment is not None else None
    finally:
        engine.dispose()


def choose_port(host: str, station_port: int, enrolled_url: str | None) -> int:
    """The port of an earlier run's platform, else the one after the station's (or any free one)."""
    if enrolled_url is not None:
        port = urlsplit(enrolled_url).port
        if port is None:
            raise CommandError(f"the demo station is enrolled with {enrolled_url}, which names no port")
        if not port_free(host, port):
            raise CommandError(
                f"port {port} is busy, and the demo platform must run there: its address {enrolled_url} "
                "is signed into the certificates it holds. Stop what uses the port, or start afresh "
                "with another --data-dir"
            )
        return port
    wanted = station_port + 1
    if 0 < wanted < 65536 and port_free(host, wanted):
        return wanted
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


class DemoPlatform:
    """The platform process; ``start()`` returns once it answers, ``stop()`` ends it."""

    def __init__(self, data_dir: Path, host: str, port: int) -> None:
        self.data_dir = data_dir
        self.host, self.port = host, port
        self.database_url = f"sqlite:///{data_dir / 'inspector.db'}"
        self.log = data_dir / LOG_FILE
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> DemoPlatform:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        env = {k: v for k, v in os.environ.items() if k not in NOT_INHERITED}
        args = [
            *("serve", "--role", "platform", "--data-dir", str(self.data_dir)),
            *("--database-url", self.database_url, "--host", self.host, "--port", str(self.port)),
        ]
        where = ("--data-dir", str(self.data_dir), "--database-url", self.database_url)
        made = subprocess.run(  # the issuer's root key: an explicit step, as on a real platform
            [sys.executable, "-m", "inspector", "keys", "init", "--role", "platform", *where],
            env=env,
            capture_output=True,
            text=True,
            timeout=START_TIMEOUT_S,
        )
        if made.returncode != 0:
            raise CommandError(f"could not make the demo platform's keys:\n{made.stderr or made.stdout}")
        with self.log.open("ab") as out:
            self._proc = subprocess.Popen(
                [sys.executable, "-m", "inspector", *args],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                preexec_fn=dies_with_this_process(),
            )
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise CommandError(f"the demo platform exited with {self._proc.returncode}:\n{self._tail()}")
            try:
                if httpx.get(f"{self.base_url}/healthz", timeout=2.0).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.stop()
        raise CommandError(
            f"the demo platform did not answer within {START_TIMEOUT_S:.0f} s:\n{self._tail()}"
        )

    def engine(self) -> Engine:
        """The platform's own database (migrated by the platform when it started)."""
        return make_engine(self.database_url)

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=15)

    def _tail(self, chars: int = 2000) -> str:
        return self.log.read_text(errors="replace")[-chars:] if self.log.exists() else "(no output)"


def enrol_station(station: Settings, platform: DemoPlatform) -> None:
    """Enrol the demo station: the admin's one-time code, then the station's enrolment with it."""
    engine = platform.engine()
    try:
        with session_scope(engine) as session:
            code = make_code(session, station.station_id).code
    finally:
        engine.dispose()
    station_engine = open_database(station)
    try:
        enrol(station_engine, station, platform.base_url, code)
    except EnrolmentFailed as exc:
        raise CommandError(f"could not enrol the demo station with the demo platform: {exc}") from exc
    finally:
        station_engine.dispose()
