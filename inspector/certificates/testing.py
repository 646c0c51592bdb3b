"""Sample certificates for other components' tests (warranty, station): realistic, valid, signed."""

from __future__ import annotations

import uuid
from typing import Any, Literal

from sqlmodel import Session

from inspector.certificates.service import CertificateRequest, IssuedCertificate, issue_certificate
from inspector.config import Settings

SAMPLE_IMEIS = ["356938035643809", "356938035643817"]
SAMPLE_SERIAL = "R58N12ABCDE"


def sample_request(
    kind: Literal["phone", "jewelry"] = "phone", *, station_id: str = "station-1", **overrides: Any
) -> CertificateRequest:
    at = "2026-11-25T10:00:00Z"
    if kind == "phone":
        identity: dict[str, Any] = {
            "make": "Samsung",
            "model": "Galaxy S21",
            "storage_gb": 128,
            "imeis": list(SAMPLE_IMEIS),
            "serial": SAMPLE_SERIAL,
        }
        checks = [
            {"name": "screen", "status": "pass", "detail": "no dead pixels", "by": "camera", "at": at},
            {"name": "battery_health", "status": "pass", "detail": "91 %", "by": "adb", "at": at},
            {"name": "frp_lock", "status": "pass", "detail": "not locked", "by": "adb", "at": at},
            {"name": "buttons", "status": "unknown", "detail": "rig not fitted", "by": "rig", "at": at},
        ]
        grade = {
            "grade": "B",
            "scale": "A-D",
            "reasons": [
                "light scratches on back glass",
                "screen flawless",
                "not reliably detected by this model (share found in tests): chips/dents 0 %",
            ],
            "measurements": {"longest_scratch_um": 4200, "battery_health_pct": 91},
        }
    else:
        identity = {"weight_mg": 5230, "metal": "18k gold", "hallmark": "750", "stones": "none"}
        checks = [
            {"name": "weight", "status": "pass", "detail": "5230 mg", "by": "scale", "at": at},
            {"name": "hallmark", "status": "pass", "detail": "750 visible", "by": "camera", "at": at},
        ]
        grade = {
            "grade": "A",
            "scale": "A-D",
            "reasons": ["no visible wear"],
            "measurements": {"weight_mg": 5230},
        }
    fields: dict[str, Any] = {
        "inspection_id": f"insp-{uuid.uuid4().hex[:12]}",
        "item_kind": kind,
        "identity": identity,
        "checks": checks,
        "grade": grade,
        "photos": [{"sha256": "ab" * 32, "role": "back"}, {"sha256": "cd" * 32, "role": "screen"}],
        "station_id": station_id,
        "operator": "demo-operator",
        "model_versions": {"grader": "phone-wear-1.0"},
        "warranty": {"plan_id": "standard-180", "days": 180},
    }
    fields.update(overrides)
    return CertificateRequest(**fields)


def issue_sample_certificate(
    session: Session, settings: Settings, kind: Literal["phone", "jewelry"] = "phone", **overrides: Any
) -> IssuedCertificate:
    """Issue (and flush, not commit) a sample certificate; IMEIs are ``SAMPLE_IMEIS``."""
    return issue_certificate(session, sample_request(kind, **overrides), settings=settings)
