"""Certificate verification benchmark.

1. Raw Ed25519 sign/verify rate (cryptography) vs. eddsa-jcs-2022 proof creation and
   verification of a real inspection credential (JCS + SHA-256 + Ed25519), and the full
   offline verification (key set, station binding, both status lists).
2. The verify endpoint (``GET /c/{id}/verify.json``: signature, key, status lists, log
   inclusion proof) and the HTML verify page under concurrent load: uvicorn in a subprocess
   on loopback, a bounded number of requests from client threads; throughput and latency.

Run: .venv/bin/python bench/verify.py [--requests 2000] [--threads 16] [--certs 200]
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from inspector.certificates.dataintegrity import add_proof, verify_proof
from inspector.certificates.keys import KeySet, station_signing_key
from inspector.certificates.service import status_list_credential
from inspector.certificates.testing import issue_sample_certificate
from inspector.certificates.verify import verify_credential
from inspector.config import Settings
from inspector.db import make_engine, migrate, session_scope


def rate(fn: Callable[[], object], seconds: float = 1.0) -> float:
    n, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        for _ in range(50):
            fn()
        n += 50
    return n / elapsed


def crypto_rates(settings: Settings, engine: Any) -> None:
    key = Ed25519PrivateKey.generate()
    pub = key.public_key()
    msg = os.urandom(64)
    sig = key.sign(msg)
    with session_scope(engine) as session:
        issued = issue_sample_certificate(session, settings)
        _row, station_key = station_signing_key(session, settings, "station-1")
        keys = KeySet.from_db(session, settings)
        lists = {
            f"{settings.public_base_url}/status/{p}/1": status_list_credential(session, settings, p, 1)
            for p in ("revocation", "suspension")
        }
    cred = issued.credential
    vm = cred["proof"]["verificationMethod"]
    unsigned = {k: v for k, v in cred.items() if k != "proof"}
    station_pub = station_key.public_key()
    results = {
        "raw Ed25519 sign (64 B)": rate(lambda: key.sign(msg)),
        "raw Ed25519 verify (64 B)": rate(lambda: pub.verify(sig, msg)),
        "eddsa-jcs-2022 add_proof (credential)": rate(lambda: add_proof(unsigned, station_key, vm)),
        "eddsa-jcs-2022 verify_proof (credential)": rate(lambda: verify_proof(cred, lambda _v: station_pub)),
        "full offline verification (keys + 2 status lists)": rate(
            lambda: verify_credential(cred, keys, lists.__getitem__)
        ),
    }
    size = len(__import__("rfc8785").dumps(unsigned))
    print(f"credential size (JCS): {size} bytes")
    base = results["raw Ed25519 verify (64 B)"]
    for name, r in results.items():
        print(f"{name:<52} {r:>10,.0f} /s   ({r / base:.2f}x raw verify)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def load(base: str, paths: list[str], total: int, threads: int) -> tuple[float, list[float], int]:
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    counter = iter(range(total))

    def worker() -> None:
        nonlocal errors
        with httpx.Client(base_url=base, timeout=30) as client:
            while True:
                with lock:
                    i = next(counter, None)
                if i is None:
                    return
                t0 = time.perf_counter()
                r = client.get(paths[i % len(paths)])
                dt = time.perf_counter() - t0
                with lock:
                    latencies.append(dt)
                    if r.status_code != 200:
                        errors += 1

    start = time.perf_counter()
    ts = [threading.Thread(target=worker) for _ in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return time.perf_counter() - start, latencies, errors


def pct(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100)[q - 1] if len(values) > 1 else values[0]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--requests", type=int, default=2000)
    ap.add_argument("--threads", type=int, default=16)
    ap.add_argument("--certs", type=int, default=200)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-verify-") as tmp:
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        settings = Settings(data_dir=Path(tmp), public_base_url=base)
        migrate(settings.resolved_database_url)
        engine = make_engine(settings.resolved_database_url)
        print("== signing and verifying rates (one core) ==")
        crypto_rates(settings, engine)
        t0 = time.perf_counter()
        ids = []
        with session_scope(engine) as session:
            for _ in range(args.certs):
                ids.append(issue_sample_certificate(session, settings).human_id)
        dt = time.perf_counter() - t0
        print(f"issue (sign + store + log append + STH), SQLite: {args.certs / dt:,.0f} certificates/s")
        engine.dispose()
        env = {**os.environ, "INSPECTOR_DATA_DIR": tmp, "INSPECTOR_PUBLIC_BASE_URL": base}
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "inspector.web.app:create_app",
                "--factory",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--log-level",
                "warning",
                "--no-access-log",
            ],
            env=env,
        )
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    if httpx.get(f"{base}/log/sth", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline or server.poll() is not None:
                    raise SystemExit("server did not start")
                time.sleep(0.2)
            print(
                f"\n== HTTP under load: {args.requests} requests, {args.threads} client threads, "
                f"{args.certs} certificates, uvicorn 1 worker =="
            )
            for label, fmt in (
                ("GET /c/{id}/verify.json", "/c/{}/verify.json"),
                ("GET /c/{id} (HTML)", "/c/{}"),
            ):
                paths = [fmt.format(i) for i in ids]
                load(base, paths, min(200, args.requests), args.threads)  # warm-up
                elapsed, lat, errors = load(base, paths, args.requests, args.threads)
                print(
                    f"{label:<26} {args.requests / elapsed:8.1f} req/s   p50 {pct(lat, 50) * 1000:6.1f} ms"
                    f"   p99 {pct(lat, 99) * 1000:6.1f} ms   errors {errors}"
                )
        finally:
            server.terminate()
            server.wait(timeout=10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
