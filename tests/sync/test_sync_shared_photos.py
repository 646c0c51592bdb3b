"""Platform workers on several machines share their photos through the database store.

Two platform processes with ``INSPECTOR_PHOTO_STORE=database``, each with its own data directory
(as on two machines), one PostgreSQL: a photo a station sent to one is served by the other,
streamed with its size, its digest as ETag and immutable caching, and sent again to the other
it is still one photo.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from browser import free_port
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session
from sync_processes import ServeProcess, enrol_in_process, init_platform_keys, signed_put, station_settings

from inspector.certificates.keys import station_private_key
from inspector.db import make_engine
from inspector.sync.tables import Enrolment
from inspector.sync.wire import PHOTO_PATH


def _worker(tmp: Path, name: str, url: str, keys_from: Path | None) -> ServeProcess:
    """A platform machine: the first makes the issuer's keys, the others get a copy (docs/DEPLOY.md)."""
    data = tmp / name / "data"
    data.mkdir(parents=True)
    if keys_from is None:
        init_platform_keys(data, url)
    else:
        shutil.copytree(keys_from / "keys", data / "keys")
    args = ["--role", "platform", "--data-dir", str(data), "--database-url", url]
    env = {"INSPECTOR_PHOTO_STORE": "database"}
    return ServeProcess(args, env, free_port(), data.parent / "platform.log", "/healthz")


@pytest.fixture(scope="module")
def workers(platform_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[ServeProcess]]:
    """Two platform workers on one database, started one after the other (migrations run once)."""
    tmp = tmp_path_factory.mktemp("workers")
    started: list[ServeProcess] = []
    try:
        for name in ("machine-a", "machine-b"):
            first = tmp / "machine-a" / "data" if started else None
            started.append(_worker(tmp, name, platform_url, first).start())
        yield started
    finally:
        for proc in started:
            proc.stop()


@pytest.fixture(scope="module")
def shared_engine(workers: list[ServeProcess], platform_url: str) -> Iterator[Engine]:
    engine = make_engine(platform_url)
    yield engine
    engine.dispose()


def test_a_photo_sent_to_one_worker_is_served_by_another(
    workers: list[ServeProcess], shared_engine: Engine, tmp_path: Path
) -> None:
    """A station's 1.5 MB photo, uploaded to machine A, is served by machine B byte for byte with
    Content-Length, ETag (the digest) and immutable caching, answers 304 to a browser that has it,
    and is stored in neither machine's data directory; sent again to B it is not new."""
    a, b = workers
    data = tmp_path / "station"
    engine = enrol_in_process(a, shared_engine, data, "st-shared")
    with Session(engine) as s:
        enrolment = s.get(Enrolment, "st-shared")
        assert enrolment is not None
        key = enrolment.key_fingerprint
    who = {
        "station_id": "st-shared",
        "key": key,
        "private": station_private_key(station_settings(data, "st-shared"), key),
    }
    photo = b"\xff\xd8\xff\xe0" + os.urandom(1_500_000)
    digest = hashlib.sha256(photo).hexdigest()
    path = PHOTO_PATH.format(sha256=digest)

    sent, _ = signed_put(a.base, path, photo, **who)
    assert sent.status_code == 200 and sent.json()["new"] is True, sent.text

    served = httpx.get(f"{b.base}/photos/{digest}", timeout=30)
    assert served.status_code == 200 and served.content == photo
    assert served.headers["content-type"] == "image/jpeg"
    assert served.headers["content-length"] == str(len(photo))
    assert served.headers["etag"] == f'"{digest}"'
    assert "immutable" in served.headers["cache-control"]
    cached = httpx.get(f"{b.base}/photos/{digest}", headers={"If-None-Match": f'"{digest}"'}, timeout=30)
    assert cached.status_code == 304 and cached.content == b""

    again, _ = signed_put(b.base, path, photo, **who)
    assert again.status_code == 200 and again.json()["new"] is False, again.text
    with shared_engine.connect() as conn:
        assert conn.execute(text("select count(*) from photo_object")).scalar_one() == 1
    for worker in workers:
        photos = Path(worker.args[worker.args.index("--data-dir") + 1]) / "photos"
        assert not photos.exists() or not any(photos.rglob("*"))
