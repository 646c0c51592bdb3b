"""Platform events across two worker processes: PostgreSQL LISTEN/NOTIFY against NATS JetStream.

One process publishes, another subscribes, as two platform workers would. Each event carries
the monotonic clock (system-wide on Linux) read just before its publish call, so latency is
publish start to arrival in the other process, including the publish's own commit or ack.

- latency: ``--events`` events paced at ``--rate`` per second; p50 / p99 / max.
- throughput: ``--burst`` events published back to back (each one its own durable publish: a
  committed transaction, or a JetStream publish awaiting its ack); events/s from the first
  publish to the last arrival.

LISTEN/NOTIFY goes through the product's own code (``publish_in`` in a transaction, one
``PostgresFeed`` listener per worker); JetStream through nats-py with an ordered push consumer,
on a throwaway ``nats-server -js`` started here on a free port.

    .venv/bin/python bench/events.py
    .venv/bin/python bench/events.py --only postgres --events 500

Needs ``pip install nats-py`` for the JetStream half (it is not a dependency of the product) and
a ``nats-server`` on PATH or at --nats-server. PostgreSQL: a scratch database on the server at
BENCH_POSTGRES_URL (default: TEST_POSTGRES_URL or postgresql+psycopg://postgres@127.0.0.1:5432/test).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing as mp
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from multiprocessing.synchronize import Event as MpEvent
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import text
from sqlmodel import Session

from inspector.db import make_engine, migrate
from inspector.eventbus import EventType, PlatformEvents, publish_in, record_events
from tests.scratch_db import scratch_postgres_database

PG_URL = os.environ.get(
    "BENCH_POSTGRES_URL",
    os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"),
)
SUBJECT = "events.claim"
STREAM = "EVENTS"
WAIT_S = 120.0


def _data(seq: int) -> dict[str, Any]:
    """A claim change as the platform publishes it, plus the send clock."""
    return {
        "ref": f"W-{seq:08d}",
        "action": "accept",
        "from_state": "submitted",
        "state": "accepted",
        "version": 2,
        "seq": seq,
        "t": time.monotonic_ns(),
    }


def _schedule(count: int, rate: float) -> Callable[[int], float]:
    """Seconds to wait before publishing event ``i`` (0 when behind; ``rate`` 0 = back to back)."""
    start = time.monotonic()
    return lambda i: 0.0 if rate <= 0 else max(0.0, start + i / rate - time.monotonic())


# ------------------------------------------------------------------ PostgreSQL LISTEN/NOTIFY


def pg_subscriber(url: str, count: int, ready: MpEvent, out: mp.Queue[Any]) -> None:
    async def main() -> None:
        engine = make_engine(url)
        events = PlatformEvents(engine)
        got: list[tuple[int, int]] = []
        done = asyncio.Event()

        def take(event: Any) -> None:
            got.append((time.monotonic_ns(), int(event.data["t"])))
            if len(got) >= count:
                done.set()

        events.bus.add_listener(EventType.CLAIM_CHANGED, take)
        await events.start()
        while events.bus.state.value != "listening":
            await asyncio.sleep(0.01)
        ready.set()
        try:
            await asyncio.wait_for(done.wait(), WAIT_S)
        finally:
            await events.stop()
            engine.dispose()
        out.put(got)

    asyncio.run(main())


def pg_publisher(url: str, count: int, rate: float, flush_wal: bool = True) -> None:
    engine = make_engine(url)
    record_events(engine)
    wait = _schedule(count, rate)
    for i in range(count):
        time.sleep(wait(i))
        with Session(engine) as session:
            if not flush_wal:
                session.execute(text("SET LOCAL synchronous_commit = off"))
            publish_in(session, EventType.CLAIM_CHANGED, **_data(i))
            session.commit()
    engine.dispose()


def pg_publisher_no_flush(url: str, count: int, rate: float) -> None:
    """The transport without the commit's WAL flush: what an event adds to a commit that a
    claim change or an upload makes anyway."""
    pg_publisher(url, count, rate, flush_wal=False)


# ------------------------------------------------------------------ NATS JetStream


def nats_subscriber(url: str, count: int, ready: MpEvent, out: mp.Queue[Any]) -> None:
    import nats  # bench-only, optional (pip install nats-py): imported where it is used

    async def main() -> None:
        nc = await nats.connect(url)
        js = nc.jetstream()
        got: list[tuple[int, int]] = []
        done = asyncio.Event()

        async def take(msg: Any) -> None:
            data = json.loads(msg.data)["data"]
            got.append((time.monotonic_ns(), int(data["t"])))
            if len(got) >= count:
                done.set()

        await js.subscribe(SUBJECT, cb=take, ordered_consumer=True)
        ready.set()
        try:
            await asyncio.wait_for(done.wait(), WAIT_S)
        finally:
            await nc.close()
        out.put(got)

    asyncio.run(main())


def nats_publisher(url: str, count: int, rate: float) -> None:
    import nats  # bench-only, optional (pip install nats-py): imported where it is used

    async def main() -> None:
        nc = await nats.connect(url)
        js = nc.jetstream()
        wait = _schedule(count, rate)
        for i in range(count):
            delay = wait(i)
            if delay:
                await asyncio.sleep(delay)
            body = {"type": EventType.CLAIM_CHANGED.value, "data": _data(i)}
            await js.publish(SUBJECT, json.dumps(body).encode())  # returns once the stream stored it
        await nc.close()

    asyncio.run(main())


def nats_stream(url: str) -> None:
    import nats  # bench-only, optional (pip install nats-py): imported where it is used

    async def main() -> None:
        nc = await nats.connect(url)
        js = nc.jetstream()
        with contextlib.suppress(nats.js.errors.NotFoundError):  # the first phase: none yet
            await js.delete_stream(STREAM)
        await js.add_stream(name=STREAM, subjects=["events.>"])
        await nc.close()

    asyncio.run(main())


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# ------------------------------------------------------------------ running a phase


def run_phase(
    subscriber: Callable[..., None],
    publisher: Callable[..., None],
    url: str,
    count: int,
    rate: float,
    publishers: int = 1,
) -> dict[str, float]:
    """Subscriber and publishers in spawned processes; latency figures and throughput."""
    ctx = mp.get_context("spawn")
    ready, out = ctx.Event(), ctx.Queue()
    sub = ctx.Process(target=subscriber, args=(url, count, ready, out))
    sub.start()
    if not ready.wait(WAIT_S):
        sub.kill()
        raise SystemExit("the subscriber did not start")
    share = count // publishers
    pubs = [ctx.Process(target=publisher, args=(url, share, rate / publishers)) for _ in range(publishers)]
    for pub in pubs:
        pub.start()
    got: list[tuple[int, int]] = out.get(timeout=WAIT_S * 2)
    for pub in pubs:
        pub.join(WAIT_S)
    sub.join(WAIT_S)
    if len(got) != count:
        raise SystemExit(f"{len(got)} of {count} events arrived")
    lat_ms = sorted((arrived - sent) / 1e6 for arrived, sent in got)
    span_s = (max(a for a, _ in got) - min(s for _, s in got)) / 1e9
    return {
        "p50_ms": round(statistics.median(lat_ms), 2),
        "p99_ms": round(lat_ms[min(len(lat_ms) - 1, int(len(lat_ms) * 0.99))], 2),
        "max_ms": round(lat_ms[-1], 2),
        "per_s": round(count / span_s, 0),
    }


def bench_postgres(args: argparse.Namespace, flush_wal: bool = True) -> dict[str, dict[str, float]]:
    with scratch_postgres_database(PG_URL, prefix="bench_events") as url:
        migrate(url)
        publisher = pg_publisher if flush_wal else pg_publisher_no_flush
        return {
            "latency": run_phase(pg_subscriber, publisher, url, args.events, args.rate, args.publishers),
            "throughput": run_phase(pg_subscriber, publisher, url, args.burst, 0, args.publishers),
        }


def bench_nats(args: argparse.Namespace) -> dict[str, dict[str, float]]:
    server = shutil.which(args.nats_server) or args.nats_server
    if not Path(server).exists():
        raise SystemExit(f"no nats-server at {args.nats_server}")
    try:
        import nats  # noqa: F401
    except ImportError:
        raise SystemExit("the JetStream half needs nats-py: pip install nats-py") from None
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="bench-nats-") as store:
        proc = subprocess.Popen(
            [server, "-js", "-a", "127.0.0.1", "-p", str(port), "-sd", store],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        url = f"nats://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise SystemExit("nats-server did not start") from None
                    time.sleep(0.05)
            figures = {}
            for phase, count, rate in (("latency", args.events, args.rate), ("throughput", args.burst, 0.0)):
                nats_stream(url)  # a fresh stream per phase
                figures[phase] = run_phase(nats_subscriber, nats_publisher, url, count, rate, args.publishers)
            return figures
        finally:
            proc.terminate()
            proc.wait(10)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--events", type=int, default=2000, help="events in the latency phase (default 2000)")
    ap.add_argument("--rate", type=float, default=200.0, help="latency phase events per second (default 200)")
    ap.add_argument("--burst", type=int, default=5000, help="events in the throughput phase (default 5000)")
    ap.add_argument(
        "--publishers", type=int, default=1, help="publishing processes (default 1); events split evenly"
    )
    ap.add_argument("--only", choices=["postgres", "nats"], help="run one backend only")
    ap.add_argument("--nats-server", default="nats-server", help="the nats-server binary")
    args = ap.parse_args()
    print(f"{platform.node()}: {os.cpu_count()} cores, Python {platform.python_version()}")
    results: dict[str, Any] = {}
    runs: dict[str, Callable[[argparse.Namespace], dict[str, dict[str, float]]]] = {
        "postgres LISTEN/NOTIFY": bench_postgres,
        "postgres, commit not flushed": lambda a: bench_postgres(a, flush_wal=False),
        "NATS JetStream": bench_nats,
    }
    for name, run in runs.items():
        if args.only and args.only not in name.lower():
            continue
        results[name] = run(args)
        lat, thr = results[name]["latency"], results[name]["throughput"]
        print(
            f"{name:<30} latency at {args.rate:.0f}/s: p50 {lat['p50_ms']} ms  p99 {lat['p99_ms']} ms  "
            f"max {lat['max_ms']} ms | back to back: {thr['per_s']:.0f} events/s "
            f"(p50 {thr['p50_ms']} ms, p99 {thr['p99_ms']} ms)",
            flush=True,
        )
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
