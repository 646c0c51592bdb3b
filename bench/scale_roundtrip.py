"""MT-SICS balance round trips over a pty: driver + simulator latency against the line rate.

Run: .venv/bin/python bench/scale_roundtrip.py [--n 200]
"""

from __future__ import annotations

import argparse
import statistics
import time

from devices.scale import MtSicsScale
from devices.scale.simulator import ScaleSimulator


def _pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def run(baud: int | None, n: int, command: str) -> list[float]:
    with ScaleSimulator(baud=baud, settle_s=0.0) as sim:
        sim.place(12_345, settle_s=0)
        with MtSicsScale(sim.path, baudrate=baud or 9600, timeout=1.0) as scale:
            calls = {"SI": scale.immediate_weight, "S": scale.stable_weight, "I4": scale.serial_number}
            call = calls[command]
            call()
            out = []
            for _ in range(n):
                t = time.perf_counter()
                call()
                out.append((time.perf_counter() - t) * 1000)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=200)
    args = ap.parse_args()
    # "SI\r\n" (4 B) + "S S     12.345 g\r\n" (18 B) = 22 bytes of 10 bits
    print("| target | command | p50 ms | p95 ms | p99 ms | floor ms | p50/floor | readings/s |")
    print("|---|---|---|---|---|---|---|---|")
    for baud in (9600, 115200, None):
        for command, wire in (("SI", 22), ("S", 21)):
            ms = run(baud, args.n, command)
            floor = wire * 10 * 1000 / baud if baud else None
            p50 = statistics.median(ms)
            label = f"paced {baud}" if baud else "unpaced"
            fl = f"{floor:.2f}" if floor else "-"
            ratio = f"{p50 / floor:.2f}" if floor else "-"
            p95, p99 = _pct(ms, 0.95), _pct(ms, 0.99)
            print(
                f"| simulator, {label} | {command} | {p50:.2f} | {p95:.2f} | {p99:.2f} "
                f"| {fl} | {ratio} | {1000 / statistics.mean(ms):.0f} |"
            )


if __name__ == "__main__":
    main()
