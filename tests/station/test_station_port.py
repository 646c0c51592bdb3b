"""The station's web port: taken ports are reported plainly, and port 0 means any free port."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import httpx

from inspector.config import Settings
from inspector.station.runtime import RunningStation


def test_serve_on_a_taken_port_says_so_and_exits(tmp_path: Path) -> None:
    """`inspector serve --port P` while another program listens on P exits 1 with one line naming
    the address and why, not a traceback; its data directory is left as it was (nothing opened)."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        data = tmp_path / "data"
        serve = ["serve", "--simulate", "--data-dir", str(data), "--port", str(port)]
        done = subprocess.run(
            [sys.executable, "-m", "inspector", *serve],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 1, done.stderr
    assert f"cannot listen on 127.0.0.1:{port}" in done.stderr
    assert "in use" in done.stderr
    assert "Traceback" not in done.stderr
    assert not data.exists()


def test_port_zero_listens_on_the_port_it_reports(tmp_path: Path) -> None:
    """A station started without a port picks a free one itself and serves on the port it reports
    (tests and the demo need no guessed port that something else may take first)."""
    settings = Settings(data_dir=tmp_path / "data", simulate=True, port=0)
    running = RunningStation(settings).start()
    try:
        assert running.port > 0
        assert running.base_url.endswith(f":{running.port}")
        assert httpx.get(f"{running.base_url}/api/station/live", timeout=5).status_code == 200
    finally:
        running.stop()
