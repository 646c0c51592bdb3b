"""Photos are stored by digest, served back intact, and bad requests get clear answers."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from inspector.config import Settings
from inspector.photostore import FileSystemPhotoStore, PhotoStoreError
from inspector.web.app import create_app

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def test_put_is_content_addressed_and_idempotent(tmp_path: Path) -> None:
    """The same bytes give the same name; the name is the SHA-256 a certificate signs."""
    store = FileSystemPhotoStore(tmp_path)
    d1 = store.put(PNG)
    assert d1 == hashlib.sha256(PNG).hexdigest() == store.put(PNG)
    assert store.get(d1) == PNG


def test_corruption_on_disk_is_detected(tmp_path: Path) -> None:
    """A photo altered on disk is refused rather than shown as the certified one."""
    store = FileSystemPhotoStore(tmp_path)
    digest = store.put(PNG)
    store.path(digest).write_bytes(PNG + b"x")
    with pytest.raises(PhotoStoreError, match="corrupt"):
        store.get(digest)


def test_bad_digest_and_oversize_are_refused(tmp_path: Path) -> None:
    """Path tricks and 50 MB uploads get a clear error and write nothing."""
    store = FileSystemPhotoStore(tmp_path)
    with pytest.raises(PhotoStoreError, match="SHA-256"):
        store.get("../../etc/passwd")
    with pytest.raises(PhotoStoreError, match="limit"):
        store.put(b"\x00" * (50 * 1024 * 1024))
    assert not any(tmp_path.rglob("*"))


def test_photo_route_serves_bytes_and_404s_unknown(tmp_path: Path) -> None:
    """Buyers' browsers fetch certified photos by digest; unknown ones are a plain 404."""
    digest = FileSystemPhotoStore(tmp_path / "photos").put(PNG)
    app = create_app(Settings(data_dir=tmp_path))
    with TestClient(app) as client:
        r = client.get(f"/photos/{digest}")
        assert r.status_code == 200 and r.content == PNG
        assert r.headers["content-type"] == "image/png"
        missing = client.get("/photos/" + "0" * 64)
        assert missing.status_code == 404 and "no photo" in missing.json()["detail"]
        assert client.get("/photos/nothex").status_code == 404


def test_a_stored_file_that_is_not_an_image_is_never_served_as_a_page(tmp_path: Path) -> None:
    """Bytes that are no known image (e.g. HTML kept before uploads were decoded) are served as a
    nosniff download, and an uploaded photo is found by the same URL as a station photo."""
    html = b"<html><script>alert(1)</script></html>"
    junk = FileSystemPhotoStore(tmp_path / "photos").put(html)
    uploaded = FileSystemPhotoStore(tmp_path / "uploads").put(PNG + b"uploaded")
    app = create_app(Settings(data_dir=tmp_path))
    with TestClient(app) as client:
        r = client.get(f"/photos/{junk}")
        assert r.status_code == 200 and r.headers["content-type"] == "application/octet-stream"
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["content-disposition"] == "attachment"
        up = client.get(f"/photos/{uploaded}")
        assert up.status_code == 200 and up.headers["content-type"] == "image/png"
        assert up.headers["x-content-type-options"] == "nosniff"
