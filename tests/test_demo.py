"""The README's first command: a platform and a station enrolled with it, both inspections end to
end on simulated hardware, the certificates verifiable at the platform's address; a second run
reuses both."""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

from inspector.commands.demo.platform_process import port_free

READY = "Ctrl-C stops the demo."
ROOT = Path(__file__).resolve().parents[1]  # run this checkout's code, whatever is installed


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _demo(data: Path, port: int, *extra: str) -> list[str]:
    return [sys.executable, "-m", "inspector", "demo", "--port", str(port), "--data-dir", str(data), *extra]


def _run_until_ready(
    command: list[str], cwd: Path, timeout: float = 240
) -> tuple[subprocess.Popen[str], str]:
    """Start the demo and return once it serves (what it printed so far), or fail with its output."""
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=cwd)
    lines: list[str] = []
    ready = threading.Event()

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)
            if line.startswith(READY):
                ready.set()
        ready.set()  # it ended without serving: the wait below fails with its output

    threading.Thread(target=read, daemon=True).start()
    ready.wait(timeout)
    out = "".join(lines)
    if proc.poll() is not None or READY not in out:
        proc.kill()
        raise AssertionError(f"the demo did not come up:\n{out}")
    return proc, out


def test_demo_inspects_a_phone_and_a_jewel_and_the_platform_verifies_them(tmp_path: Path) -> None:
    """A new user sees every step, two certificates at the platform's address that verify there
    while the demo runs (the station's own links lead there), and the URLs and sign-ins for each
    page. Run again, the demo enrols nothing new and signs for the same platform."""
    port = _free_port()
    proc, out = _run_until_ready(_demo(tmp_path / "var", port), ROOT)
    try:
        assert out.count("=> completed") == 2
        assert "Weight (stable reading)" in out and "Identity: IMEI, model, storage" in out
        assert "enrolled station station-1 with the platform" in out
        certs = re.findall(r"certificate\s+(http://\S+)/c/([0-9A-Z]{10})\s", out)
        assert len(certs) == 2
        platform = certs[0][0]
        assert platform != f"http://127.0.0.1:{port}" and all(base == platform for base, _ in certs)
        for base, human_id in certs:
            verdict = httpx.get(f"{base}/c/{human_id}/verify.json", timeout=30).json()
            assert verdict["verdict"] == "valid" and verdict["transparency"]["ok"], verdict
            moved = httpx.get(f"http://127.0.0.1:{port}/c/{human_id}", timeout=30)
            assert moved.status_code == 303 and moved.headers["location"] == f"{base}/c/{human_id}"
        assert "/auth/login?next=/station/console#token=" in out and "/station/overlay" in out
        assert f"{platform}/staff/claims" in out
        assert re.search(rf"{platform}/claims/new\?cert=[0-9A-Z]{{10}}\s+\(order reference", out)
        for who in ("operator", "staff", "supervisor"):
            assert f"sign in as '{who}' with password" in out
    finally:
        proc.send_signal(signal.SIGTERM)  # as a service manager stops it
        stopped = proc.wait(timeout=60)
    assert stopped == 0
    try:
        httpx.get(f"{platform}/healthz", timeout=5)
        raise AssertionError("the demo's platform outlived the demo")
    except httpx.HTTPError:
        pass

    again = subprocess.run(
        _demo(tmp_path / "var", _free_port(), "--no-wait"),
        capture_output=True,
        text=True,
        timeout=240,
        cwd=ROOT,
    )
    assert again.returncode == 0, again.stdout + again.stderr
    assert "is enrolled with it since an earlier run" in again.stdout
    assert len(re.findall(rf"certificate\s+{platform}/c/[0-9A-Z]{{10}}\s", again.stdout)) == 2
    assert "with password" not in again.stdout  # the accounts of the first run are kept


def test_the_demos_platform_dies_with_the_demo_even_when_it_is_killed(tmp_path: Path) -> None:
    """SIGKILL of the demo (no chance to clean up) still ends its platform child: the platform's
    port is free again for the next run instead of held by an orphan."""
    proc, out = _run_until_ready(_demo(tmp_path / "var", _free_port()), ROOT)
    platform = re.search(r"Starting the platform \(SQLite\) on http://[^:/]+:(\d+)", out)
    assert platform is not None, out
    port = int(platform.group(1))
    assert not port_free("127.0.0.1", port)
    proc.kill()
    proc.wait(timeout=60)
    deadline = time.monotonic() + 60
    while not port_free("127.0.0.1", port) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert port_free("127.0.0.1", port), "the demo's platform outlived the demo killed with SIGKILL"
