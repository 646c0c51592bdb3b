"""Claim queue queries and claim transitions per second with a realistic amount of data.

Fills a fresh database with 100,000 certificates (each sold) and 10,000 claims spread over the
workflow states (synthetic rows bulk-inserted directly, as the real write path is not what is
measured here), then times what the staff console does: queue pages with filters and search,
a claim page (claim, audit log, coverage), coverage lookups, reports, and transitions (each one
its own committed transaction, sequential and from 2 threads).

    .venv/bin/python bench/claims.py                 # SQLite and PostgreSQL
    .venv/bin/python bench/claims.py --db sqlite --certs 20000 --claims 2000

PostgreSQL: a scratch database is created and dropped on the server at BENCH_POSTGRES_URL
(default: TEST_POSTGRES_URL or postgresql+psycopg://postgres@127.0.0.1:5432/test).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import insert, text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from inspector.certificates.humanid import new_human_id
from inspector.certificates.tables import Certificate
from inspector.db import make_engine, migrate
from tests.scratch_db import scratch_postgres_database
from warranty.coverage import coverage_for
from warranty.errors import Conflict
from warranty.reports import claim_rates, time_to_resolution
from warranty.service import Actor, QueueFilter, events, get_claim, queue, transition
from warranty.tables import Claim, ClaimEvent, Sale

PG_URL = os.environ.get(
    "BENCH_POSTGRES_URL",
    os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"),
)
STATIONS = [f"station-{i:02d}" for i in range(1, 21)]
MODELS = ["Samsung Galaxy S21", "Apple iPhone 12", "Xiaomi 13", "Google Pixel 7", "Huawei P40"]
METALS = ["18k gold", "925 silver", "platinum"]
GRADES = ["A", "B", "C", "D"]
GRADERS = ["phone-wear-1.0", "phone-wear-1.1", "jewelry-1.0"]
STATE_WEIGHTS = {
    "submitted": 20,
    "awaiting_item": 8,
    "received": 4,
    "reinspected": 4,
    "approved": 3,
    "denied": 3,
    "resolved": 8,
    "closed": 50,
}
STAFF = Actor("bench-staff", "staff")


@contextmanager
def database(kind: str) -> Iterator[str]:
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            yield f"sqlite:///{Path(tmp) / 'bench.db'}"
        return
    with scratch_postgres_database(PG_URL, "bench_claims") as url:
        yield url


def fill(engine: Engine, n_certs: int, n_claims: int, rng: random.Random) -> dict[str, Any]:
    """Bulk-insert certificates, sales, claims and their audit rows; returns ids to query with."""
    now = datetime.now(UTC)
    ids: set[str] = set()
    while len(ids) < n_certs:
        ids.add(new_human_id())
    cert_ids = sorted(ids)
    rng.shuffle(cert_ids)
    certs: list[dict[str, Any]] = []
    sales: list[dict[str, Any]] = []
    facts: dict[str, dict[str, Any]] = {}
    for i, hid in enumerate(cert_ids):
        kind = "phone" if i % 5 else "jewelry"
        issued = now - timedelta(days=rng.uniform(1, 170), seconds=i)
        f: dict[str, Any] = {
            "kind": kind,
            "station": STATIONS[i % len(STATIONS)],
            "grade": rng.choice(GRADES),
            "model": rng.choice(MODELS) if kind == "phone" else rng.choice(METALS),
            "grader": GRADERS[2] if kind == "jewelry" else rng.choice(GRADERS[:2]),
            "issued": issued,
        }
        facts[hid] = f
        subject = {
            "item_kind": kind,
            "identity": {"model": f["model"]}
            if kind == "phone"
            else {"metal": f["model"], "weight_mg": 5230},
            "grade": {"grade": f["grade"], "measurements": {"longest_scratch_um": rng.randint(0, 9000)}},
            "model_versions": {"grader": f["grader"]},
            "warranty": {"plan_id": "phone-180" if kind == "phone" else "jewelry-authenticity", "days": 180},
        }
        certs.append(
            {
                "human_id": hid,
                "inspection_id": f"insp-{i}",
                "item_kind": kind,
                "station_id": f["station"],
                "key_fingerprint": "bench",
                "issued_at": issued,
                "credential": json.dumps({"credentialSubject": subject}),
                "status_list": 1 + i // 131072,
                "status_index": i % 131072,
                "status_reason": "",
            }
        )
        sales.append(
            {
                "cert_human_id": hid,
                "order_ref": f"ORD-{i:07d}",
                "price_minor": rng.randint(5000, 800000),
                "currency": "CNY",
                "sold_at": issued + timedelta(hours=2),
                "buyer_contact": f"buyer{i}@example.com",
                "plan_id": subject["warranty"]["plan_id"],  # type: ignore[index]
                "recorded_by": "bench",
                "created_at": issued + timedelta(hours=2),
                "item_kind": kind,
                "station_id": f["station"],
                "grade": f["grade"],
                "device_model": f["model"],
                "grader_version": f["grader"],
            }
        )
    with engine.begin() as conn:
        for chunk in range(0, len(certs), 5000):
            conn.execute(insert(Certificate.__table__), certs[chunk : chunk + 5000])  # type: ignore[attr-defined]
        for chunk in range(0, len(sales), 5000):
            conn.execute(insert(Sale.__table__), sales[chunk : chunk + 5000])  # type: ignore[attr-defined]
        sale_ids: dict[str, int] = {
            h: i for h, i in conn.execute(text("SELECT cert_human_id, id FROM warranty_sale"))
        }
    states = rng.choices(list(STATE_WEIGHTS), weights=list(STATE_WEIGHTS.values()), k=n_claims)
    claimed = rng.sample(cert_ids, n_claims)
    claims: list[dict[str, Any]] = []
    for i, (hid, state) in enumerate(zip(claimed, states, strict=True)):
        f = facts[hid]
        age_days = (now - f["issued"]).total_seconds() / 86400
        created = f["issued"] + timedelta(days=rng.uniform(0, min(10.0, age_days * 0.9)))
        resolved = (
            created + timedelta(hours=rng.uniform(20, 400)) if state in ("resolved", "closed") else None
        )
        claims.append(
            {
                "ref": f"WC-B{i:07d}",
                "cert_human_id": hid,
                "open_cert": None if state == "closed" else hid,
                "sale_id": sale_ids[hid],
                "order_ref": f"ORD-{cert_ids.index(hid):07d}" if i < 0 else "",
                "plan_id": "phone-180" if f["kind"] == "phone" else "jewelry-authenticity",
                "item_kind": f["kind"],
                "station_id": f["station"],
                "grade": f["grade"],
                "device_model": f["model"],
                "grader_version": f["grader"],
                "problem": "functional_fault" if f["kind"] == "phone" else "authenticity",
                "description": "synthetic",
                "buyer_photos": "[]",
                "buyer_secret_hash": uuid.uuid4().hex + uuid.uuid4().hex,
                "opened_via": "buyer",
                "opened_by": "buyer",
                "state": state,
                "version": 1,
                "outcome": "repair" if state in ("approved", "resolved", "closed") else None,
                "created_at": created,
                "updated_at": resolved or created,
                "resolved_at": resolved,
                "closed_at": resolved if state == "closed" else None,
            }
        )
    order_of = {s["cert_human_id"]: s["order_ref"] for s in sales}
    for c in claims:
        c["order_ref"] = order_of[c["cert_human_id"]]
    with engine.begin() as conn:
        for chunk in range(0, len(claims), 5000):
            conn.execute(insert(Claim.__table__), claims[chunk : chunk + 5000])  # type: ignore[attr-defined]
        by_ref = {c["ref"]: c for c in claims}
        rows = conn.execute(text("SELECT id, ref FROM warranty_claim")).all()
        evs = []
        for cid, ref in rows:
            created, state = by_ref[ref]["created_at"], by_ref[ref]["state"]
            evs.append(
                {
                    "claim_id": cid,
                    "at": created,
                    "actor": "buyer",
                    "actor_role": "buyer",
                    "action": "open",
                    "from_state": None,
                    "to_state": "submitted",
                    "reason": "synthetic",
                    "data": "{}",
                }
            )
            if state != "submitted":
                evs.append(
                    {
                        "claim_id": cid,
                        "at": created,
                        "actor": "bench",
                        "actor_role": "staff",
                        "action": "bulk",
                        "from_state": "submitted",
                        "to_state": state,
                        "reason": "synthetic",
                        "data": "{}",
                    }
                )
        for chunk in range(0, len(evs), 5000):
            conn.execute(insert(ClaimEvent.__table__), evs[chunk : chunk + 5000])  # type: ignore[attr-defined]
        conn.execute(text("ANALYZE"))
    return {
        "claimed": claimed,
        "cert_ids": cert_ids,
        "orders": [order_of[h] for h in claimed],
        "submitted": [c["ref"] for c in claims if c["state"] == "submitted"],
    }


def rate(
    engine: Engine, fn: Callable[[Session], object], budget: float, max_ops: int = 100000
) -> tuple[float, float]:
    """Operations per second and median latency (ms), one session per operation like a request."""
    lat: list[float] = []
    start = time.perf_counter()
    while time.perf_counter() - start < budget and len(lat) < max_ops:
        t0 = time.perf_counter()
        with Session(engine) as s:
            fn(s)
        lat.append(time.perf_counter() - t0)
    total = time.perf_counter() - start
    return len(lat) / total, statistics.median(lat) * 1000


def run(kind: str, n_certs: int, n_claims: int, budget: float) -> list[tuple[str, float, float]]:
    rng = random.Random(42)
    results: list[tuple[str, float, float]] = []
    with database(kind) as url:
        migrate(url)
        engine = make_engine(url)
        t0 = time.perf_counter()
        ids = fill(engine, n_certs, n_claims, rng)
        took = time.perf_counter() - t0
        print(f"[{kind}] filled {n_certs} certificates + sales, {n_claims} claims in {took:.1f} s")
        claimed, orders = ids["claimed"], ids["orders"]

        def q(f: QueueFilter) -> Callable[[Session], object]:
            return lambda s: queue(s, f)

        def claim_page(s: Session) -> object:
            c = get_claim(s, rng.choice(claimed_refs))
            events(s, c)
            return coverage_for(s, c.cert_human_id)

        with Session(engine) as s:
            claimed_refs = [r for (r,) in s.execute(text("SELECT ref FROM warranty_claim")).all()]
        cases: list[tuple[str, Callable[[Session], object]]] = [
            ("queue: open claims, first page + count", q(QueueFilter())),
            ("queue: state=awaiting_item", q(QueueFilter(state="awaiting_item"))),
            ("queue: station + kind filter", q(QueueFilter(station="station-07", kind="jewelry"))),
            ("queue: open, page 20", q(QueueFilter(offset=1000))),
            ("search: certificate id", lambda s: queue(s, QueueFilter(state="all", q=rng.choice(claimed)))),
            ("search: order reference", lambda s: queue(s, QueueFilter(state="all", q=rng.choice(orders)))),
            ("claim page: claim + audit log + coverage", claim_page),
            ("coverage_for (verify page)", lambda s: coverage_for(s, rng.choice(ids["cert_ids"]))),
            ("report: claim rate by grade", lambda s: claim_rates(s, "grade")),
            ("report: claim rate by device model", lambda s: claim_rates(s, "device_model")),
            ("report: time to resolution", lambda s: time_to_resolution(s)),
        ]
        for label, fn in cases:
            ops, med = rate(engine, fn, budget)
            results.append((label, ops, med))
            print(f"[{kind}] {label:44} {ops:9.1f}/s  median {med:7.2f} ms")

        todo = list(ids["submitted"])
        rng.shuffle(todo)
        n_seq = min(len(todo) // 2, 600)
        seq, todo = todo[:n_seq], todo[n_seq:]
        t0 = time.perf_counter()
        lat = []
        for ref in seq:
            t1 = time.perf_counter()
            with Session(engine) as s:
                transition(s, ref, "accept", STAFF)
                s.commit()
            lat.append(time.perf_counter() - t1)
        ops = n_seq / (time.perf_counter() - t0)
        results.append(("transition: accept, sequential", ops, statistics.median(lat) * 1000))
        med = statistics.median(lat) * 1000
        print(f"[{kind}] {'transition: accept, sequential':44} {ops:9.1f}/s  median {med:7.2f} ms")

        # two staff at once: first on different claims, then both racing for the same claims
        half = min(len(todo) // 3, 300)
        for label, work in (
            ("transition: deny, 2 threads, different claims", [todo[:half], todo[half : 2 * half]]),
            ("transition: deny, 2 threads racing, same claims", [todo[2 * half : 3 * half]] * 2),
        ):
            wins, conflicts = [0, 0], [0, 0]

            def worker(
                i: int, work: list[list[str]] = work, wins: list[int] = wins, conflicts: list[int] = conflicts
            ) -> None:
                for ref in work[i]:
                    with Session(engine) as s:
                        try:
                            transition(s, ref, "deny", STAFF, reason_code="outside_coverage", note="bench")
                            s.commit()
                            wins[i] += 1
                        except Conflict:
                            s.rollback()
                            conflicts[i] += 1

            threads = [threading.Thread(target=worker, args=(i,)) for i in range(2)]
            t0 = time.perf_counter()
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            ops = sum(wins) / (time.perf_counter() - t0)
            assert sum(wins) == len(set(work[0]) | set(work[1])), "every claim must be decided exactly once"
            results.append((label, ops, float("nan")))
            print(f"[{kind}] {label:44} {ops:9.1f}/s  applied {sum(wins)}, conflicts {sum(conflicts)}")
        engine.dispose()
    return results


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    ap.add_argument("--certs", type=int, default=100_000)
    ap.add_argument("--claims", type=int, default=10_000)
    ap.add_argument("--budget", type=float, default=2.0, help="seconds per measured query (default 2)")
    args = ap.parse_args()
    if args.claims > args.certs:
        ap.error("--claims cannot exceed --certs (one claim per certificate)")
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"{datetime.now(UTC):%Y-%m-%d}"
    )
    kinds = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    table: dict[str, list[tuple[str, float, float]]] = {
        k: run(k, args.certs, args.claims, args.budget) for k in kinds
    }
    print("\n| operation | " + " | ".join(f"{k} ops/s (median ms)" for k in kinds) + " |")
    print("|---|" + "---|" * len(kinds))
    for i, (label, _, _) in enumerate(table[kinds[0]]):
        cells = []
        for k in kinds:
            _, ops, med = table[k][i]
            cells.append(f"{ops:,.0f}" + ("" if med != med else f" ({med:.1f})"))
        print(f"| {label} | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
