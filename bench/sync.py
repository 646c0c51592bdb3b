"""Sync drain: certificates issued while the platform is away, then how fast the station catches up.

A real platform (``inspector serve --role platform`` on a scratch PostgreSQL database, dropped at
the end) and a real station process (``inspector serve --simulate`` on SQLite). The station is
enrolled, then the platform is stopped and the certificates are issued on the station through
its issuing path (photos stored, signed for the platform, queued in the same commit). Then the
platform is started again and the station's pusher drains its outbox by itself. It reports the
wait before the first upload (the pusher's backoff), the time to drain, certificates/s and MB/s,
and checks the platform's database: every certificate, photo and log leaf once (0 lost, 0
duplicated), and every certificate's inclusion proof stored on the station.

    .venv/bin/python bench/sync.py                                 # 1,000 certificates x 4 photos
    .venv/bin/python bench/sync.py --certificates 50 --photos 2 --json out.json
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import signal
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from sqlalchemy import func  # noqa: E402
from sqlalchemy.engine import Engine  # noqa: E402
from sqlmodel import Session, col, select  # noqa: E402

from inspector.certificates.service import CertificateRequest  # noqa: E402
from inspector.certificates.tables import Certificate, LogLeaf  # noqa: E402
from inspector.certificates.testing import sample_request  # noqa: E402
from inspector.db import make_engine  # noqa: E402
from inspector.photostore import PHOTOS_DIR, FileSystemPhotoStore  # noqa: E402
from inspector.platform.tables import ReceivedPhoto  # noqa: E402
from inspector.station.runtime import free_port  # noqa: E402
from inspector.sync.enrolment import current_enrolment  # noqa: E402
from inspector.sync.issuing import issue_for_platform  # noqa: E402
from inspector.sync.pusher import Pusher  # noqa: E402
from inspector.sync.tables import ItemKind, OutboxItem  # noqa: E402
from tests.scratch_db import scratch_postgres_database  # noqa: E402
from tests.sync.sync_processes import (  # noqa: E402
    ServeProcess,
    enrol_in_process,
    platform_process,
    station_settings,
)

PG_URL = os.environ.get(
    "BENCH_POSTGRES_URL",
    os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"),
)
STATION_ID = "bench-station"
ISSUE_BATCH = 50  # certificates per commit while issuing (the station commits one per inspection)
DRAIN_TIMEOUT_S = 3600.0


@dataclass
class Report:
    machine: dict[str, Any]
    date: str
    certificates: int
    photos_per_certificate: int
    photo_bytes: int
    issue_s: float = 0.0
    first_upload_s: float = 0.0  # from the platform answering to the first item taken
    drain_s: float = 0.0  # from the platform answering to the outbox empty
    megabytes: float = 0.0
    on_platform: dict[str, int] = field(default_factory=dict)
    lost: dict[str, int] = field(default_factory=dict)
    duplicated: dict[str, int] = field(default_factory=dict)
    refused: int = 0
    without_proof: int = 0
    online_s: list[float] = field(default_factory=list)  # issued -> verifiable at its platform URL

    @property
    def ok(self) -> bool:
        return (
            not any(self.lost.values())
            and not any(self.duplicated.values())
            and not (self.refused or self.without_proof)
        )


def machine() -> dict[str, Any]:
    cpu = platform.processor() or ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None  # others' work skews the figures
    return {"cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(), "load_1min": load}


def station_process(data_dir: Path, port: int) -> ServeProcess:
    """The station with its default backoff (the tests' station retries every second)."""
    env = {"INSPECTOR_STATION_ID": STATION_ID}
    args = ["--simulate", "--data-dir", str(data_dir)]
    return ServeProcess(args, env, port, data_dir.parent / "station.log", "/api/station/live")


def issue_all(
    engine: Engine, data_dir: Path, count: int, photos: int, photo_bytes: int, quiet: bool = False
) -> list[str]:
    """Issue ``count`` certificates of ``photos`` new photos each; their ids."""
    store = FileSystemPhotoStore(data_dir / PHOTOS_DIR)
    settings = station_settings(data_dir, STATION_ID)
    ids: list[str] = []
    with Session(engine) as session:
        enrolment = current_enrolment(session, STATION_ID)
        assert enrolment is not None
        session.expunge(enrolment)
    for start in range(0, count, ISSUE_BATCH):
        with Session(engine) as session:
            for _ in range(start, min(count, start + ISSUE_BATCH)):
                digests = [store.put(os.urandom(photo_bytes)) for _ in range(photos)]
                request: CertificateRequest = sample_request(
                    "jewelry",
                    station_id=STATION_ID,
                    photos=[{"sha256": d, "role": f"top@{90 * i}deg"} for i, d in enumerate(digests)],
                )
                ids.append(issue_for_platform(session, request, settings, enrolment).human_id)
            session.commit()
        if not quiet:
            print(f"\r  issued {len(ids):,}/{count:,}", end="", flush=True)
    if not quiet:
        print()
    return ids


def outbox_counts(engine: Engine) -> tuple[int, int, int, int]:
    """Items sent, items waiting, certificates sent, items refused."""
    with Session(engine) as session:
        rows = session.exec(select(OutboxItem.kind, OutboxItem.sent_at, OutboxItem.refused_at)).all()
    sent = sum(1 for _, s, _ in rows if s is not None)
    refused = sum(1 for _, _, r in rows if r is not None)
    certs = sum(1 for k, s, _ in rows if s is not None and k == ItemKind.CERTIFICATE.value)
    return sent, len(rows) - sent - refused, certs, refused


def drain(engine: Engine, report: Report, up_at: float) -> None:
    """Watch the outbox until nothing waits, with a progress line."""
    total = report.certificates * (report.photos_per_certificate + 1)
    first = None
    deadline = up_at + DRAIN_TIMEOUT_S
    while True:
        sent, waiting, certs, refused = outbox_counts(engine)
        now = time.monotonic()
        if first is None and sent:
            first = now - up_at
        taken = now - up_at - (first or 0.0)
        rate = certs / taken if first is not None and taken > 0 else 0.0
        print(
            f"\r  {now - up_at:7.1f} s  items sent {sent:,}/{total:,}  certificates {certs:,}/"
            f"{report.certificates:,}  {rate:6.1f} cert/s  refused {refused}",
            end="",
            flush=True,
        )
        if waiting == 0:
            print()
            report.first_upload_s, report.drain_s, report.refused = first or 0.0, now - up_at, refused
            return
        if now > deadline:
            print()
            raise SystemExit(f"the outbox did not drain within {DRAIN_TIMEOUT_S:.0f} s")
        time.sleep(0.5)


def online(
    engine: Engine, data_dir: Path, platform_base: str, count: int, photos: int, size: int
) -> list[float]:
    """With the platform up: seconds from a certificate's commit on the station to its public
    verify.json answering 200 on the platform. The station's own pusher class runs here, woken by
    the commit as in the station process (whose pusher is stopped for this part)."""
    settings = station_settings(data_dir, STATION_ID)
    pusher = Pusher(engine, settings).start()
    waits: list[float] = []
    try:
        with httpx.Client(timeout=5.0) as client:
            for n in range(count):
                began = time.monotonic()
                (hid,) = issue_all(engine, data_dir, 1, photos, size, quiet=True)
                url = f"{platform_base}/c/{hid}/verify.json"
                while client.get(url).status_code != 200:
                    if time.monotonic() - began > 60:
                        raise SystemExit(f"{hid} was not on the platform 60 s after it was issued")
                    time.sleep(0.01)
                waits.append(time.monotonic() - began)
                print(f"\r  online: {n + 1}/{count} issued and verifiable", end="", flush=True)
        print()
    finally:
        pusher.stop()
    return waits


def check(station: Engine, platform_db: Engine, ids: list[str], report: Report) -> None:
    """Count on the platform: each certificate, photo and log leaf exactly once; proofs kept."""
    with Session(station) as s:
        items = s.exec(select(OutboxItem)).all()
    digests = {i.ref for i in items if i.kind == ItemKind.PHOTO.value}
    receipts = {i.ref: i.receipt for i in items if i.kind == ItemKind.CERTIFICATE.value}
    report.without_proof = sum(
        1 for hid in ids if not receipts.get(hid) or "inclusion_proof" not in json.loads(receipts[hid])
    )
    with Session(platform_db) as p:
        certs = p.exec(select(Certificate.human_id).where(Certificate.station_id == STATION_ID)).all()
        leaves = p.exec(select(LogLeaf.human_id)).all()
        photos = p.exec(select(ReceivedPhoto.sha256).where(ReceivedPhoto.station_id == STATION_ID)).all()
        sizes = p.exec(
            select(func.sum(ReceivedPhoto.size)).where(col(ReceivedPhoto.station_id) == STATION_ID)
        ).one()
        bodies = p.exec(
            select(func.sum(func.length(Certificate.credential))).where(Certificate.station_id == STATION_ID)
        ).one()
    report.megabytes = (int(sizes or 0) + int(bodies or 0)) / 1e6
    report.on_platform = {"certificates": len(certs), "photos": len(photos), "log_leaves": len(leaves)}
    report.lost = {
        "certificates": len(set(ids) - set(certs)),
        "photos": len(digests - set(photos)),
        "log_leaves": len(set(ids) - set(leaves)),
    }
    report.duplicated = {
        "certificates": len(certs) - len(set(certs)),
        "photos": len(photos) - len(set(photos)),
        "log_leaves": len(leaves) - len(set(leaves)),
    }


def run(args: argparse.Namespace, workdir: Path) -> Report:
    report = Report(
        machine=machine(),
        date=datetime.now(UTC).strftime("%Y-%m-%d"),
        certificates=args.certificates,
        photos_per_certificate=args.photos,
        photo_bytes=args.photo_kb * 1024,
    )
    station_data = workdir / "station" / "data"
    for folder in (workdir / "platform", station_data.parent):
        folder.mkdir(parents=True)
    with scratch_postgres_database(PG_URL, prefix="benchsync") as platform_url:
        plat = platform_process(workdir / "platform" / "data", platform_url, free_port()).start()
        platform_db = make_engine(platform_url)
        station = enrol_in_process(plat, platform_db, station_data, STATION_ID)
        plat.stop()
        print(f"station enrolled with {plat.base}; the platform is stopped")
        shop = station_process(station_data, free_port()).start()
        try:
            began = time.monotonic()
            ids = issue_all(station, station_data, args.certificates, args.photos, report.photo_bytes)
            report.issue_s = time.monotonic() - began
            print(f"issued {len(ids):,} certificates in {report.issue_s:.1f} s; starting the platform")
            plat.start()
            drain(station, report, time.monotonic())
            check(station, platform_db, ids, report)
            shop.stop()
            if args.online:
                report.online_s = online(
                    station, station_data, plat.base, args.online, args.photos, report.photo_bytes
                )
        finally:
            shop.stop()
            plat.stop()
            station.dispose()
            platform_db.dispose()
    return report


def print_summary(r: Report) -> None:
    sending = max(r.drain_s - r.first_upload_s, 1e-9)
    m = r.machine
    load = f", load {m['load_1min']:.1f}" if m["load_1min"] is not None else ""
    print(f"\nmachine: {m['cpu']}, {m['cores']} cores, Python {m['python']}{load}; {r.date}")
    print(
        f"{r.certificates:,} certificates x {r.photos_per_certificate} photos of "
        f"{r.photo_bytes // 1024} KB ({r.megabytes:,.1f} MB), issued in {r.issue_s:.1f} s"
    )
    print(f"first upload {r.first_upload_s:.1f} s after the platform answered (the station's backoff)")
    print(
        f"drained in {r.drain_s:.1f} s: {r.certificates / sending:.1f} certificates/s, "
        f"{r.megabytes / sending:.1f} MB/s once sending"
    )
    print(f"on the platform: {r.on_platform}")
    print(f"lost: {r.lost}; duplicated: {r.duplicated}")
    print(f"refused: {r.refused}; certificates without their inclusion proof: {r.without_proof}")
    if r.online_s:
        waits = sorted(r.online_s)
        print(
            f"online: issued -> verifiable at the platform URL, {len(waits)} certificates: "
            f"p50 {waits[len(waits) // 2]:.2f} s, max {waits[-1]:.2f} s"
        )
    print("OK" if r.ok else "FAILED")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--certificates", type=int, default=1000, help="certificates to issue (default 1000)")
    p.add_argument("--photos", type=int, default=4, help="photos per certificate (default 4)")
    p.add_argument("--photo-kb", type=int, default=250, help="size of each photo in KB (default 250)")
    p.add_argument(
        "--online",
        type=int,
        default=20,
        help="then, platform up: certificates timed from issue to verifiable",
    )
    p.add_argument("--json", type=Path, help="also write the figures to this file")
    args = p.parse_args(argv)
    if args.certificates < 1 or args.photos < 0 or args.photo_kb < 1:
        p.error("--certificates and --photo-kb must be at least 1, --photos at least 0")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop both servers, drop the database
    with tempfile.TemporaryDirectory(prefix="bench-sync-") as tmp:
        report = run(args, Path(tmp))
    print_summary(report)
    if args.json:
        args.json.write_text(json.dumps({**asdict(report), "ok": report.ok}, indent=2))
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
