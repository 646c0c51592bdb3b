"""How long the station takes to give up on a PostgreSQL that is down or hangs (default limits).

Through the tests' TCP fault proxy (``tests/faultproxy.py``) in front of a fresh database:

1. ``inspector serve`` started on a hanging and on a dropped database: time until it exits.
2. A station web server (no devices) whose database starts hanging: latency of N concurrent
   requests that need the database (all should be 503), of the overlay page and ``/healthz`` meanwhile,
   and the time from "database back" to the first 200.

Run: .venv/bin/python bench/db_faults.py [--requests 45]   (needs PostgreSQL, TEST_POSTGRES_URL)
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import httpx
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from faultproxy import FaultProxy, Mode
from scratch_db import scratch_postgres_database

from inspector.config import Settings
from inspector.db import DatabaseLimits, make_engine, migrate
from inspector.station.ports import StationHardware
from inspector.station.runtime import RunningStation, free_port

ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@contextmanager
def scratch_database() -> Iterator[str]:
    with scratch_postgres_database(ADMIN_URL, "bench") as url:
        yield url


def serve_exit_s(url: str, data_dir: Path) -> tuple[float, int, str]:
    t0 = time.monotonic()
    proc = subprocess.run(
        [
            *(sys.executable, "-m", "inspector", "serve", "--simulate", "--data-dir", str(data_dir)),
            *("--database-url", url, "--port", str(free_port())),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    return time.monotonic() - t0, proc.returncode, proc.stderr.strip().splitlines()[-1]


def timed_get(url: str) -> tuple[float, int]:
    t0 = time.monotonic()
    r = httpx.get(url, timeout=600)
    return time.monotonic() - t0, r.status_code


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--requests", type=int, default=45, help="concurrent requests on the hanging database")
    args = ap.parse_args()
    limits = DatabaseLimits()
    print(
        f"limits: connect {limits.connect_timeout_s} s, statement {limits.statement_timeout_s:g} s, "
        f"answer deadline {limits.answer_deadline_s:g} s, pool {limits.pool_size}+{limits.max_overflow} "
        f"(wait {limits.pool_timeout_s:g} s), fail fast for {limits.retry_after_s:g} s"
    )
    with scratch_database() as direct, tempfile.TemporaryDirectory() as tmp:
        migrate(direct)
        target = make_url(direct)
        with FaultProxy(target.host or "127.0.0.1", target.port or 5432) as proxy:
            url = target.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
            t0 = time.monotonic()
            subprocess.run([sys.executable, "-m", "inspector", "--version"], capture_output=True, check=True)
            print(f"`inspector --version` (interpreter and imports alone): {time.monotonic() - t0:.2f} s")
            for mode in (Mode.HANG, Mode.DROP):
                proxy.set_mode(mode)
                took, rc, last = serve_exit_s(url, Path(tmp) / f"serve-{mode}")
                print(f"inspector serve, database {mode}: exit {rc} after {took:.2f} s: {last}")
            proxy.set_mode(Mode.PASS)

            settings = Settings(data_dir=Path(tmp) / "web", database_url=url, port=0)
            engine = make_engine(url, limits)
            running = RunningStation(settings, engine=engine, hardware=StationHardware(), port=0).start()
            base = running.base_url
            try:
                assert httpx.get(f"{base}/api/station/live", timeout=30).status_code == 200
                proxy.set_mode(Mode.HANG)
                hang_at = time.monotonic()
                with ThreadPoolExecutor(args.requests) as pool:
                    futures = [
                        pool.submit(timed_get, f"{base}/api/station/live") for _ in range(args.requests)
                    ]
                    time.sleep(0.2)
                    overlay_s, overlay_status = timed_get(f"{base}/station/overlay")
                    health_s, _ = timed_get(f"{base}/healthz")
                    results = [f.result() for f in futures]
                all_done_s = time.monotonic() - hang_at
                lat = sorted(t for t, _ in results)
                codes = {c: sum(1 for _, x in results if x == c) for _, c in results}
                print(
                    f"{args.requests} concurrent /api/station/live on a hanging database: statuses {codes}, "
                    f"latency p50 {statistics.median(lat):.2f} s, max {lat[-1]:.2f} s; all answered "
                    f"{all_done_s:.2f} s after the hang began"
                )
                print(
                    f"meanwhile /station/overlay {overlay_status} in {overlay_s * 1000:.0f} ms, "
                    f"/healthz in {health_s * 1000:.0f} ms"
                )
                fast = sorted(timed_get(f"{base}/api/station/live")[0] for _ in range(20))
                print(f"once the database is known down: 503 in p50 {statistics.median(fast) * 1000:.1f} ms")
                proxy.set_mode(Mode.PASS)
                back_at = time.monotonic()
                while timed_get(f"{base}/api/station/live")[1] != 200:
                    time.sleep(0.05)
                print(f"database back: first 200 after {time.monotonic() - back_at:.2f} s")
            finally:
                running.stop()
                engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
