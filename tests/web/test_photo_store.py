"""A photo store that cannot write or read answers 503 and keeps nothing of the request."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import textwrap
from pathlib import Path

import cv2
import numpy as np
from web_edge import Edge

from inspector.photostore import UPLOADS_DIR
from inspector.web.responses import PHOTO_STORE_UNAVAILABLE


def _jpeg(shade: int) -> bytes:
    ok, buf = cv2.imencode(".jpg", np.full((48, 64, 3), shade, np.uint8))
    assert ok
    return bytes(buf.tobytes())


def _files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()] if root.is_dir() else []


def test_claim_photos_on_an_unwritable_store_answer_503_and_open_no_claim(edge: Edge) -> None:
    """A buyer's claim with a photo, while the store cannot be written: 503 page, no claim, no path shown."""
    hid = edge.issue()
    staff = edge.auth("staff")
    sale = {"cert": hid, "order_ref": "O-1", "price_minor": 100, "currency": "CNY"}
    assert edge.client.post("/api/warranty/sales", json=sale, headers=staff).status_code == 201
    uploads = edge.settings.data_dir / UPLOADS_DIR
    uploads.parent.mkdir(parents=True, exist_ok=True)
    uploads.write_text("not a directory: the store cannot create its folders")
    form = {"cert": hid, "order_ref": "O-1", "problem": "functional_fault", "description": "screen dead"}
    r = edge.client.post(
        "/claims/new",
        data=form,
        files=[("photos", ("crack.jpg", _jpeg(90), "image/jpeg"))],
        headers={"accept": "text/html"},
    )
    assert r.status_code == 503, r.text[:300]
    assert r.headers["content-type"].startswith("text/html")
    assert "try again" in r.text and str(edge.settings.data_dir) not in r.text
    assert edge.client.get("/api/warranty/claims", headers=staff).json()["total"] == 0


def test_reading_from_a_broken_store_is_503_not_500(edge: Edge) -> None:
    """A photo whose file cannot be read (a folder in its place): 503, a page for browsers, JSON else."""
    digest = hashlib.sha256(b"x").hexdigest()
    (edge.settings.data_dir / "photos" / digest[:2] / digest).mkdir(parents=True)
    page = edge.client.get(f"/photos/{digest}", headers={"accept": "text/html"})
    assert page.status_code == 503 and page.headers["content-type"].startswith("text/html")
    assert str(edge.settings.data_dir) not in page.text
    r = edge.client.get(f"/photos/{digest}")
    assert r.status_code == 503
    assert r.json() == {"detail": PHOTO_STORE_UNAVAILABLE}


def test_a_write_cut_short_by_the_disk_leaves_no_partial_photo(tmp_path: Path) -> None:
    """The disk refusing a write midway (file size limit, as a full disk would) leaves no file behind."""
    script = textwrap.dedent(
        f"""
        import resource, signal
        from pathlib import Path
        from inspector.photostore import FileSystemPhotoStore, PhotoStoreUnavailable
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        store = FileSystemPhotoStore(Path({str(tmp_path / "photos")!r}))
        store.put(b"small enough")
        resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, resource.RLIM_INFINITY))
        try:
            store.put(bytes(range(256)) * 1024)
        except PhotoStoreUnavailable as exc:
            print("refused:", exc)
        """
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "refused: photo storage unavailable", out.stderr
    assert [p.read_bytes() for p in _files(tmp_path / "photos")] == [b"small enough"]
