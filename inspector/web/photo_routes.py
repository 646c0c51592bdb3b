"""Serves stored photos by digest, streamed; they are immutable, so browsers and CDNs cache them forever.

Station photos and uploaded claim photos live in two stores (uploads may expire, station
photos never do); one URL serves both. The body is streamed from the store chunk by chunk with
its ``Content-Length`` known up front, for either backend: a ``FileResponse`` would skip the
re-hash that keeps a photo corrupted in the store from being served whole (the reader holds the
last chunk back until the digest matched). The ETag is the digest itself. Every answer says what
the bytes are and forbids the browser to guess otherwise (``nosniff``), so a stored file can
never be run as a page.
"""

from __future__ import annotations

import itertools

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import Response, StreamingResponse

from inspector.photostore import PhotoReader, PhotoStore, PhotoStoreError, Shelf
from inspector.web.deps import photo_stores
from inspector.web.responses import body_of, refusals

router = APIRouter(tags=["photos"])

OCTET_STREAM = "application/octet-stream"
IMMUTABLE = "public, max-age=31536000, immutable"


def _media_type(data: bytes) -> str:
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return OCTET_STREAM


def _find(stores: dict[Shelf, PhotoStore], digest: str) -> PhotoReader:
    missing: PhotoStoreError | None = None
    for shelf in (Shelf.STATION, Shelf.UPLOADS):
        try:
            return stores[shelf].open(digest)
        except PhotoStoreError as exc:
            missing = missing or exc
    assert missing is not None
    raise missing


@router.get(
    "/photos/{digest}",
    summary="A stored photo by its SHA-256 (streamed; ETag is the digest)",
    response_class=Response,
    responses={
        **body_of("image/jpeg", "image/png", "image/webp", "application/octet-stream"),
        304: {"description": "The client's copy (If-None-Match) is this photo"},
        **refusals(404),
        **refusals(503, html=True),
    },
)
def get_photo(
    digest: str, request: Request, stores: dict[Shelf, PhotoStore] = Depends(photo_stores)
) -> Response:
    digest = digest.split(".", 1)[0].lower()
    etag = f'"{digest}"'
    headers = {"Cache-Control": IMMUTABLE, "ETag": etag, "X-Content-Type-Options": "nosniff"}
    try:
        reader = _find(stores, digest)
    except PhotoStoreError as exc:
        raise HTTPException(404, str(exc)) from exc
    if etag in request.headers.get("if-none-match", ""):
        reader.close()
        return Response(status_code=304, headers=headers)
    chunks = iter(reader)
    try:  # the first chunk decides the media type, before the status line is sent
        first = next(chunks, b"")
    except PhotoStoreError as exc:  # a photo of one chunk, corrupt in the store
        raise HTTPException(404, str(exc)) from exc
    media_type = _media_type(first)
    if media_type == OCTET_STREAM:
        headers["Content-Disposition"] = "attachment"
    headers["Content-Length"] = str(reader.size)
    return StreamingResponse(itertools.chain([first], chunks), media_type=media_type, headers=headers)
