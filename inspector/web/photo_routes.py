"""Serves stored photos by digest; they are immutable, so browsers may cache them forever.

Station photos and uploaded claim photos live in two stores (uploads may expire, station
photos never do); one URL serves both. Every answer says what the bytes are and forbids the
browser to guess otherwise (``nosniff``), so a stored file can never be run as a page.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException
from fastapi.responses import Response

from inspector.config import Settings
from inspector.photostore import PHOTOS_DIR, UPLOADS_DIR, PhotoStore, PhotoStoreError
from inspector.web.deps import get_settings_dep
from inspector.web.responses import body_of, refusals

router = APIRouter(tags=["photos"])

OCTET_STREAM = "application/octet-stream"


def _media_type(data: bytes) -> str:
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return OCTET_STREAM


def _find(settings: Settings, digest: str) -> bytes:
    missing: PhotoStoreError | None = None
    for folder in (PHOTOS_DIR, UPLOADS_DIR):
        try:
            return PhotoStore(settings.data_dir / folder).get(digest)
        except PhotoStoreError as exc:
            missing = missing or exc
    assert missing is not None
    raise missing


@router.get(
    "/photos/{digest}",
    summary="A stored photo by its SHA-256",
    response_class=Response,
    responses={
        **body_of("image/jpeg", "image/png", "image/webp", "application/octet-stream"),
        **refusals(404),
        **refusals(503, html=True),
    },
)
def get_photo(digest: str, settings: Settings = Depends(get_settings_dep)) -> Response:
    try:
        data = _find(settings, digest.split(".", 1)[0].lower())
    except PhotoStoreError as exc:
        raise HTTPException(404, str(exc)) from exc
    media_type = _media_type(data)
    headers = {
        "Cache-Control": "public, max-age=31536000, immutable",
        "X-Content-Type-Options": "nosniff",
    }
    if media_type == OCTET_STREAM:
        headers["Content-Disposition"] = "attachment"
    return Response(data, media_type=media_type, headers=headers)
