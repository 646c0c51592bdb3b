"""Small JPEG copies of a certificate's photos, so the verify page stays light on a phone.

A station photo is a camera frame and its defect overlay a PNG of the same size (about 1 MB):
four of them would outweigh the page many times over on a mobile connection. The page shows
these thumbnails and links each to the full-size signed photo.
"""

from __future__ import annotations

from functools import lru_cache

import cv2
import numpy as np

from inspector.photostore import PhotoStore

THUMB_WIDTH_PX = 480
JPEG_QUALITY = 82


class NoThumbnail(LookupError):
    """The photo is not stored here, or its bytes are not an image."""


@lru_cache(maxsize=64)  # a photo never changes under its digest
def _scaled(store: PhotoStore, digest: str) -> bytes:
    # One photo whole in memory: the decoder needs all of it (a station frame, a few MB at most).
    image = cv2.imdecode(np.frombuffer(store.get(digest), np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        raise NoThumbnail(f"photo {digest[:12]} is not an image")
    height, width = image.shape[:2]
    if width > THUMB_WIDTH_PX:
        size = (THUMB_WIDTH_PX, max(1, round(height * THUMB_WIDTH_PX / width)))
        image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    if not ok:
        raise NoThumbnail(f"photo {digest[:12]} could not be encoded")
    return bytes(buf.tobytes())


def thumbnail(store: PhotoStore, digest: str) -> bytes:
    """A JPEG at most ``THUMB_WIDTH_PX`` wide of the stored photo ``digest``."""
    return _scaled(store, digest)
