"""Reading the warranty HTML forms: size limits, uploaded photos, fields, the re-inspection form.

Photos are read into memory, decoded and re-encoded (``inspector.photoclean``) but not stored:
the handler stores them with ``warranty.uploads.keep_photos`` once the claim checks out.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from pydantic import ValidationError
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException

from inspector.i18n import N_
from inspector.photoclean import MAX_PIXELS, CleanPhoto, PhotoRejected, clean_photo
from inspector.web.params import unstorable_text
from warranty.certificate_lookup import lookup
from warranty.errors import Invalid, NotFound, TooLarge
from warranty.evidence import Reinspection, parse_defects
from warranty.messages import Message

MAX_CLAIM_PHOTO_BYTES = 8 * 1024 * 1024
MAX_CLAIM_PHOTOS = 4
# Body limit of the routes that take photos (``max_body_size=``), counted while the body is read.
MAX_FORM_BYTES = MAX_CLAIM_PHOTOS * MAX_CLAIM_PHOTO_BYTES + 256 * 1024
MAX_CLAIM_PHOTO_MB = MAX_CLAIM_PHOTO_BYTES // (1024 * 1024)
# What ``inspector.photoclean`` says about a file it refuses, as this catalogue's messages.
_PHOTO_PROBLEMS = {
    "this file is not a JPEG, PNG or WebP photo": N_("this file is not a JPEG, PNG or WebP photo"),
    "this photo is damaged or incomplete; take or export it again": N_(
        "this photo is damaged or incomplete; take or export it again"
    ),
    f"the photo has more than {MAX_PIXELS // 1_000_000} megapixels": N_(
        "the photo has more than %(megapixels)s megapixels"
    ),
}


async def read_form(request: Request) -> FormData:
    """The form, parsed within the route's body limit (a body over it is refused while it arrives).

    A body declared too large (Content-Length) is answered 413 by the framework before this runs;
    one that grows too large while it arrives (chunked) gets the form again with the reason."""
    try:
        return await request.form(max_files=MAX_CLAIM_PHOTOS + 8, max_fields=64)
    except HTTPException as exc:
        if exc.status_code == 413:
            raise TooLarge(
                N_("the upload is too large: photos may be at most %(mb)s MB each, %(count)s photos"),
                mb=MAX_CLAIM_PHOTO_MB,
                count=MAX_CLAIM_PHOTOS,
            ) from exc
        raise


async def read_photos(form: FormData, field: str) -> list[CleanPhoto]:
    """The uploaded photos, decoded and re-encoded; 413 for one over the limit, 422 for a non-photo."""
    files = [f for f in form.getlist(field) if isinstance(f, UploadFile) and f.filename]
    if len(files) > MAX_CLAIM_PHOTOS:
        raise Invalid(N_("at most %(count)s photos"), count=MAX_CLAIM_PHOTOS)
    photos: list[CleanPhoto] = []
    for number, f in enumerate(files, start=1):
        data = await f.read(MAX_CLAIM_PHOTO_BYTES + 1)
        if len(data) > MAX_CLAIM_PHOTO_BYTES:
            raise TooLarge(
                N_("photo %(number)s is larger than %(mb)s MB; send a smaller photo"),
                number=number,
                mb=MAX_CLAIM_PHOTO_MB,
            )
        try:
            photos.append(await run_in_threadpool(clean_photo, data))
        except PhotoRejected as exc:
            raise Invalid(
                N_("photo %(number)s: %(problem)s"), number=number, problem=_photo_problem(exc)
            ) from exc
    return photos


def _photo_problem(exc: PhotoRejected) -> Message | str:
    """photoclean's reason in the reader's language when it is one this catalogue knows."""
    said = str(exc)
    if said in _PHOTO_PROBLEMS:
        return Message(_PHOTO_PROBLEMS[said], {"megapixels": MAX_PIXELS // 1_000_000})
    return said


def field(form: FormData, key: str) -> str:
    """A text field, "" when absent (or a file); text no database can store is refused (422)."""
    v = form.get(key)
    if not isinstance(v, str):
        return ""
    reason = unstorable_text(v)
    if reason:
        raise Invalid(N_("%(field)s: %(problem)s"), field=key, problem=reason)
    return v


def int_or_none(value: str, what: str) -> int | None:
    value = value.strip()
    if not value:
        return None
    try:
        return int(value)
    except ValueError as exc:
        raise Invalid(N_("%(what)s must be a whole number"), what=what) from exc


async def reinspection_from_form(session: Session, data: FormData) -> tuple[Reinspection, list[CleanPhoto]]:
    """Staff enter a re-inspection by the new certificate's id (its grade, photos and defects are
    taken from it) and/or by hand: grade, defects one per line ``kind region [size_mm]``, photos.

    Returns the re-inspection and the uploaded photos it names, which the caller keeps
    (``keep_photos``) once the transition is accepted."""
    new_cert_id = field(data, "new_cert").strip().upper()
    grade = field(data, "grade").strip()
    uploaded = await read_photos(data, "photos")
    photos = [p.sha256 for p in uploaded]
    defects: list[dict[str, Any]] = []
    for number, line in enumerate(field(data, "defects").splitlines(), start=1):
        parts = line.split()
        if not parts:
            continue
        d: dict[str, Any] = {"kind": parts[0][:40], "region": (parts[1] if len(parts) > 1 else "")[:40]}
        if len(parts) > 2:
            try:
                d["size_mm"] = float(parts[2])
            except ValueError as exc:
                raise Invalid(
                    N_("defect line %(number)s: the size must be a number of millimetres"), number=number
                ) from exc
        defects.append(d)
    if new_cert_id:
        new = lookup(session, new_cert_id)
        if new is None:
            raise NotFound(
                N_("there is no certificate %(cert)s (the re-inspection's certificate)"), cert=new_cert_id
            )
        grade = grade or new.grade
        photos = photos or new.photos
        defects = defects or new.defects
    try:
        reinspection = Reinspection(
            inspection_id=field(data, "inspection_id").strip() or (new_cert_id and f"cert:{new_cert_id}"),
            certificate_human_id=new_cert_id,
            grade=grade,
            photos=photos,
            defects=parse_defects(defects),
            notes=field(data, "note")[:2000],
        )
    except ValidationError as exc:
        raise Invalid(N_("re-inspection needs a grade (or the re-inspection certificate id)")) from exc
    return reinspection, uploaded
