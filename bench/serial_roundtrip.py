"""Rig command round-trip latency and throughput over a pty at 115200 baud.

    .venv/bin/python bench/serial_roundtrip.py [--n 500]

Targets: the Python simulator paced to the baud rate (a pty itself moves bytes instantly, so the
simulator sleeps 10 bits per byte in each direction to make the figures honest), the same
simulator unpaced (driver + pty overhead alone), and the real firmware in simavr (whose emulated
UART runs at the firmware's 117,647 baud, UBRR=16 with U2X) when avr-gcc and libsimavr-dev are
installed.  Every figure is set against the line-rate limit: bytes on the wire x 10 bits / baud.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from devices.rig import RigDriver, RigSimulator  # noqa: E402
from devices.rig.protocol import MAX_PAYLOAD, OVERHEAD  # noqa: E402

BAUD = 115200
STATUS_WIRE = OVERHEAD + (OVERHEAD + 8)  # 6-byte command + 14-byte reply
ECHO_WIRE = 2 * (OVERHEAD + MAX_PAYLOAD)  # 54 bytes each way


def pct(xs: list[float], q: float) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, int(q * len(s)))]


def measure(rig: RigDriver, n: int) -> dict[str, float]:
    for _ in range(20):  # warm up the RTO estimator
        rig.status()
    lat = []
    for _ in range(n):
        t = time.perf_counter()
        rig.status()
        lat.append(time.perf_counter() - t)
    payload = bytes(range(MAX_PAYLOAD))
    m = max(50, n // 2)
    t = time.perf_counter()
    for _ in range(m):
        rig.echo(payload)
    elapsed = time.perf_counter() - t
    return {
        "p50": statistics.median(lat) * 1e3,
        "p95": pct(lat, 0.95) * 1e3,
        "p99": pct(lat, 0.99) * 1e3,
        "echo_per_s": m / elapsed,
        "payload_Bps": m * MAX_PAYLOAD / elapsed,
        "wire_Bps": m * ECHO_WIRE / 2 / elapsed,  # per direction
        "retransmits": rig.stats["retransmits"],
    }


def with_sim(pace: bool) -> Callable[[int], dict[str, float]]:
    def run(n: int) -> dict[str, float]:
        with RigSimulator(baud=BAUD, pace=pace) as sim, RigDriver(str(sim.link)) as rig:
            return measure(rig, n)

    return run


def with_simavr(n: int) -> dict[str, float]:
    hw = ROOT / "hardware"
    subprocess.run(["make", "-s", "-C", str(hw / "firmware")], check=True, capture_output=True)
    subprocess.run(["make", "-s", "-C", str(hw / "sim")], check=True, capture_output=True)
    with tempfile.TemporaryDirectory() as d:
        link = Path(d) / "rig"
        proc = subprocess.Popen(
            [str(hw / "sim/build/avr_bridge"), str(hw / "firmware/build/rig.elf"), str(link)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert proc.stdout is not None
            while not proc.stdout.readline().startswith("PTY "):
                pass
            with RigDriver(str(link), timeout=3) as rig:
                return measure(rig, n)
        finally:
            assert proc.stdin is not None
            proc.stdin.close()
            proc.wait(10)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=500, help="GET_STATUS round trips per target")
    args = ap.parse_args()

    status_floor = STATUS_WIRE * 10 / BAUD * 1e3
    echo_floor = ECHO_WIRE * 10 / BAUD
    line_Bps = BAUD / 10
    print(f"line rate {BAUD} baud 8N1 = {line_Bps:.0f} B/s per direction")
    print(f"GET_STATUS: {STATUS_WIRE} bytes on the wire -> floor {status_floor:.2f} ms per round trip")
    print(
        f"ECHO {MAX_PAYLOAD} B: {ECHO_WIRE} bytes on the wire -> stop-and-wait ceiling "
        f"{1 / echo_floor:.0f} exchanges/s, {MAX_PAYLOAD / echo_floor:.0f} payload B/s"
    )
    targets: list[tuple[str, Callable[[int], dict[str, float]]]] = [
        ("simulator, paced 115200", with_sim(True)),
        ("simulator, unpaced", with_sim(False)),
    ]
    if shutil.which("avr-gcc") and Path("/usr/include/simavr/sim_avr.h").exists():
        targets.append(("firmware in simavr", with_simavr))
    else:
        print("(simavr target skipped: avr-gcc or libsimavr-dev missing)")
    print()
    print(
        f"{'target':26s} {'p50 ms':>7s} {'p95 ms':>7s} {'p99 ms':>7s} {'p50/floor':>9s} "
        f"{'echo/s':>7s} {'payload B/s':>11s} {'wire B/s':>9s} {'of line':>7s} {'retx':>5s}"
    )
    for name, fn in targets:
        r = fn(args.n)
        print(
            f"{name:26s} {r['p50']:7.2f} {r['p95']:7.2f} {r['p99']:7.2f} {r['p50'] / status_floor:9.2f} "
            f"{r['echo_per_s']:7.0f} {r['payload_Bps']:11.0f} {r['wire_Bps']:9.0f} "
            f"{r['wire_Bps'] / line_Bps:7.0%} {r['retransmits']:5.0f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
