"""Phone probe speed against the simulated phone, over both transports.

Figures: one shell command round trip, a full probe (every command the inspection sends), and
bulk output throughput (8 MB through ``cat``). The adb-server half runs only when ``adb`` is
installed; it starts a private server on a free port with a throwaway HOME and kills it after.

    .venv/bin/python bench/adb_probe.py
"""

from __future__ import annotations

import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from devices.phone import AdbServerTransport, AdbTcpTransport, AdbTransport, PhoneSimulator, adb_connect
from devices.phone.probe import probe_phone

BULK = 8 * 1024 * 1024


def timed(fn: Callable[[], object], n: int) -> list[float]:
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def report(name: str, t: AdbTransport) -> None:
    echo = timed(lambda: t.run("echo x"), 200)
    probe = timed(lambda: probe_phone(t), 20)
    bulk = timed(lambda: t.shell("cat /sdcard/bulk.bin", timeout=60), 3)
    print(
        f"{name:<22} command round trip median {statistics.median(echo) * 1000:6.2f} ms"
        f" (p95 {sorted(echo)[int(len(echo) * 0.95)] * 1000:6.2f} ms)"
        f" | full probe median {statistics.median(probe) * 1000:6.1f} ms"
        f" | bulk {BULK / statistics.median(bulk) / 1e6:6.1f} MB/s"
    )


def main() -> int:
    sim = PhoneSimulator("galaxy-s21")
    sim.profile.files["/sdcard/bulk.bin"] = "a" * (BULK - 1) + "\n"
    sim.start()
    try:
        report("direct TCP (adb-shell)", AdbTcpTransport(sim.host, sim.port, timeout=30))
        if shutil.which("adb") is None:
            print("adb not installed: adb-server transport skipped")
            return 0
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        home = tempfile.mkdtemp(prefix="adb-bench-")
        env = {**os.environ, "HOME": home}
        subprocess.run(
            ["adb", "-P", str(port), "start-server"], env=env, check=True, capture_output=True, timeout=30
        )
        try:
            adb_connect(sim.address, port=port)
            report("adb server (adbutils)", AdbServerTransport(sim.address, port=port, timeout=30))
        finally:
            subprocess.run(["adb", "-P", str(port), "kill-server"], env=env, capture_output=True, timeout=30)
            shutil.rmtree(home, ignore_errors=True)
    finally:
        sim.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
