"""Certificates that enrolled stations signed and sent here: checked, stored once, logged on arrival.

The platform is the issuer; a station signs with a key the platform's root certified for it, so
an arriving certificate is checked exactly as a buyer's verifier would check it (issuer, station
key and its binding to the station, signature), plus what only the issuer can check: its URL and
status lists are this platform's and the status slot is one the platform set aside for that
station. Arrival is idempotent: the same certificate again answers as the first time; the same
id with a different content is refused, so nothing signed can be quietly replaced.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session

from inspector.certificates import humanid
from inspector.certificates.dataintegrity import jcs
from inspector.certificates.encoding import NotIJSONError, loads_ijson
from inspector.certificates.keys import KeySet
from inspector.certificates.service import (
    STATUS_PURPOSES,
    CertificateError,
    append_to_log,
    certificate_url,
    find_row,
    inclusion_proof,
    status_list_url,
)
from inspector.certificates.tables import Certificate
from inspector.certificates.verify import Verdict, verify_credential
from inspector.config import Settings
from inspector.eventbus import EventType, publish_in


class RefusedCertificate(CertificateError):
    """An arriving certificate this platform will not keep; ``status`` and ``code`` say how to answer."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


@dataclass(frozen=True)
class Arrival:
    """A stored certificate and where it stands in the transparency log."""

    human_id: str
    url: str
    new: bool
    inclusion_proof: dict[str, Any]


_VERDICT_REFUSALS: dict[Verdict, tuple[int, str]] = {
    Verdict.malformed: (422, "malformed"),
    Verdict.tampered: (422, "tampered"),
    Verdict.unknown_key: (403, "certificate_unknown_key"),
    Verdict.key_revoked: (403, "certificate_key_revoked"),
}


def _digest(credential: Any) -> str:
    return hashlib.sha256(jcs(credential)).hexdigest()


def _status_slot(settings: Settings, credential: dict[str, Any], lists: range) -> tuple[int, int]:
    """The one (list, index) both status entries name; both lists must be this platform's."""
    entries = credential.get("credentialStatus")
    if not isinstance(entries, list) or len(entries) != len(STATUS_PURPOSES):
        raise RefusedCertificate(
            422, "malformed", "a certificate needs one revocation and one suspension entry"
        )
    slots = set()
    for entry in entries:
        purpose = entry.get("statusPurpose") if isinstance(entry, dict) else None
        if purpose not in STATUS_PURPOSES:
            raise RefusedCertificate(422, "malformed", f"unknown status purpose {purpose!r}")
        try:
            index = int(entry["statusListIndex"])
            list_no = int(str(entry["statusListCredential"]).rsplit("/", 1)[-1])
        except (KeyError, TypeError, ValueError) as exc:
            raise RefusedCertificate(422, "malformed", "a status entry has no usable list or index") from exc
        if entry["statusListCredential"] != status_list_url(settings, purpose, list_no):
            raise RefusedCertificate(422, "foreign_status_list", "its status lists are not this platform's")
        if list_no not in lists:
            raise RefusedCertificate(
                422, "foreign_status_list", "its status slot is not in a list set aside for this station"
            )
        slots.add((list_no, index))
    if len(slots) != 1:
        raise RefusedCertificate(
            422, "malformed", "its revocation and suspension entries name different slots"
        )
    return slots.pop()


def _existing(session: Session, human_id: str, credential: dict[str, Any]) -> Arrival | None:
    row = find_row(session, human_id)
    if row is None:
        return None
    if _digest(json.loads(row.credential)) != _digest(credential):
        raise RefusedCertificate(
            409,
            "conflict",
            f"certificate {human_id} is already on the platform with a different content; "
            "a signed certificate is never replaced",
        )
    proof = inclusion_proof(session, row.human_id)
    assert proof is not None  # every stored certificate is logged in the same transaction
    return Arrival(row.human_id, json.loads(row.credential)["id"], False, proof)


def receive_certificate(
    session: Session,
    settings: Settings,
    body: bytes,
    *,
    human_id: str,
    station_id: str,
    status_lists: range,
) -> Arrival:
    """Check, store and log a certificate that ``station_id`` sent (in the caller's transaction).

    Raises ``RefusedCertificate``: 422 malformed, tampered or not this platform's; 403 signed by
    an unknown or revoked key or another station's; 409 the id is taken by another content. On
    an ``IntegrityError`` (the same certificate arriving twice at once) roll back and call again.
    """
    try:
        credential = loads_ijson(body)
    except NotIJSONError as exc:
        raise RefusedCertificate(422, "malformed", f"not a JSON certificate: {exc}") from exc
    subject = credential.get("credentialSubject") if isinstance(credential, dict) else None
    if not isinstance(subject, dict) or humanid.normalize(str(subject.get("human_id", ""))) != human_id:
        raise RefusedCertificate(422, "malformed", f"the body is not certificate {human_id}")
    known = _existing(session, human_id, credential)
    if known is not None:
        return known
    if credential.get("id") != certificate_url(settings, human_id):
        raise RefusedCertificate(
            422, "foreign_issuer", "the certificate names another address than this platform"
        )
    result = verify_credential(credential, KeySet.from_db(session, settings), None)
    if result.verdict in _VERDICT_REFUSALS:
        status, code = _VERDICT_REFUSALS[result.verdict]
        raise RefusedCertificate(status, code, f"{result.headline}: {result.message}")
    if result.station_id != station_id:
        raise RefusedCertificate(
            403, "another_station", f"certificate of station {result.station_id!r}, sent by {station_id!r}"
        )
    list_no, index = _status_slot(settings, credential, status_lists)
    issued_at = datetime.fromisoformat(str(credential["validFrom"]).replace("Z", "+00:00"))
    supersedes = subject.get("supersedes")
    row = Certificate(
        human_id=human_id,
        inspection_id=str(subject.get("inspection_id", ""))[:128],
        item_kind=str(subject.get("item_kind", ""))[:16],
        station_id=station_id,
        key_fingerprint=str(result.key_fingerprint),
        issued_at=issued_at,
        credential=json.dumps(credential, ensure_ascii=False),
        status_list=list_no,
        status_index=index,
        supersedes=supersedes if isinstance(supersedes, str) else None,
    )
    session.add(row)
    session.flush()  # IntegrityError: the same id (or slot) stored meanwhile; the caller retries
    row.log_index = append_to_log(session, settings, credential)
    session.add(row)
    session.flush()
    proof = inclusion_proof(session, human_id)
    assert proof is not None
    publish_in(session, EventType.CERTIFICATE_RECEIVED, human_id=human_id, station_id=station_id)
    return Arrival(human_id, str(credential["id"]), True, proof)
