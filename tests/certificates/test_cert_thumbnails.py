"""Thumbnails of a certificate's photos: small, only of that certificate's photos."""

from __future__ import annotations

import cv2
import numpy as np
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from inspector.certificates.testing import issue_sample_certificate
from inspector.config import Settings
from inspector.db import session_scope
from inspector.photostore import PHOTOS_DIR, FileSystemPhotoStore


def test_a_thumbnail_is_a_small_jpeg_of_the_signed_photo_and_nothing_else(
    client: TestClient, engine: Engine, settings: Settings
) -> None:
    """A 1280 px frame comes back 480 px wide (the defect overlay when there is one); an index the
    certificate does not have, or a photo the station never stored, is a 404."""
    store = FileSystemPhotoStore(settings.data_dir / PHOTOS_DIR)
    frame = np.full((720, 1280, 3), 90, np.uint8)
    photo = store.put(bytes(cv2.imencode(".jpg", frame)[1]))
    marked = store.put(
        bytes(cv2.imencode(".png", cv2.circle(frame.copy(), (640, 360), 40, (0, 0, 255), 6))[1])
    )
    with session_scope(engine) as session:
        hid = issue_sample_certificate(
            session,
            settings,
            photos=[
                {"sha256": photo, "overlay_sha256": marked, "role": "screen@0deg"},
                {"sha256": "ef" * 32, "role": "back@180deg"},  # signed, but not stored here
            ],
        ).human_id
    thumb = client.get(f"/c/{hid}/photos/0/thumb.jpg")
    assert thumb.status_code == 200 and thumb.headers["content-type"] == "image/jpeg"
    image = cv2.imdecode(np.frombuffer(thumb.content, np.uint8), cv2.IMREAD_COLOR)
    assert image.shape[:2] == (270, 480)
    redness = image[:, :, 2].astype(int) - image[:, :, 1]
    assert redness.max() > 80  # the overlay's red ring, not the plain grey frame
    assert client.get(f"/c/{hid}/photos/1/thumb.jpg").status_code == 404
    assert client.get(f"/c/{hid}/photos/2/thumb.jpg").status_code == 404
    assert client.get("/c/NOSUCHCERT/photos/0/thumb.jpg").status_code == 404
