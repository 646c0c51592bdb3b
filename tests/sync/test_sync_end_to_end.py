"""A station process (SQLite) and a platform process (PostgreSQL), enrolled and syncing for real.

What a seller would notice: certificates issued while the platform is away verify at the
platform's address once it is back; a crash on either side loses and duplicates nothing; a
revoked station can send nothing, and keeps what it has; uploads cannot be replayed or forged.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
from pathlib import Path
from typing import Any

import httpx
from browser import free_port
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select
from sync_processes import (
    ServeProcess,
    cli,
    enrol_in_process,
    inspect_phone,
    issue,
    operator_auth,
    signed_put,
    station_engine,
    station_process,
    station_settings,
    wait_until,
)

from inspector.certificates.dataintegrity import add_proof
from inspector.certificates.keys import public_fingerprint, station_private_key
from inspector.certificates.service import find_row
from inspector.sync.tables import Enrolment, OutboxItem
from inspector.sync.wire import CERTIFICATE_PATH, PHOTO_PATH


def _verify(platform: ServeProcess, human_id: str) -> dict[str, Any] | None:
    try:
        r = httpx.get(f"{platform.base}/c/{human_id}/verify.json", timeout=10)
    except httpx.HTTPError:
        return None
    return r.json() if r.status_code == 200 else None


def _events_until(base: str, kind: str, timeout: float = 30) -> dict[str, Any]:
    """The first event of ``kind`` on the public stream, replayed from its start."""
    found: dict[str, Any] = {}

    def read() -> None:
        with httpx.stream(
            "GET", f"{base}/api/station/events", headers={"Last-Event-ID": "0"}, timeout=timeout
        ) as r:
            event = ""
            for line in r.iter_lines():
                if line.startswith("event: "):
                    event = line[7:]
                elif line.startswith("data: ") and event == kind:
                    found.update(json.loads(line[6:]))
                    return

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(timeout)
    assert found, f"no {kind} event on the stream"
    return found


def test_issued_while_platform_down_verifies_at_platform_url_once_it_is_up(
    platform: ServeProcess, platform_url: str, platform_data: Path, tmp_path: Path
) -> None:
    """Enrolled with the real commands, the station inspects a phone while the platform is down:
    the certificate carries the platform's address, the stream withholds its QR code, the sync
    state names the backlog and the error. Once the platform is back the certificate verifies at
    its URL (signature, key, status, log) within a bounded wait, its photos are there, the station
    keeps the platform's inclusion proof, and the stream gets the URL."""
    data = tmp_path / "station"
    engine = station_engine(data)
    auth = operator_auth(engine)
    out = cli(
        "platform", "enrol-code", "st-live", "--data-dir", str(platform_data), "--database-url", platform_url
    )
    code = out.splitlines()[1].strip()
    printed = cli(
        "enrol", "--platform", platform.base, "--code", code, "--data-dir", str(data),
        env={"INSPECTOR_STATION_ID": "st-live"},
    )  # fmt: skip
    assert "enrolled" in printed
    platform.stop()
    station = station_process(data, "st-live", free_port()).start()
    try:
        view = inspect_phone(station.base, auth)
        hid = view["certificate_id"]
        assert view["certificate_url"] == f"{platform.base}/c/{hid}"
        assert view["certificate_on_platform"] is False
        live = httpx.get(f"{station.base}/api/station/live", timeout=10).json()["inspection"]
        assert live["certificate_url"] is None and live["certificate_on_platform"] is False
        state = httpx.get(f"{station.base}/api/station/sync", headers=auth, timeout=10).json()
        assert state["enrolled"] and state["waiting"]["certificate"] == 1 and state["waiting"]["photo"] >= 2
        state = wait_until(
            "the sync state saying the platform is unreachable",
            lambda: (
                (s := httpx.get(f"{station.base}/api/station/sync", headers=auth, timeout=10).json())[
                    "condition"
                ]
                == "offline"
                and s
            ),
        )
        assert platform.base in state["last_error"] and state["oldest_waiting_at"]
        assert state["shown"]["problem"].startswith("Platform unreachable since "), state["shown"]

        platform.start()
        started = time.monotonic()
        verdict = wait_until("the certificate verifying on the platform", lambda: _verify(platform, hid), 60)
        assert verdict["verdict"] == "valid" and verdict["transparency"]["ok"], verdict
        print(f"verifiable on the platform {time.monotonic() - started:.1f} s after it came back")
        photos = [s["photos"] for s in view["steps"] if s["photos"]]
        for photo in (p for ps in photos for p in ps):
            r = httpx.get(f"{platform.base}/photos/{photo['sha256']}", timeout=10)
            assert r.status_code == 200 and hashlib.sha256(r.content).hexdigest() == photo["sha256"]
        event = _events_until(station.base, "certificate.published")
        assert event["inspection"]["certificate_url"] == f"{platform.base}/c/{hid}"
        live = httpx.get(f"{station.base}/api/station/live", timeout=10).json()["inspection"]
        assert live["certificate_on_platform"] is True and live["certificate_url"]
        state = httpx.get(f"{station.base}/api/station/sync", headers=auth, timeout=10).json()
        assert state["waiting"] == {"certificate": 0, "photo": 0}
        assert state["condition"] in ("idle", "sending")
        online = inspect_phone(station.base, auth)  # with the platform up: there within moments
        done = time.monotonic()
        wait_until("the next certificate verifying", lambda: _verify(platform, online["certificate_id"]), 60)
        print(
            f"online: verifiable on the platform {time.monotonic() - done:.2f} s after the inspection ended"
        )
    finally:
        station.stop()
    with Session(engine) as s:
        item = s.exec(select(OutboxItem).where(OutboxItem.kind == "certificate", OutboxItem.ref == hid)).one()
        receipt = json.loads(item.receipt)
        assert (
            receipt["inclusion_proof"]["leaf_index"] >= 0 and receipt["inclusion_proof"]["sth"]["root_hash"]
        )
    engine.dispose()


def _arrived(platform_engine: Engine, station_id: str) -> tuple[int, int]:
    with platform_engine.connect() as conn:
        certs = conn.execute(
            text("select count(*) from cert_certificate where station_id = :s"), {"s": station_id}
        ).scalar_one()
        photos = conn.execute(
            text("select count(*) from platform_photo where station_id = :s"), {"s": station_id}
        ).scalar_one()
    return int(certs), int(photos)


def test_kill_9_either_side_mid_upload_loses_nothing_and_duplicates_nothing(
    platform: ServeProcess, platform_engine: Engine, platform_data: Path, tmp_path: Path
) -> None:
    """Eight certificates with three 3 MB photos each wait on the station; while a photo is half
    sent the platform is killed (SIGKILL) and started again, then the station is. In the end the platform
    holds every certificate and photo exactly once, each logged once and verifying, and the
    station's outbox is all sent, none refused."""
    data = tmp_path / "station"
    engine = enrol_in_process(platform, platform_engine, data, "st-kill")
    issued = {}
    for _ in range(8):
        hid, digests = issue(engine, data, "st-kill", photos=3, photo_bytes=3_000_000)
        issued[hid] = digests
    photos_dir = platform_data / "photos"
    station = station_process(data, "st-kill", free_port()).start()
    try:
        wait_until("a photo upload in flight", lambda: _in_flight(photos_dir), every=0.01)
        platform.kill()
        left = _in_flight(photos_dir)  # the half-written photo the kill left behind
        time.sleep(1.0)  # the station meets a dead platform
        platform.start()
        wait_until("another photo upload in flight", lambda: _in_flight(photos_dir) - left, every=0.01)
        station.kill()
        station.start()
        wait_until("everything arriving", lambda: _arrived(platform_engine, "st-kill") == (8, 24))
        wait_until("the station's outbox emptying", lambda: _waiting(engine, "st-kill") == 0)
    finally:
        station.stop()
    with platform_engine.connect() as conn:
        rows = conn.execute(
            text(
                "select c.human_id, count(distinct c.id), count(l.idx) from cert_certificate c "
                "join cert_log_leaf l on l.human_id = c.human_id where c.station_id = 'st-kill' "
                "group by c.human_id"
            )
        ).all()
    assert {r[0] for r in rows} == set(issued) and all(r[1] == 1 and r[2] == 1 for r in rows), rows
    for digests in issued.values():
        for d in digests:
            assert hashlib.sha256((photos_dir / d[:2] / d).read_bytes()).hexdigest() == d
    for hid in issued:
        assert (_verify(platform, hid) or {}).get("verdict") == "valid"
    with Session(engine) as s:
        items = s.exec(select(OutboxItem).where(OutboxItem.station_id == "st-kill")).all()
        assert len(items) == 8 + 24 and all(i.sent_at is not None and i.refused_at is None for i in items)
    engine.dispose()


def _in_flight(photos_dir: Path) -> set[str]:
    """Photos being written on the platform right now (a temporary file until the last byte)."""
    return {p.name for p in photos_dir.glob("*/.incoming-*")}


def _waiting(engine: Engine, station_id: str) -> int:
    with Session(engine) as s:
        return len(
            s.exec(
                select(OutboxItem).where(
                    OutboxItem.station_id == station_id, col(OutboxItem.sent_at).is_(None)
                )
            ).all()
        )


def test_revoked_station_is_refused_and_keeps_its_certificates(
    platform: ServeProcess, platform_url: str, platform_engine: Engine, platform_data: Path, tmp_path: Path
) -> None:
    """After the admin revokes a station on the platform, its next certificate is refused with a
    403 that says the key was revoked; the station shows that, keeps the certificate and its
    photos, and the certificate it had sent before now verifies as signed by a revoked key."""
    data = tmp_path / "station"
    engine = enrol_in_process(platform, platform_engine, data, "st-rev")
    auth = operator_auth(engine)
    before, _ = issue(engine, data, "st-rev")
    station = station_process(data, "st-rev", free_port()).start()
    try:
        wait_until("the first certificate arriving", lambda: _verify(platform, before))
        out = cli(
            "platform", "revoke-station", "st-rev", "--reason", "station laptop stolen",
            "--data-dir", str(platform_data), "--database-url", platform_url,
        )  # fmt: skip
        assert "revoked" in out
        after, photos = issue(engine, data, "st-rev")
        state = wait_until(
            "the station showing the refusal",
            lambda: (
                (s := httpx.get(f"{station.base}/api/station/sync", headers=auth, timeout=10).json())[
                    "condition"
                ]
                == "refused"
                and s
            ),
        )
        assert "revoked" in state["last_error"] and "station laptop stolen" in state["last_error"]
        assert state["shown"]["problem"] == "The platform refused this station: its key was revoked"
        assert state["waiting"]["certificate"] == 1 and state["waiting"]["photo"] == len(photos)
        assert _verify(platform, after) is None
        # The CLI revoked the key in another process: the platform's kept answer shows it once
        # that is checked again (INSPECTOR_VERIFY_CACHE_MAX_AGE_S).
        wait_until(
            "the earlier certificate verifying as signed by a revoked key",
            lambda: (_verify(platform, before) or {}).get("verdict") == "key_revoked",
        )
    finally:
        station.stop()
    with Session(engine) as s:
        assert find_row(s, after) is not None  # kept, with its photos, for a later decision
    assert all((data / "photos" / d[:2] / d).exists() for d in photos)
    engine.dispose()


def test_same_photo_twice_is_stored_once_and_replayed_or_forged_uploads_are_refused(
    platform: ServeProcess, platform_engine: Engine, platform_data: Path, tmp_path: Path
) -> None:
    """Signed uploads as a station makes them: the same photo twice is one file and one record;
    a certificate sent again is the same answer, but the very same request replayed is refused,
    as are a tampered certificate, another content under a taken id (409), a body that is not
    the signed one, and a request signed by a key the platform never certified."""
    data = tmp_path / "station"
    engine = enrol_in_process(platform, platform_engine, data, "st-wire")
    with Session(engine) as s:
        enrolment = s.get(Enrolment, "st-wire")
        assert enrolment is not None
        key = enrolment.key_fingerprint
    private = station_private_key(station_settings(data, "st-wire"), key)
    who = {"station_id": "st-wire", "key": key, "private": private}

    photo = b"\xff\xd8 a photo " * 10_000
    digest = hashlib.sha256(photo).hexdigest()
    first, _ = signed_put(platform.base, PHOTO_PATH.format(sha256=digest), photo, **who)
    again, _ = signed_put(platform.base, PHOTO_PATH.format(sha256=digest), photo, **who)
    assert first.status_code == again.status_code == 200, again.text
    assert first.json()["new"] is True and again.json()["new"] is False
    stored = [p.name for p in (platform_data / "photos" / digest[:2]).iterdir()]
    assert stored.count(digest) == 1  # other photos may share the two-letter folder
    assert [name for name in stored if not re.fullmatch(r"[0-9a-f]{64}", name)] == []  # no temp files left
    with platform_engine.connect() as conn:
        assert (
            conn.execute(
                text("select count(*) from platform_photo where sha256 = :d"), {"d": digest}
            ).scalar()
            == 1
        )

    hid, _ = issue(engine, data, "st-wire")
    with Session(engine) as s:
        row = find_row(s, hid)
        assert row is not None
        body = row.credential.encode()
    path = CERTIFICATE_PATH.format(human_id=hid)
    sent, headers = signed_put(platform.base, path, body, **who)
    assert sent.status_code == 200 and sent.json()["new"] is True, sent.text
    resent, _ = signed_put(platform.base, path, body, **who)
    assert resent.status_code == 200 and resent.json()["new"] is False

    replayed = httpx.put(platform.base + path, content=body, headers=headers, timeout=30)
    assert replayed.status_code == 401 and replayed.json()["error"] == "replayed"

    credential = json.loads(body)
    credential["credentialSubject"]["grade"]["grade"] = "A"  # another content under a taken id,
    credential.pop("proof")  # signed by the station itself
    resigned = add_proof(credential, private, f"{platform.base}/issuer#{key}")
    conflict, _ = signed_put(platform.base, path, json.dumps(resigned).encode(), **who)
    assert conflict.status_code == 409 and "different content" in conflict.json()["detail"]

    other, _ = issue(engine, data, "st-wire")  # not sent yet: a better grade, the old signature
    with Session(engine) as s:
        row = find_row(s, other)
        assert row is not None
        credential = json.loads(row.credential)
    credential["credentialSubject"]["grade"]["grade"] = "A"
    other_path = CERTIFICATE_PATH.format(human_id=other)
    tampered, _ = signed_put(platform.base, other_path, json.dumps(credential).encode(), **who)
    assert tampered.status_code == 422 and tampered.json()["error"] == "tampered"

    swapped, _ = signed_put(platform.base, path, body, **who, content_sha256="0" * 64)
    assert swapped.status_code == 422 and swapped.json()["error"] == "digest_mismatch"

    stranger = Ed25519PrivateKey.generate()
    forged, _ = signed_put(
        platform.base, path, body, station_id="st-wire", key=public_fingerprint(stranger), private=stranger
    )
    assert forged.status_code == 401 and forged.json()["error"] == "unknown_station_key"
    engine.dispose()
