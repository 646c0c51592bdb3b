"""The README's first command: the demo runs both inspections end to end on simulated hardware."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
from pathlib import Path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_demo_inspects_a_phone_and_a_jewel_and_prints_where_to_go(tmp_path: Path) -> None:
    """A new user sees every step, two certificates, and the URLs and sign-ins for each page."""
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "inspector",
            "demo",
            "--no-wait",
            "--port",
            str(_free_port()),
            "--data-dir",
            str(tmp_path / "var"),
        ],
        capture_output=True,
        text=True,
        timeout=240,
        cwd=tmp_path,
    )
    out = proc.stdout
    assert proc.returncode == 0, out + proc.stderr
    assert out.count("=> completed") == 2
    assert "Weight (stable reading)" in out and "Identity: IMEI, model, storage" in out
    certs = re.findall(r"certificate\s+(http://\S+/c/[0-9A-Z]{10})", out)
    assert len(certs) == 2
    assert "/auth/login?next=/station/console#token=" in out and "/station/overlay" in out
    assert "/staff/claims" in out and re.search(r"/claims/new\?cert=[0-9A-Z]{10}\s+\(order reference", out)
    for who in ("operator", "staff", "supervisor"):
        assert f"sign in as '{who}' with password" in out
