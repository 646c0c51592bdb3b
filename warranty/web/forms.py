"""Reading the warranty HTML forms: size limits, uploaded photos, fields, the re-inspection form."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from pydantic import ValidationError
from sqlmodel import Session
from starlette.datastructures import FormData, UploadFile

from inspector.config import Settings
from inspector.photostore import PhotoStore
from inspector.web.params import unstorable_text
from warranty.certificate_lookup import lookup
from warranty.errors import Invalid, NotFound, TooLarge
from warranty.evidence import Reinspection, parse_defects

MAX_CLAIM_PHOTO_BYTES = 8 * 1024 * 1024
MAX_CLAIM_PHOTOS = 4
# Whole request limit, checked from Content-Length before the body is parsed.
MAX_FORM_BYTES = MAX_CLAIM_PHOTOS * MAX_CLAIM_PHOTO_BYTES + 256 * 1024


async def read_form(request: Request) -> FormData:
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > MAX_FORM_BYTES:
        raise TooLarge(
            f"the upload is {int(length) / 1e6:.1f} MB; photos may be at most "
            f"{MAX_CLAIM_PHOTO_BYTES // (1024 * 1024)} MB each, {MAX_CLAIM_PHOTOS} photos"
        )
    return await request.form(max_files=MAX_CLAIM_PHOTOS + 8, max_fields=64)


async def store_photos(form: FormData, field: str, settings: Settings) -> list[str]:
    """Store uploaded photos; refuse (413) any over the limit, and anything that is not an image."""
    files = [f for f in form.getlist(field) if isinstance(f, UploadFile) and f.filename]
    if len(files) > MAX_CLAIM_PHOTOS:
        raise Invalid(f"at most {MAX_CLAIM_PHOTOS} photos")
    blobs: list[bytes] = []
    for f in files:
        data = await f.read(MAX_CLAIM_PHOTO_BYTES + 1)
        if len(data) > MAX_CLAIM_PHOTO_BYTES:
            raise TooLarge(
                f"photo {f.filename!r} is larger than {MAX_CLAIM_PHOTO_BYTES // (1024 * 1024)} MB; "
                "send a smaller photo"
            )
        if not (data.startswith(b"\x89PNG") or data.startswith(b"\xff\xd8") or data[8:12] == b"WEBP"):
            raise Invalid(f"{f.filename!r} is not a JPEG, PNG or WebP photo")
        blobs.append(data)
    store = PhotoStore(settings.data_dir / "photos")
    return store.put_all(blobs)  # all or none: a full disk keeps no orphan from this request


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
        raise Invalid(f"{what} must be a whole number, got {value!r}") from exc


async def reinspection_from_form(session: Session, data: FormData, settings: Settings) -> Reinspection:
    """Staff enter a re-inspection by the new certificate's id (its grade, photos and defects are
    taken from it) and/or by hand: grade, defects one per line ``kind region [size_mm]``, photos."""
    new_cert_id = field(data, "new_cert").strip().upper()
    grade = field(data, "grade").strip()
    photos = await store_photos(data, "photos", settings)
    defects: list[dict[str, Any]] = []
    for line in field(data, "defects").splitlines():
        parts = line.split()
        if not parts:
            continue
        d: dict[str, Any] = {"kind": parts[0][:40], "region": (parts[1] if len(parts) > 1 else "")[:40]}
        if len(parts) > 2:
            try:
                d["size_mm"] = float(parts[2])
            except ValueError as exc:
                raise Invalid(f"defect line {line!r}: size must be a number of millimetres") from exc
        defects.append(d)
    if new_cert_id:
        new = lookup(session, new_cert_id)
        if new is None:
            raise NotFound(f"there is no certificate {new_cert_id} (the re-inspection's certificate)")
        grade = grade or new.grade
        photos = photos or new.photos
        defects = defects or new.defects
    try:
        return Reinspection(
            inspection_id=field(data, "inspection_id").strip() or (new_cert_id and f"cert:{new_cert_id}"),
            certificate_human_id=new_cert_id,
            grade=grade,
            photos=photos,
            defects=parse_defects(defects),
            notes=field(data, "note")[:2000],
        )
    except ValidationError as exc:
        raise Invalid("re-inspection needs a grade (or the re-inspection certificate id)") from exc
