"""Transparency log: how fast the platform appends certificates as the log grows.

Every certificate a platform receives is a leaf of its issuer's log (RFC 9162): one appender at a
time (a PostgreSQL advisory lock), a signed tree head per append, and each worker keeps the tree in
memory, re-checked against the table on every use. This measures appends per second with several
processes appending at once, at several log sizes (leaves pre-filled in bulk), on a scratch
PostgreSQL database, and the parts of one append that grow with the log.

Run: .venv/bin/python bench/log_append.py [--sizes 0,100000,1000000] [--appends 300] [--processes 2]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing
import os
import queue
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine, func, insert
from sqlmodel import Session, select

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from inspector.certificates.keys import root_key
from inspector.certificates.service import append_to_log
from inspector.certificates.tables import LogLeaf
from inspector.config import Settings
from inspector.db import make_engine, migrate
from tests.scratch_db import scratch_postgres_database

PG_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
BULK = 20_000


def credential(n: int, worker: int) -> dict[str, object]:
    hid = f"B{worker:02d}{n:07d}"[:10]
    return {
        "validFrom": datetime.now(UTC).isoformat(),
        "credentialSubject": {"human_id": hid, "station": {"id": f"station-{worker}"}},
        "proof": {"verificationMethod": "bench#key"},
        "nonce": f"{worker}-{n}-{time.time_ns()}",
    }


def fill(url: str, upto: int) -> None:
    """Pre-fill the log with ``upto`` leaves in bulk (not through the append path)."""
    engine = create_engine(url)
    with Session(engine) as s:
        have = s.exec(select(func.count()).select_from(LogLeaf)).one()
    now = datetime.now(UTC)
    while have < upto:
        rows = [
            {
                "idx": i,
                "human_id": f"F{i:09d}",
                "leaf_hash": hashlib.sha256(i.to_bytes(8, "big")).hexdigest(),
                "entry": json.dumps({"human_id": f"F{i:09d}"}),
                "created_at": now,
            }
            for i in range(have, min(upto, have + BULK))
        ]
        with engine.begin() as conn:
            conn.execute(insert(LogLeaf), rows)
        have += len(rows)
        print(f"\r  filling the log: {have:,} / {upto:,}", end="", flush=True)
    if upto:
        print()
    engine.dispose()


def appender(url: str, data_dir: str, worker: int, count: int, out: multiprocessing.Queue) -> None:
    settings = Settings(data_dir=Path(data_dir), database_url=url)
    engine = make_engine(url)
    times = []
    for n in range(count):
        t0 = time.perf_counter()
        with Session(engine) as s:
            append_to_log(s, settings, credential(n, worker))
            s.commit()
        times.append(time.perf_counter() - t0)
    engine.dispose()
    out.put(times)


def count_ms(url: str) -> float:
    engine = create_engine(url)
    with Session(engine) as s:
        t0 = time.perf_counter()
        for _ in range(5):
            s.exec(select(func.count()).select_from(LogLeaf)).one()
        took = (time.perf_counter() - t0) / 5 * 1000
    engine.dispose()
    return took


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="0,100000,1000000", help="log sizes to measure at (comma-separated)")
    ap.add_argument("--appends", type=int, default=300, help="appends measured at each size")
    ap.add_argument("--processes", type=int, default=2, help="processes appending at once")
    args = ap.parse_args()
    sizes = sorted(int(s) for s in args.sizes.split(","))
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; {args.processes} appenders\n")
    rows = []
    with scratch_postgres_database(PG_URL, "bench_log") as url, tempfile.TemporaryDirectory() as data:
        migrate(url)
        engine = make_engine(url)
        with Session(engine) as s:  # the issuer's root key, as `inspector keys init` makes it
            root_key(s, Settings(data_dir=Path(data), database_url=url), create=True)
            s.commit()
        engine.dispose()
        for size in sizes:
            fill(url, size)
            with Session(create_engine(url)) as s:
                at = s.exec(select(func.count()).select_from(LogLeaf)).one()
            per = max(1, args.appends // args.processes)
            out: multiprocessing.Queue = multiprocessing.Queue()
            procs = [
                multiprocessing.Process(target=appender, args=(url, data, w, per, out))
                for w in range(args.processes)
            ]
            t0 = time.perf_counter()
            for p in procs:
                p.start()
            try:
                times = [t for _ in procs for t in out.get(timeout=600)]
            except queue.Empty:
                raise SystemExit(f"an appender died: exit codes {[p.exitcode for p in procs]}") from None
            for p in procs:
                p.join()
            wall = time.perf_counter() - t0
            times.sort()
            # the first append of each process builds its in-memory tree from the table
            first = max(times)
            rows.append(
                (
                    at,
                    len(times) / wall,
                    statistics.median(times) * 1000,
                    times[int(len(times) * 0.99) - 1] * 1000,
                    first * 1000,
                    count_ms(url),
                )
            )
            print(f"  {at:>9,} leaves: {rows[-1][1]:.0f} appends/s")
    print("\n| log size | appends/s | p50 ms | p99 ms | slowest (builds the tree) ms | count(*) ms |")
    print("|---|---|---|---|---|---|")
    for at, rate, p50, p99, first, cnt in rows:
        print(f"| {at:,} | {rate:.0f} | {p50:.1f} | {p99:.1f} | {first:.0f} | {cnt:.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
