"""Taking a station's uploads: who sent it (a signed request), photos by digest, certificates.

Every refusal is an ``UploadRefused`` carrying a ``Refusal`` kind, so the station can tell "this
station may send nothing now" (a revoked key, a clock far off) from "this item is refused".
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from inspector.certificates import humanid
from inspector.certificates.dataintegrity import utc_timestamp
from inspector.certificates.encoding import ed25519_from_multikey
from inspector.certificates.keys import find_key
from inspector.certificates.received import RefusedCertificate, receive_certificate
from inspector.config import Settings
from inspector.platform.tables import EnrolledStation, ReceivedPhoto, SeenNonce
from inspector.refusal import Refused
from inspector.sync.wire import (
    CLOCK_SKEW,
    H_CONTENT,
    H_DATE,
    H_KEY,
    H_NONCE,
    H_SIGNATURE,
    H_STATION,
    CertificateReceipt,
    Refusal,
    SignedRequest,
    check_signature,
)
from warranty.returns import record_returned_certificate

REENROL = "enrol the station again with a new code from the platform admin"


class UploadRefused(Refused):
    """An upload the platform will not take; ``refusal`` is what the station reacts to."""

    def __init__(self, status: int, refusal: Refusal, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.refusal = refusal
        self.code = refusal.value


@dataclass(frozen=True)
class Uploader:
    """An authenticated station, the status lists set aside for it, what it declared of its body."""

    station_id: str
    status_lists: range
    content_sha256: str


def _now() -> datetime:
    return datetime.now(UTC)


def authenticate(session: Session, method: str, path: str, headers: Any) -> Uploader:
    """Check a signed upload request and spend its nonce (commits; raises ``UploadRefused``)."""
    values = [headers.get(h) for h in (H_STATION, H_KEY, H_DATE, H_NONCE, H_CONTENT, H_SIGNATURE)]
    if not all(isinstance(v, str) and v for v in values) or len(values[3]) > 64:
        raise UploadRefused(401, Refusal.UNSIGNED, "uploads must be signed by an enrolled station's key")
    station_id, key_fp, date, nonce, content, signature = values
    signed = SignedRequest(method, path, station_id, key_fp, date, nonce, content.lower())
    key = find_key(session, key_fp)
    if key is None or key.role != "station" or key.station_id != station_id:
        raise UploadRefused(
            401,
            Refusal.UNKNOWN_STATION_KEY,
            f"this platform has no key {key_fp[:16]} for station {station_id!r}",
        )
    public = Ed25519PublicKey.from_public_bytes(ed25519_from_multikey(key.fingerprint))
    if not check_signature(public, signature, signed.statement()):
        raise UploadRefused(401, Refusal.BAD_SIGNATURE, "the request's signature does not verify")
    if key.revoked_at is not None:
        why = f" ({key.revoke_reason})" if key.revoke_reason else ""
        raise UploadRefused(
            403,
            Refusal.STATION_KEY_REVOKED,
            f"the key of station {station_id} was revoked on {utc_timestamp(key.revoked_at)}{why}: the "
            f"platform refuses its uploads; the station keeps its certificates; {REENROL}",
        )
    if key.retired_at is not None:
        raise UploadRefused(
            403,
            Refusal.STATION_KEY_RETIRED,
            f"station {station_id} was enrolled again with another key; send with that key, or {REENROL}",
        )
    sent = signed.sent_at()
    if sent is None or abs(_now() - sent) > CLOCK_SKEW:
        raise UploadRefused(
            401,
            Refusal.STALE,
            f"the request is dated {date}, more than {int(CLOCK_SKEW.total_seconds() // 60)} minutes from "
            "the platform's clock: a replay, or the station's clock is wrong",
        )
    station = session.get(EnrolledStation, station_id)
    if station is None:  # keys certified outside enrolment (``inspector keys register``) upload nothing
        raise UploadRefused(401, Refusal.UNKNOWN_STATION_KEY, f"station {station_id!r} is not enrolled here")
    session.execute(delete(SeenNonce).where(col(SeenNonce.seen_at) < _now() - 2 * CLOCK_SKEW))
    session.add(SeenNonce(nonce=nonce, station_id=station_id))
    try:
        session.commit()
    except IntegrityError as exc:
        session.rollback()
        raise UploadRefused(401, Refusal.REPLAYED, "this request was received before (a replay)") from exc
    first, count = station.status_list_first, station.status_list_count
    return Uploader(station_id, range(first, first + count), signed.content_sha256)


def record_photo(session: Session, station_id: str, sha256: str, size: int) -> bool:
    """Note a stored photo (commits); False when the platform had it already."""
    if session.get(ReceivedPhoto, sha256) is not None:
        return False
    session.add(ReceivedPhoto(sha256=sha256, size=size, station_id=station_id))
    try:
        session.commit()
    except IntegrityError:  # the same photo arrived twice at once: stored once all the same
        session.rollback()
        return False
    return True


def take_certificate(
    session: Session, settings: Settings, uploader: Uploader, human_id: str, body: bytes
) -> CertificateReceipt:
    """Store a certificate the uploader sent (commits) and answer with its place in the log."""
    if hashlib.sha256(body).hexdigest() != uploader.content_sha256:
        raise UploadRefused(422, Refusal.DIGEST_MISMATCH, "the body is not the one the request signed")
    hid = humanid.normalize(human_id)
    if hid is None:
        raise UploadRefused(422, Refusal.MALFORMED, "not a certificate id")
    for attempt in (1, 2):
        try:
            arrival = receive_certificate(
                session,
                settings,
                body,
                human_id=hid,
                station_id=uploader.station_id,
                status_lists=uploader.status_lists,
            )
            if arrival.new:  # a warehouse station's re-inspection: the claim on the original takes it
                record_returned_certificate(session, json.loads(body))
            row = session.get(EnrolledStation, uploader.station_id)
            if row is not None:
                row.last_upload_at = _now()
                session.add(row)
            session.commit()
        except RefusedCertificate as exc:
            session.rollback()
            raise UploadRefused(exc.status, Refusal(exc.code), str(exc)) from exc
        except IntegrityError:
            session.rollback()  # the same certificate arrived twice at once: the second call finds it
            if attempt == 2:
                raise
            continue
        return CertificateReceipt(
            human_id=arrival.human_id,
            url=arrival.url,
            new=arrival.new,
            inclusion_proof=arrival.inclusion_proof,
        )
    raise AssertionError("unreachable")  # pragma: no cover
