"""Photo store throughput, filesystem against database (PostgreSQL), one process, loopback.

For each backend: store N photos of SIZE bytes (``put``, chunked writes), read each back streamed
(``open`` + iterate, re-hashed), and fetch each through ``GET /photos/{sha256}`` of the app
(in process, over the ASGI test transport). Prints MB/s and milliseconds per photo.

Run: .venv/bin/python bench/photostore.py [--photos 40] [--size 1500000]
(needs PostgreSQL, TEST_POSTGRES_URL)
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's code, not an installed one
from scratch_db import scratch_postgres_database

from inspector.config import PhotoBackend, Settings
from inspector.db import make_engine, migrate
from inspector.photostore import PhotoStore, Shelf, photo_store
from inspector.web.app import create_app

ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def timed(what: Callable[[], object]) -> float:
    t0 = time.perf_counter()
    what()
    return time.perf_counter() - t0


def run(backend: PhotoBackend, url: str, data_dir: Path, photos: list[bytes]) -> dict[str, float]:
    settings = Settings(data_dir=data_dir, database_url=url, photo_store=backend)
    engine: Engine = make_engine(url)
    store: PhotoStore = photo_store(settings, engine, Shelf.STATION)
    digests: list[str] = []
    put_s = timed(lambda: digests.extend(store.put(p) for p in photos))

    def read() -> None:
        for d in digests:
            with store.open(d) as reader:
                for _ in reader:
                    pass

    read_s = timed(read)
    app = create_app(settings, engine=engine)
    with TestClient(app) as client:

        def serve() -> None:
            for d in digests:
                r = client.get(f"/photos/{d}")
                assert r.status_code == 200 and len(r.content) == len(photos[0])

        serve_s = timed(serve)
    engine.dispose()
    return {"put": put_s, "read": read_s, "serve": serve_s}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=40)
    parser.add_argument("--size", type=int, default=1_500_000, help="bytes per photo")
    args = parser.parse_args()
    photos = [os.urandom(args.size) for _ in range(args.photos)]
    megabytes = args.photos * args.size / 1e6
    print(f"{args.photos} photos of {args.size / 1e6:.1f} MB each ({megabytes:.0f} MB)")
    print(f"{'backend':22} {'op':6} {'MB/s':>8} {'ms/photo':>9}")
    with tempfile.TemporaryDirectory() as tmp, scratch_postgres_database(ADMIN_URL, "bench") as pg_url:
        migrate(pg_url)
        for backend, url, label in (
            (PhotoBackend.FS, pg_url, "fs"),
            (PhotoBackend.DATABASE, pg_url, "database (PostgreSQL)"),
        ):
            figures = run(backend, url, Path(tmp) / label.split()[0], photos)
            for op, seconds in figures.items():
                print(f"{label:22} {op:6} {megabytes / seconds:8.0f} {1000 * seconds / args.photos:9.1f}")


if __name__ == "__main__":
    main()
