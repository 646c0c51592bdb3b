"""The platform's sync API: stations enrol, then send their photos and certificates.

Registered only when the process runs as the platform (``--role platform``). Refusals
(``UploadRefused``, ``EnrolmentRefused``) are answered by ``inspector.web.refused``: ``RefusalOut``,
``error`` for the station's code, ``detail`` for a person.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from inspector.config import Settings
from inspector.photostore import MAX_PHOTO_BYTES, PhotoStoreError
from inspector.platform.enrolment import EnrolmentRefused, enrol
from inspector.platform.uploads import Uploader, UploadRefused, authenticate, record_photo, take_certificate
from inspector.sync.wire import (
    CERTIFICATE_PATH,
    ENROL_PATH,
    PHOTO_PATH,
    CertificateReceipt,
    EnrolGrant,
    EnrolIn,
    PhotoReceipt,
    Refusal,
    RefusalOut,
)
from inspector.web.deps import get_station_photos

# Streaming a photo in: one photo, never more than the store takes, plus headroom for framing.
PHOTO_BODY_BYTES = MAX_PHOTO_BYTES + 64 * 1024


_REFUSALS: dict[int | str, dict[str, Any]] = {
    code: {"model": RefusalOut, "description": what}
    for code, what in (
        (401, "Not signed by an enrolled station's key, stale or replayed"),
        (403, "Refused: a revoked key, a used or expired code, another station's certificate"),
        (409, "The id is taken by another content"),
        (413, "Too large"),
        (422, "Malformed, tampered, or not this platform's"),
    )
}

router = APIRouter(tags=["platform"], responses=_REFUSALS)


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _session(request: Request) -> Session:
    return Session(request.app.state.engine)


def _enrol(request: Request, body: EnrolIn) -> EnrolGrant:
    with _session(request) as session:
        for attempt in (1, 2):
            try:
                grant = enrol(session, _settings(request), body)
                session.commit()
                return grant
            except IntegrityError:  # two stations took the same status-list block at once
                session.rollback()
                if attempt == 2:
                    raise
            except EnrolmentRefused:
                session.rollback()
                raise
    raise AssertionError("unreachable")  # pragma: no cover


@router.post(ENROL_PATH, summary="Enrol a station: certify its key with a one-time code")
def post_enrol(body: EnrolIn, request: Request) -> EnrolGrant:
    return _enrol(request, body)


def _authenticate(request: Request) -> Uploader:
    with _session(request) as session:
        return authenticate(session, request.method, request.url.path, request.headers)


@router.put(
    PHOTO_PATH,
    summary="A station's photo, by its SHA-256 (streamed; the same photo twice is stored once)",
    max_body_size=PHOTO_BODY_BYTES,
)
async def put_photo(sha256: str, request: Request) -> PhotoReceipt:
    try:
        uploader = await run_in_threadpool(_authenticate, request)
        if uploader.content_sha256 != sha256:
            raise UploadRefused(422, Refusal.DIGEST_MISMATCH, "the signed digest is not the photo's name")
    except UploadRefused:
        async for _ in request.stream():  # read it all: a sender cut off mid-body never sees why
            pass
        raise
    store = get_station_photos(request)
    try:
        incoming = await run_in_threadpool(store.incoming, sha256)
    except PhotoStoreError as exc:
        raise UploadRefused(422, Refusal.MALFORMED, str(exc)) from exc
    try:  # every store call in a thread: a database store's writes are queries
        try:
            async for chunk in request.stream():
                await run_in_threadpool(incoming.write, chunk)
        except PhotoStoreError as exc:
            raise UploadRefused(413, Refusal.TOO_LARGE, str(exc)) from exc
        try:
            size = await run_in_threadpool(incoming.commit)
        except PhotoStoreError as exc:
            raise UploadRefused(422, Refusal.DIGEST_MISMATCH, str(exc)) from exc
    finally:
        await run_in_threadpool(incoming.abort)

    def note() -> bool:
        with _session(request) as session:
            return record_photo(session, uploader.station_id, sha256, size)

    new = await run_in_threadpool(note)
    return PhotoReceipt(sha256=sha256, size=size, new=new)


@router.put(
    CERTIFICATE_PATH,
    summary="A station's certificate: checked, stored once, logged; answers its inclusion proof",
)
async def put_certificate(human_id: str, request: Request) -> CertificateReceipt:
    body = await request.body()  # at most the app's body limit
    uploader = await run_in_threadpool(_authenticate, request)

    def take() -> CertificateReceipt:
        with _session(request) as session:
            return take_certificate(session, _settings(request), uploader, human_id, body)

    return await run_in_threadpool(take)
