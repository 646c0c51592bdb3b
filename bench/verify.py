"""Certificate verification benchmark.

1. Raw Ed25519 sign/verify rate (cryptography) vs. eddsa-jcs-2022 proof creation and
   verification of a real inspection credential (JCS + SHA-256 + Ed25519), and the full
   offline verification (key set, station binding, both status lists).
2. The platform under load, measured with wrk: ``inspector serve --role platform --workers 2``
   on a scratch PostgreSQL database (created and dropped here), 64 connections on loopback.
   Side by side in one run: ``/healthz`` (same stack, no database) as the ceiling,
   ``GET /c/{id}/verify.json`` and the HTML verify page ``GET /c/{id}``; throughput, p50/p99
   latency and the ratio to the ceiling. wrk runs on the same machine and shares its cores.

Needs wrk (Debian: ``apt-get install -y wrk``) and PostgreSQL (``BENCH_POSTGRES_URL``, else
``TEST_POSTGRES_URL``, else postgres@127.0.0.1:5432/test).

Run: .venv/bin/python bench/verify.py [--duration 10] [--connections 64] [--certs 100] [--workers 2]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
import rfc8785
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from inspector.certificates.dataintegrity import add_proof, verify_proof
from inspector.certificates.keys import KeySet, station_signing_key
from inspector.certificates.service import status_list_credential
from inspector.certificates.testing import issue_sample_certificate
from inspector.certificates.verify import verify_credential
from inspector.config import ServerRole, Settings
from inspector.db import make_engine, migrate, session_scope
from tests.scratch_db import scratch_postgres_database

ROOT = Path(__file__).resolve().parents[1]
PG_URL = os.environ.get(
    "BENCH_POSTGRES_URL",
    os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"),
)
# Each wrk thread walks the paths in turn; done() prints one JSON line this script reads.
WRK_SCRIPT = """
local paths = {%s}
local i = 0
wrk.headers["Accept-Language"] = "zh-CN,zh;q=0.9,en;q=0.5"
request = function()
  i = i + 1
  return wrk.format(nil, paths[(i %% #paths) + 1])
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('WRKJSON {"requests": %%d, "duration_us": %%d, "p50_us": %%d, "p99_us": %%d, '
    .. '"socket_errors": %%d, "http_errors": %%d}\\n', summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(99), e.connect + e.read + e.write + e.timeout, e.status))
end
"""


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
    size = len(rfc8785.dumps(unsigned))
    print(f"credential size (JCS): {size} bytes")
    base = results["raw Ed25519 verify (64 B)"]
    for name, r in results.items():
        print(f"{name:<52} {r:>10,.0f} /s   ({r / base:.2f}x raw verify)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class Load:
    rate: float
    p50_ms: float
    p99_ms: float
    errors: int


def wrk(base: str, paths: list[str], seconds: int, connections: int, threads: int, tmp: Path) -> Load:
    """One wrk run over ``paths`` (in turn), read back from the script's JSON line."""
    script = tmp / "paths.lua"
    script.write_text(WRK_SCRIPT % ", ".join(json.dumps(p) for p in paths))
    command = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{seconds}s",
        "--timeout",
        "5s",
        "-s",
        str(script),
    ]
    out = subprocess.run([*command, base], capture_output=True, text=True, check=True).stdout
    line = next(x for x in out.splitlines() if x.startswith("WRKJSON "))
    got = json.loads(line.removeprefix("WRKJSON "))
    return Load(
        rate=got["requests"] / (got["duration_us"] / 1e6),
        p50_ms=got["p50_us"] / 1000,
        p99_ms=got["p99_us"] / 1000,
        errors=got["socket_errors"] + got["http_errors"],
    )


def start_platform(tmp: Path, url: str, port: int, workers: int) -> subprocess.Popen[bytes]:
    """``inspector serve --role platform`` from this checkout, as an operator would start it."""
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "INSPECTOR_PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "INSPECTOR_DATA_DIR": str(tmp),
    }
    subprocess.run(
        [sys.executable, "-m", "inspector", "keys", "init", "--role", "platform"],
        env=env,
        cwd=ROOT,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    server = subprocess.Popen(
        [
            *(sys.executable, "-m", "inspector", "serve", "--role", "platform", "--workers", str(workers)),
            *("--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"),
        ],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline or server.poll() is not None:
            server.terminate()
            raise SystemExit("the platform did not start")
        time.sleep(0.2)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--duration", type=int, default=10, help="seconds of load per endpoint")
    ap.add_argument("--connections", type=int, default=64)
    ap.add_argument("--wrk-threads", type=int, default=2)
    ap.add_argument("--certs", type=int, default=100, help="certificates the load walks through")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--warm-up", type=int, default=8, help="seconds of load before each measurement")
    args = ap.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: install it (Debian: apt-get install -y wrk)")
    with (
        tempfile.TemporaryDirectory(prefix="bench-verify-") as tmp_name,
        scratch_postgres_database(PG_URL, "bench_verify") as url,
    ):
        tmp = Path(tmp_name)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        settings = Settings(data_dir=tmp, database_url=url, public_base_url=base, role=ServerRole.PLATFORM)
        migrate(url)
        engine = make_engine(url)
        print("== signing and verifying rates (one core) ==")
        crypto_rates(settings, engine)
        t0 = time.perf_counter()
        ids = []
        with session_scope(engine) as session:
            for _ in range(args.certs):
                ids.append(issue_sample_certificate(session, settings).human_id)
        dt = time.perf_counter() - t0
        print(f"issue (sign + store + log append + STH), PostgreSQL: {args.certs / dt:,.1f} certificates/s")
        engine.dispose()
        server = start_platform(tmp, url, port, args.workers)
        try:
            print(
                f"\n== HTTP with wrk: {args.connections} connections, {args.wrk_threads} wrk threads, "
                f"{args.duration} s each, {args.certs} certificates in turn; platform on PostgreSQL, "
                f"{args.workers} workers; wrk shares the machine's {os.cpu_count()} cores =="
            )
            endpoints = {
                "GET /healthz (no database: the ceiling)": ["/healthz"],
                "GET /c/{id}/verify.json": [f"/c/{i}/verify.json" for i in ids],
                "GET /c/{id} (HTML page, zh-CN)": [f"/c/{i}" for i in ids],
            }
            results = {}
            for label, paths in endpoints.items():
                # warm-up: fills each worker's cache (every certificate once per worker at least)
                wrk(base, paths, args.warm_up, args.connections, args.wrk_threads, tmp)
                results[label] = wrk(base, paths, args.duration, args.connections, args.wrk_threads, tmp)
            ceiling = next(iter(results.values())).rate
            load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
            print(f"machine load average (1, 5, 15 min) after the runs: {load}")
            print(
                f"{'endpoint':<42} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'of ceiling':>10} {'errors':>7}"
            )
            for label, got in results.items():
                print(
                    f"{label:<42} {got.rate:8,.0f} {got.p50_ms:7.1f} {got.p99_ms:7.1f} "
                    f"{got.rate / ceiling:10.2f} {got.errors:7d}"
                )
        finally:
            server.terminate()
            server.wait(timeout=15)
    return 0


if __name__ == "__main__":
    sys.exit(main())
