"""A real ``inspector serve --simulate`` process that the campaign can kill -9 and start again."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]


class StationProcess:
    """One station server on a fixed port, data dir and database URL; its output goes to ``log``."""

    def __init__(self, data_dir: Path, database_url: str, port: int, log: Path) -> None:
        self.data_dir = data_dir
        self.database_url = database_url
        self.port = port
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> None:
        """Start the server and wait until it answers; raises RuntimeError with the log's tail."""
        env = {**os.environ, "INSPECTOR_STATION_ID": "station-1", "PYTHONUNBUFFERED": "1"}
        env.pop("DATABASE_URL", None)
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "inspector",
                    "serve",
                    "--simulate",
                    "--data-dir",
                    str(self.data_dir),
                    "--database-url",
                    self.database_url,
                    "--port",
                    str(self.port),
                ],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        self.starts += 1
        if not self.wait_up(timeout):
            self.kill()
            raise RuntimeError(f"inspector serve did not come up within {timeout:.0f} s:\n{self.tail()}")

    def wait_up(self, timeout: float) -> bool:
        """True once the public live view answers 200 (False if the process exits or time runs out)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.alive():
                return False
            try:
                if httpx.get(f"{self.base}/api/station/live", timeout=2.0).status_code == 200:
                    return True
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        return False

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        """SIGKILL, as a power cut or the OOM killer would."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=30)

    def stop(self) -> None:
        """SIGTERM and wait; SIGKILL if it does not stop."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.kill()

    def tail(self, chars: int = 1500) -> str:
        return self.log.read_text(errors="replace")[-chars:] if self.log.exists() else "(no output)"
