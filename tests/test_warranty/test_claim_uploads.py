"""Buyer uploads over HTTP (SQLite and PostgreSQL): nothing is stored for a refused claim, photos are
decoded and re-encoded (no HTML behind an image header, no EXIF/GPS), quotas hold per client and per
certificate, unreferenced uploads expire, and order references cannot be guessed without limit."""

from __future__ import annotations

import io
import os
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from wty_helpers import IMEI, STAFF, add_user, buyer_claim, make_cert, sell

from inspector.cli import main as cli_main
from inspector.config import PhotoBackend, Settings, get_settings
from inspector.db import session_scope
from inspector.photoclean import MAX_SIDE_PX, clean_photo
from inspector.photostore import PHOTOS_DIR, UPLOADS_DIR, DatabasePhotoStore, FileSystemPhotoStore, Shelf
from inspector.web.app import create_app
from warranty.service import transition
from warranty.tables import Claim, ClaimUpload
from warranty.uploads import UploadPurpose, expire_unreferenced, keep_photos
from warranty.web.limits import (
    ORDER_REF_PER_CERTIFICATE,
    ORDER_REF_PER_CLIENT,
    PHOTOS_PER_CERTIFICATE,
    PHOTOS_PER_CLIENT,
)

GPS_IFD = 0x8825
ORIENTATION = 0x0112
DAY = 24 * 3600


def png(seed: int) -> bytes:
    """A small PNG of noise, different for every seed (so no two re-encode to the same photo)."""
    pixels = np.random.default_rng(seed).integers(0, 255, (12, 16, 3), dtype=np.uint8)
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, format="PNG")
    return out.getvalue()


def jpeg_with_gps() -> bytes:
    """A phone-style JPEG: GPS position (Shanghai), a camera serial, and 'rotate 90' orientation."""
    rng = np.random.default_rng(7)
    image = Image.fromarray(rng.integers(0, 255, (300, 400, 3), dtype=np.uint8))
    exif = image.getexif()
    exif[ORIENTATION] = 6
    exif[0xA431] = "BODY-SERIAL-123456"
    exif[GPS_IFD] = {1: "N", 2: (31.0, 13.0, 58.8), 3: "E", 4: (121.0, 28.0, 25.3)}
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif.tobytes())
    return out.getvalue()


def stored_files(data_dir: Path) -> list[Path]:
    return [p for d in (PHOTOS_DIR, UPLOADS_DIR) for p in (data_dir / d).rglob("*") if p.is_file()]


@pytest.fixture
def app_dir(engine: Engine, tmp_path: Path) -> Iterator[tuple[Engine, Path, Settings]]:
    settings = Settings(data_dir=tmp_path / "data", database_url=str(engine.url))
    settings.data_dir.mkdir()
    yield engine, settings.data_dir, settings


def client_for(settings: Settings, engine: Engine, address: str) -> TestClient:
    return TestClient(create_app(settings, engine=engine), client=(address, 40000))


def claim_form(cert_id: str, order_ref: str = "ORD-1001") -> dict[str, str]:
    return {"cert": cert_id, "order_ref": order_ref, "problem": "functional_fault", "description": "dead"}


def photo_files(*blobs: bytes) -> list[tuple[str, tuple[str, bytes, str]]]:
    return [("photos", (f"p{i}.png", b, "image/png")) for i, b in enumerate(blobs)]


def test_refused_claims_store_no_photo(app_dir: tuple[Engine, Path, Settings]) -> None:
    """An unknown certificate, a wrong order reference or an expired warranty stores no photo at all."""
    engine, data_dir, settings = app_dir
    cert = make_cert()
    sell(engine, cert)
    old = make_cert(issued_days_ago=300)
    sell(engine, old, days_ago=200)
    with client_for(settings, engine, "198.51.100.1") as c:
        for form, status in (
            (claim_form("NOSUCH1"), 404),
            (claim_form(cert.human_id, "ORD-WRONG"), 403),
            (claim_form(old.human_id), 409),
        ):
            r = c.post("/claims/new", data=form, files=photo_files(png(10), png(20)))
            assert r.status_code == status, r.text[:300]
    assert stored_files(data_dir) == []
    with Session(engine) as s:
        assert s.exec(select(ClaimUpload)).all() == []


def test_html_behind_a_webp_header_is_refused_and_not_stored(app_dir: tuple[Engine, Path, Settings]) -> None:
    """A file whose first bytes say WebP but which is an HTML page is refused (422) and never stored."""
    engine, data_dir, settings = app_dir
    cert = make_cert()
    sell(engine, cert)
    html = b"<html><script>alert(document.cookie)</script></html>"
    fake = b"RIFF" + len(html).to_bytes(4, "little") + b"WEBPVP8 " + html
    with client_for(settings, engine, "198.51.100.2") as c:
        r = c.post(
            "/claims/new", data=claim_form(cert.human_id), files=[("photos", ("x.webp", fake, "image/webp"))]
        )
    assert r.status_code == 422 and "photo 1:" in r.text
    assert "<script>alert" not in r.text
    assert stored_files(data_dir) == []


def test_a_stored_photo_has_no_exif_or_gps_and_is_served_as_jpeg_nosniff(
    app_dir: tuple[Engine, Path, Settings],
) -> None:
    """A phone JPEG with GPS EXIF is kept re-encoded without any EXIF, upright, and served with its type."""
    engine, _data_dir, settings = app_dir
    original = jpeg_with_gps()
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(GPS_IFD)  # the test photo does carry GPS
    cert = make_cert()
    sell(engine, cert)
    with client_for(settings, engine, "198.51.100.3") as c:
        r = c.post(
            "/claims/new",
            data=claim_form(cert.human_id),
            files=[("photos", ("IMG_0001.JPG", original, "image/jpeg"))],
            follow_redirects=False,
        )
        assert r.status_code == 303, r.text[:300]
        with Session(engine) as s:
            claim = s.exec(select(Claim).where(Claim.cert_human_id == cert.human_id)).one()
            uploads = s.exec(select(ClaimUpload).where(ClaimUpload.claim_id == claim.id)).all()
        assert [u.purpose for u in uploads] == [UploadPurpose.BUYER]
        served = c.get(f"/photos/{uploads[0].sha256}")
    assert served.status_code == 200
    assert served.headers["content-type"] == "image/jpeg"
    assert served.headers["x-content-type-options"] == "nosniff"
    kept = Image.open(io.BytesIO(served.content))
    assert kept.format == "JPEG" and kept.size == (300, 400)  # orientation applied before EXIF was dropped
    assert len(kept.getexif()) == 0 and "exif" not in kept.info
    assert b"Exif" not in served.content and b"BODY-SERIAL" not in served.content
    assert served.content != original and uploads[0].sha256 in claim.buyer_photos


def test_photo_form_takes_bodies_over_the_default_limit_and_bounds_what_it_keeps(
    app_dir: tuple[Engine, Path, Settings],
) -> None:
    """The claim form accepts a photo larger than the 1 MiB default body limit; a huge one is scaled down."""
    engine, data_dir, settings = app_dir
    rng = np.random.default_rng(3)
    noisy = io.BytesIO()
    Image.fromarray(rng.integers(0, 255, (500, 4500, 3), dtype=np.uint8)).save(noisy, format="PNG")
    assert len(noisy.getvalue()) > 2 * 1024 * 1024
    cert = make_cert()
    sell(engine, cert)
    with client_for(settings, engine, "198.51.100.4") as c:
        r = c.post(
            "/claims/new",
            data=claim_form(cert.human_id),
            files=photo_files(noisy.getvalue()),
            follow_redirects=False,
        )
    assert r.status_code == 303, r.text[:300]
    (path,) = stored_files(data_dir)
    width, height = Image.open(path).size
    assert width == MAX_SIDE_PX and 450 <= height <= 460


def test_photo_quota_per_client(app_dir: tuple[Engine, Path, Settings]) -> None:
    """One client address may have 24 photos kept per hour, over any number of certificates; then 429."""
    engine, data_dir, settings = app_dir
    per_claim = 4
    rounds = PHOTOS_PER_CLIENT.limit // per_claim
    with client_for(settings, engine, "198.51.100.5") as c:
        for n in range(rounds + 1):
            cert = make_cert()
            sell(engine, cert)
            blobs = [png(n * per_claim + i) for i in range(per_claim)]
            form, files = claim_form(cert.human_id), photo_files(*blobs)
            r = c.post("/claims/new", data=form, files=files, follow_redirects=False)
            if n < rounds:
                assert r.status_code == 303, (n, r.text[:300])
        assert r.status_code == 429 and "too many photos were uploaded from your connection" in r.text
        assert int(r.headers["retry-after"]) > 0
        without = c.post("/claims/new", data=claim_form(cert.human_id), follow_redirects=False)
        assert without.status_code == 303  # the claim itself still opens, without photos
    assert len(stored_files(data_dir)) == rounds * per_claim


def test_photo_quota_per_certificate(app_dir: tuple[Engine, Path, Settings]) -> None:
    """One certificate may have 12 photos kept per day, whoever sends them (open, withdraw, open again)."""
    engine, data_dir, settings = app_dir
    cert = make_cert()
    sell(engine, cert)
    per_claim = 4
    rounds = PHOTOS_PER_CERTIFICATE.limit // per_claim
    for n in range(rounds + 1):
        with client_for(settings, engine, f"203.0.113.{n + 1}") as c:
            blobs = [png(n * per_claim + i) for i in range(per_claim)]
            form, files = claim_form(cert.human_id), photo_files(*blobs)
            r = c.post("/claims/new", data=form, files=files, follow_redirects=False)
            if n < rounds:
                assert r.status_code == 303, (n, r.text[:300])
                assert c.post(r.headers["location"].split("?")[0] + "/withdraw").status_code == 200
    assert r.status_code == 429 and "for this certificate" in r.text
    assert len(stored_files(data_dir)) == rounds * per_claim


def test_expiry_deletes_unreferenced_uploads_and_keeps_referenced(
    app_dir: tuple[Engine, Path, Settings],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Uploads no claim names are deleted once a day old (with half-written files); a claim's photos stay."""
    engine, data_dir, settings = app_dir
    cert = make_cert()
    sell(engine, cert)
    with client_for(settings, engine, "198.51.100.6") as c:
        r = c.post(
            "/claims/new", data=claim_form(cert.human_id), files=photo_files(png(1)), follow_redirects=False
        )
        assert r.status_code == 303
    store = FileSystemPhotoStore(data_dir / UPLOADS_DIR)
    (referenced,) = [f.digest for f in store.files()]
    # A claim whose transaction failed after its photo was written: the file exists, no row names it.
    with Session(engine) as s:
        claim_id = s.exec(select(Claim.id)).one()
        assert claim_id is not None
        orphan, young = (
            keep_photos(s, store, claim_id, [clean_photo(png(n))], UploadPurpose.BUYER)[0] for n in (2, 3)
        )
        s.rollback()
    half_written = store.root / "ab" / ".incoming-xyz"
    half_written.parent.mkdir(exist_ok=True)
    half_written.write_bytes(b"\xff\xd8 partial")
    station_photo = data_dir / PHOTOS_DIR / "cd" / ("cd" + "0" * 62)
    station_photo.parent.mkdir(parents=True)
    station_photo.write_bytes(b"never expires")
    day_ago = time.time() - DAY - 60
    for path in (store.path(referenced), store.path(orphan), half_written, station_photo):
        os.utime(path, (day_ago, day_ago))

    report = expire_unreferenced(engine, store)

    assert report.deleted == 2 and report.kept == 1
    assert store.exists(referenced) and store.exists(young) and station_photo.exists()
    assert not store.exists(orphan) and not half_written.exists()

    # The same through the command line, with a shorter age: the young orphan goes too.
    monkeypatch.setenv("INSPECTOR_DATA_DIR", str(data_dir))
    monkeypatch.setenv("DATABASE_URL", str(engine.url.render_as_string(hide_password=False)))
    get_settings.cache_clear()
    try:
        assert cli_main(["warranty", "expire-uploads", "--hours", "0"]) == 0
    finally:
        get_settings.cache_clear()
    assert "deleted 1 uploaded photos" in capsys.readouterr().out
    assert not store.exists(young) and store.exists(referenced)


def test_order_reference_guessing_is_limited_per_client(app_dir: tuple[Engine, Path, Settings]) -> None:
    """After 10 attempts in 15 minutes a client is refused (429, 'try again in N minutes'), even with the
    right reference, on the form and the API; the buyer on another connection is not locked out."""
    engine, _data_dir, settings = app_dir
    cert = make_cert()
    sell(engine, cert, order_ref="ORD-77331")
    others = [make_cert() for _ in range(3)]
    for other in others:
        sell(engine, other)
    with client_for(settings, engine, "192.0.2.66") as guesser:
        for n in range(ORDER_REF_PER_CLIENT.limit):
            target = others[n % len(others)].human_id
            r = guesser.post("/claims/new", data=claim_form(target, f"ORD-{n:05d}"))
            assert r.status_code == 403, r.text[:300]
        refused = guesser.post("/claims/new", data=claim_form(cert.human_id, "ORD-77331"))
        api = guesser.post(
            "/api/warranty/claims",
            json={"cert": cert.human_id, "order_ref": "ORD-77331", "problem": "functional_fault"},
        )
    assert refused.status_code == 429 and "too many attempts from your connection" in refused.text
    minutes = int(re.search(r"try again in (\d+) minute", refused.text).group(1))  # type: ignore[union-attr]
    # the sliding-window counter may ask for up to a window and a tenth (990 s, 17 minutes)
    assert 1 <= minutes <= 17 and int(refused.headers["retry-after"]) <= 15 * 60 * 11 // 10
    assert api.status_code == 429 and "try again in" in api.json()["detail"]
    with client_for(settings, engine, "192.0.2.10") as buyer:
        ok = buyer.post("/claims/new", data=claim_form(cert.human_id, "ORD-77331"), follow_redirects=False)
    assert ok.status_code == 303


def test_order_reference_guessing_is_limited_per_certificate(app_dir: tuple[Engine, Path, Settings]) -> None:
    """Guesses spread over many addresses still stop after 10 per certificate in 15 minutes; the refusal
    says when to try again (at most 17 minutes: the sliding-window counter may ask for one window and
    a tenth when the guesses fell early in a fixed window), and other certificates are not affected."""
    engine, _data_dir, settings = app_dir
    cert = make_cert()
    sell(engine, cert, order_ref="ORD-55120")
    other = make_cert()
    sell(engine, other, order_ref="ORD-55121")
    for n in range(ORDER_REF_PER_CERTIFICATE.limit):
        with client_for(settings, engine, f"203.0.113.{100 + n}") as c:
            assert c.post("/claims/new", data=claim_form(cert.human_id, f"ORD-{n:05d}")).status_code == 403
    with client_for(settings, engine, "203.0.113.200") as buyer:
        locked = buyer.post("/claims/new", data=claim_form(cert.human_id, "ORD-55120"))
        assert locked.status_code == 429 and "too many attempts for this certificate" in locked.text
        minutes = int(re.search(r"try again in (\d+) minute", locked.text).group(1))  # type: ignore[union-attr]
        assert 1 <= minutes <= 17
        fine = buyer.post("/claims/new", data=claim_form(other.human_id, "ORD-55121"), follow_redirects=False)
        assert fine.status_code == 303


def test_reinspection_photos_are_kept_with_the_claim(app_dir: tuple[Engine, Path, Settings]) -> None:
    """Photos staff upload with a re-inspection are re-encoded, recorded for the claim and survive expiry."""
    engine, data_dir, settings = app_dir
    token = add_user(engine, "desk", "staff")
    cert = make_cert()
    sell(engine, cert)
    ref, _secret = buyer_claim(engine, cert.human_id)
    with session_scope(engine) as s:
        for step, args in (("accept", {}), ("receive", {"identity_value": IMEI})):
            transition(s, ref, step, STAFF, **args)
    with client_for(settings, engine, "198.51.100.8") as c:
        r = c.post(
            f"/staff/claims/{ref}/act",
            data={"action": "reinspect", "grade": "C", "defects": "dent frame 2.5"},
            files=[("photos", ("r.jpg", jpeg_with_gps(), "image/jpeg"))],
            headers={"Authorization": f"Bearer {token}"},
            follow_redirects=False,
        )
    assert r.status_code == 303, r.text[:300]
    with Session(engine) as s:
        (upload,) = s.exec(select(ClaimUpload)).all()
    assert upload.purpose == UploadPurpose.REINSPECTION
    store = FileSystemPhotoStore(data_dir / UPLOADS_DIR)
    assert b"Exif" not in store.get(upload.sha256)
    day_ago = time.time() - DAY - 60
    os.utime(store.path(upload.sha256), (day_ago, day_ago))
    assert expire_unreferenced(engine, store).deleted == 0 and store.exists(upload.sha256)


def test_a_photo_store_that_cannot_be_written_refuses_the_claim_clearly(
    app_dir: tuple[Engine, Path, Settings],
) -> None:
    """When uploads cannot be written (disk full, not a folder) the buyer gets 503 with a reason to retry,
    and no claim is left open without its photos."""
    engine, data_dir, settings = app_dir
    (data_dir / UPLOADS_DIR).write_bytes(b"a file where the uploads folder should be")
    cert = make_cert()
    sell(engine, cert)
    with client_for(settings, engine, "198.51.100.9") as c:
        r = c.post("/claims/new", data=claim_form(cert.human_id), files=photo_files(png(1)))
    assert r.status_code == 503 and "cannot be saved right now" in r.text
    assert str(data_dir) not in r.text and "Errno" not in r.text
    with Session(engine) as s:
        assert s.exec(select(Claim)).all() == []


def test_the_app_sweeps_expired_uploads_when_it_starts(app_dir: tuple[Engine, Path, Settings]) -> None:
    """Starting the web app runs the sweep (then hourly): an unreferenced day-old upload is gone."""
    engine, data_dir, settings = app_dir
    store = FileSystemPhotoStore(data_dir / UPLOADS_DIR)
    orphan = store.put(clean_photo(png(5)).data)
    day_ago = time.time() - DAY - 60
    os.utime(store.path(orphan), (day_ago, day_ago))
    with client_for(settings, engine, "198.51.100.10"):
        deadline = time.monotonic() + 30
        while store.exists(orphan) and time.monotonic() < deadline:
            time.sleep(0.05)
    assert not store.exists(orphan)


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)  # the database store needs it
def test_on_the_database_store_claim_photos_are_kept_served_and_orphans_expire(
    app_dir: tuple[Engine, Path, Settings],
) -> None:
    """With ``INSPECTOR_PHOTO_STORE=database`` a buyer's claim photo goes into the database (no
    file), is served at its URL, and the sweep two days later removes a photo no claim names and
    a write that never finished, but keeps the claim's photo."""
    engine, data_dir, settings = app_dir
    settings = settings.model_copy(update={"photo_store": PhotoBackend.DATABASE})
    cert = make_cert()
    sell(engine, cert)
    with client_for(settings, engine, "198.51.100.9") as c:
        form, files = claim_form(cert.human_id), photo_files(png(1))
        r = c.post("/claims/new", data=form, files=files, follow_redirects=False)
        assert r.status_code == 303, r.text[:300]
        store = DatabasePhotoStore(engine, Shelf.UPLOADS)
        (referenced,) = [f.digest for f in store.files()]
        assert referenced is not None
        served = c.get(f"/photos/{referenced}")
        assert served.status_code == 200 and served.headers["etag"] == f'"{referenced}"'
    assert stored_files(data_dir) == []
    with Session(engine) as s:
        claim_id = s.exec(select(Claim.id)).one()
        assert claim_id is not None
        (orphan,) = keep_photos(s, store, claim_id, [clean_photo(png(2))], UploadPurpose.BUYER)
        s.rollback()
    torn = store.incoming("ab" * 32)
    torn.write(b"\xff\xd8 partial" * 40_000)  # over one chunk, never committed nor aborted

    report = expire_unreferenced(engine, store, now=datetime.now(UTC) + timedelta(days=2))

    assert report.deleted == 2 and report.kept == 1
    assert store.exists(referenced) and not store.exists(orphan)
    assert [f.digest for f in store.files()] == [referenced]
