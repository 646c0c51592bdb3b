"""A returned item re-inspected at a warehouse station reaches its claim on the platform.

The warehouse station is an enrolled station like any other: its re-inspection ends in a new
certificate that names the original (``supersedes``) and travels to the platform with its photos
through the station's outbox. When such a certificate arrives, the claim on the original that is
waiting for its item to be re-inspected takes the findings, in the same transaction.
"""

from __future__ import annotations

import logging
from typing import Any

from pydantic import ValidationError
from sqlmodel import Session

from inspector.auth.tenancy import EVERYTHING
from warranty.errors import WarrantyError
from warranty.service import Actor, find_open_claim, record_reinspection

log = logging.getLogger(__name__)

MAX_PHOTOS = 24
MAX_DEFECTS = 200


def _defects(subject: dict[str, Any]) -> list[dict[str, Any]]:
    """Defects from the signed measurements (``<side>_<angle>_<kind>``: ``{"count": n, ...}``)."""
    roles = [str(p.get("role", "")) for p in subject.get("photos") or [] if isinstance(p, dict)]
    measurements = (subject.get("grade") or {}).get("measurements") or {}
    out: list[dict[str, Any]] = []
    for key, m in measurements.items():
        parts = str(key).split("_", 2)
        if len(parts) != 3 or not isinstance(m, dict) or not isinstance(m.get("count"), int):
            continue  # a score or a summary, not a defect class
        side, angle, kind = parts
        role = f"{side}@{angle}deg"
        photo = roles.index(role) if role in roles else 0
        out += [{"kind": kind, "region": side, "photo": photo}] * m["count"]
    return out[:MAX_DEFECTS]


def record_returned_certificate(session: Session, credential: dict[str, Any]) -> str | None:
    """Hand a re-inspection certificate to the claim on the certificate it supersedes.

    Returns what happened in words (for the log), or None when the certificate re-inspects
    nothing. Runs in a savepoint: a claim that cannot take it leaves the certificate stored.
    """
    subject = credential.get("credentialSubject") or {}
    original = subject.get("supersedes")
    if not isinstance(original, str) or not original:
        return None
    claim = find_open_claim(session, original, EVERYTHING)
    if claim is None:
        return f"no open claim on {original}"
    if claim.state != "received":
        return f"claim {claim.ref} is {claim.state}, not waiting for a re-inspection"
    station = subject.get("station") or {}
    data = {
        "inspection_id": str(subject.get("inspection_id", ""))[:128],
        "certificate_human_id": str(subject.get("human_id", "")),
        "grade": str((subject.get("grade") or {}).get("grade") or "ungraded"),
        "photos": [str(p["sha256"]) for p in subject.get("photos") or [] if "sha256" in p][:MAX_PHOTOS],
        "defects": _defects(subject),
        "weight_mg": (subject.get("identity") or {}).get("weight_mg"),
        "notes": f"re-inspected at station {station.get('id', '?')}",
    }
    try:
        with session.begin_nested():
            record_reinspection(
                session, claim.ref, data, Actor(str(station.get("operator") or "station"), "operator")
            )
    except (WarrantyError, ValidationError) as exc:  # staff record it by hand; the certificate stands
        log.warning(
            "re-inspection %s not recorded on claim %s: %s", data["certificate_human_id"], claim.ref, exc
        )
        return f"claim {claim.ref} not updated: {exc}"
    log.info("re-inspection %s recorded on claim %s", data["certificate_human_id"], claim.ref)
    return f"recorded on claim {claim.ref}"
