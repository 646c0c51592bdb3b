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

from inspector.photoclean import CleanPhoto, PhotoRejected, clean_photo
from inspector.web.params import unstorable_text
from warranty.certificate_lookup import lookup
from warranty.errors import Invalid, NotFound, TooLarge
from warranty.evidence import Reinspection, parse_defects

MAX_CLAIM_PHOTO_BYTES = 8 * 1024 * 1024
MAX_CLAIM_PHOTOS = 4
# Body limit of the routes that take photos (``max_body_size=``), counted while the body is read.
MAX_FORM_BYTES = MAX_CLAIM_PHOTOS * MAX_CLAIM_PHOTO_BYTES + 256 * 1024
_TOO_LARGE = (
    f"the upload is too large: photos may be at most {MAX_CLAIM_PHOTO_BYTES // (1024 * 1024)} MB each, "
    f"{MAX_CLAIM_PHOTOS} photos"
)


async def read_form(request: Request) -> FormData:
    """The form, parsed within the route's body limit (a body over it is refused while it arrives).

    A body declared too large (Content-Length) is answered 413 by the framework before this runs;
    one that grows too large while it arrives (chunked) gets the form again with the reason."""
    try:
        return await request.form(max_files=MAX_CLAIM_PHOTOS + 8, max_fields=64)
    except HTTPException as exc:
        if exc.status_code == 413:
            raise TooLarge(_TOO_LARGE) from exc
        raise


async def read_photos(form: FormData, field: str) -> list[CleanPhoto]:
    """The uploaded photos, decoded and re-encoded; 413 for one over the limit, 422 for a non-photo."""
    files = [f for f in form.getlist(field) if isinstance(f, UploadFile) and f.filename]
    if len(files) > MAX_CLAIM_PHOTOS:
        raise Invalid(f"at most {MAX_CLAIM_PHOTOS} photos")
    photos: list[CleanPhoto] = []
    for number, f in enumerate(files, start=1):
        data = await f.read(MAX_CLAIM_PHOTO_BYTES + 1)
        if len(data) > MAX_CLAIM_PHOTO_BYTES:
            raise TooLarge(
                f"photo {number} is larger than {MAX_CLAIM_PHOTO_BYTES // (1024 * 1024)} MB; "
                "send a smaller photo"
            )
        try:
            photos.append(await run_in_threadpool(clean_photo, data))
        except PhotoRejected as exc:
            raise Invalid(f"photo {number}: {exc}") from exc
    return photos


def field(form: FormData, key: str) -> str:
    """A text field, "" when absent (or a file); text no database can store is refused (422)."""
    v = form.get(key)
    if not isinstance(v, str):
        return ""
    reason = unstorable_text(v)
    if reason:
        raise Invalid(f"{key}: {reason}")
    return v


def int_or_none(value: str, what: str) -> int | None:
    value = value.strip()
    if not value:
        return None
    try:
        return int(value)
    except ValueError as exc:
        raise Invalid(f"{what} must be a whole number") from exc


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
                raise Invalid(f"defect line {number}: the size must be a number of millimetres") from exc
        defects.append(d)
    if new_cert_id:
        new = lookup(session, new_cert_id)
        if new is None:
            raise NotFound(f"there is no certificate {new_cert_id} (the re-inspection's certificate)")
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
        raise Invalid("re-inspection needs a grade (or the re-inspection certificate id)") from exc
    return reinspection, uploaded
