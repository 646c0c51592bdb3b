"""Wall time of full simulated inspections, split by step, and inspections per hour per station.

Runs the real station (SQLite, simulated rig/balance on ptys at the rig's real turntable speed,
simulated ADB phone, rendered camera, grader and certificates when installed) through the HTTP
API. Operator checks are answered the moment they are asked, so the figures are the machine's
share of an inspection; a person adds their own seconds per check.

    .venv/bin/python bench/inspection.py [--runs 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.auto_operator import answer  # noqa: E402
from inspector.auth import Role, create_user, issue_token  # noqa: E402
from inspector.config import Settings  # noqa: E402
from inspector.db import session_scope  # noqa: E402
from inspector.station.runtime import RunningStation, free_port  # noqa: E402


def run_one(client: httpx.Client, station: Any, kind: str) -> dict[str, Any]:
    done = threading.Event()
    marks: dict[str, float] = {}

    def listen(ev: dict[str, Any]) -> None:
        if ev["type"] == "step.waiting" and "first_wait" not in marks:
            marks["first_wait"] = time.perf_counter()
        if ev["type"] in ("inspection.completed", "inspection.interrupted", "inspection.aborted"):
            marks["end"] = time.perf_counter()
            done.set()

    station.bus.add_listener(listen)
    t0 = time.perf_counter()
    iid = client.post("/api/station/inspections", json={"kind": kind}).json()["id"]
    operator_s = 0.0
    while not done.wait(0.01):
        view = client.get(f"/api/station/inspections/{iid}").json()
        waiting = [s for s in view["steps"] if s["status"] == "waiting"]
        if view["status"] == "waiting_operator" and waiting:
            a = time.perf_counter()
            key = waiting[0]["key"]
            r = client.post(f"/api/station/inspections/{iid}/steps/{key}/answer", json=answer(waiting[0]))
            if r.status_code == 422:
                raise SystemExit(
                    f"{kind} inspection {iid}: the station refused the answer to {key!r}: {r.text}"
                )
            operator_s += time.perf_counter() - a
    station.bus.remove_listener(listen)
    view = client.get(f"/api/station/inspections/{iid}").json()
    if view["status"] != "completed":
        raise SystemExit(f"{kind} inspection {iid} ended {view['status']}: {view['error']}")
    steps = {s["key"]: (s["duration_ms"] or 0) / 1000 for s in view["steps"]}
    auto = sum(d for s, d in zip(view["steps"], steps.values(), strict=True) if not s["operator"])
    return {
        "wall": marks["end"] - t0,
        "automatic_steps": auto,
        "steps": steps,
        "grade": view["grade"],
        "cert": view["certificate_id"],
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=3, help="inspections of each kind (default 3)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        settings = Settings(data_dir=Path(tmp), port=port, public_base_url=f"http://127.0.0.1:{port}")
        running = RunningStation(settings, port=port).start()
        try:
            assert running.hardware is not None and running.station is not None
            for name, why in running.hardware.missing.items():
                print(f"note: {name} unavailable: {why}")
            with session_scope(running.engine) as s:
                token = issue_token(s, create_user(s, "bench", Role.operator, "bench-pw"), name="bench")
            sim = running.hardware.simulation
            results: dict[str, list[dict[str, Any]]] = {"phone": [], "jewelry": []}
            with httpx.Client(
                base_url=running.base_url, headers={"Authorization": f"Bearer {token}"}, timeout=60
            ) as client:
                for i in range(args.runs):
                    sim.put_phone(seed=i, defects=("scratch",) if i % 2 else ())
                    results["phone"].append(run_one(client, running.station, "phone"))
                    sim.put_jewelry(mg=3_000 + 111 * i, seed=i)
                    results["jewelry"].append(run_one(client, running.station, "jewelry"))
        finally:
            running.stop()

    print(f"\n{args.runs} run(s) of each kind; operator checks answered instantly\n")
    for kind, runs in results.items():
        print(
            f"{kind}: wall {statistics.median(r['wall'] for r in runs):.2f} s median "
            f"(min {min(r['wall'] for r in runs):.2f}, max {max(r['wall'] for r in runs):.2f}); "
            f"automatic steps {statistics.median(r['automatic_steps'] for r in runs):.2f} s; "
            f"grade {runs[-1]['grade'] or 'not graded'}"
        )
        for key in runs[0]["steps"]:
            med = statistics.median(r["steps"][key] for r in runs)
            print(f"    {key:<15} {med * 1000:8.0f} ms")
    per_pair = statistics.median(r["wall"] for r in results["phone"]) + statistics.median(
        r["wall"] for r in results["jewelry"]
    )
    for kind, runs in results.items():
        print(
            f"{kind}: {3600 / statistics.median(r['wall'] for r in runs):.0f} inspections/hour back to back"
        )
    print(f"mixed (one phone + one jewelry): {2 * 3600 / per_pair:.0f} inspections/hour")
    phone_auto = statistics.median(r["automatic_steps"] for r in results["phone"])
    print(
        f"target: phone without operator checks < 15 s -> {phone_auto:.2f} s "
        f"({'met' if phone_auto < 15 else 'NOT met'})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
