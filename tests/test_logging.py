"""`inspector serve` logs at the level and in the format asked for, access log included."""

from __future__ import annotations

import json
import logging
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
from browser import free_port

from inspector.logsetup import JsonFormatter


def test_json_lines_carry_the_level_logger_message_and_traceback() -> None:
    """A log shipper gets one JSON object per line, with non-ASCII text readable and the traceback
    as one field rather than lines that would each become a record."""
    try:
        raise ValueError("秤不稳定")
    except ValueError:
        record = logging.LogRecord(
            "inspector.x", logging.ERROR, __file__, 1, "weigh failed: %s", ("秤",), None
        )
        record.exc_info = sys.exc_info()
    entry = json.loads(JsonFormatter().format(record))
    assert entry["level"] == "error" and entry["logger"] == "inspector.x"
    assert entry["message"] == "weigh failed: 秤"
    assert "ValueError: 秤不稳定" in entry["exception"] and entry["time"].endswith("+00:00")


def test_serve_with_json_logs_and_an_access_log(tmp_path: Path) -> None:
    port = free_port()
    cmd = [sys.executable, "-m", "inspector", "serve", "--simulate", "--data-dir", str(tmp_path / "data")]
    cmd += ["--port", str(port), "--log-format", "json", "--access-log"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200
                break
            except httpx.TransportError:
                assert proc.poll() is None and time.monotonic() < deadline, "serve did not come up"
                time.sleep(0.2)
        assert httpx.get(f"http://127.0.0.1:{port}/c/NOSUCHID", timeout=5).status_code == 404
    finally:
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=30)
    lines = [json.loads(line) for line in stderr.splitlines() if line.strip()]  # every line is JSON
    access = [e for e in lines if e["logger"] == "uvicorn.access"]
    assert any("/c/NOSUCHID" in e["message"] and "404" in e["message"] for e in access)
