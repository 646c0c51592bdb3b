"""Serves stored photos by digest; they are immutable, so browsers may cache them forever."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException
from fastapi.responses import Response

from inspector.config import Settings
from inspector.photostore import PhotoStore, PhotoStoreError
from inspector.web.deps import get_settings_dep
from inspector.web.responses import body_of, refusals

router = APIRouter(tags=["photos"])


def _sniff(data: bytes) -> str:
    if data.startswith(b"\x89PNG"):
        return "image/png"
    if data.startswith(b"\xff\xd8"):
        return "image/jpeg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return "application/octet-stream"


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
    store = PhotoStore(settings.data_dir / "photos")
    try:
        data = store.get(digest.split(".", 1)[0].lower())
    except PhotoStoreError as exc:
        raise HTTPException(404, str(exc)) from exc
    return Response(
        data, media_type=_sniff(data), headers={"Cache-Control": "public, max-age=31536000, immutable"}
    )
