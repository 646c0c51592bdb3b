"""Sample certificates for other components' tests (warranty, station): realistic, valid, signed.

The samples carry what a station really signs (``inspector.station.certificate_requests``): every
step of the flow as a check, with its step key, label and summary (internal ones included, so a page can be
shown to leave them out), and the grader's measurements per photo and defect class.
"""

from __future__ import annotations

import uuid
from typing import Any, Literal

from sqlmodel import Session

from inspector.certificates.service import CertificateRequest, IssuedCertificate, issue_certificate
from inspector.config import Settings

SAMPLE_IMEIS = ["356938035643809", "356938035643817"]
SAMPLE_SERIAL = "R58N12ABCDE"
SAMPLE_WEIGHT_MG = 5230
AT = "2026-11-25T10:00:00Z"

CAVEAT = "not reliably detected by this model (share found in tests): scratches 15 %, chips/dents 0 %"


def measured(count: int = 0, length_um: int = 0, area_um2: int = 0) -> dict[str, int]:
    """One defect class on one photo, as the station signs it."""
    return {"count": count, "total_length_um": length_um, "total_area_um2": area_um2}


def phone_measurements(**found: dict[str, int]) -> dict[str, Any]:
    """Screen and back photo of a phone: every class measured, ``found`` (``back_180_scratch=...``)
    where something was."""
    out: dict[str, Any] = {}
    for photo, score in (("screen_0", 4), ("back_180", 61)):
        for cls in ("crack", "scratch", "chip"):
            out[f"{photo}_{cls}"] = found.get(f"{photo}_{cls}", measured())
        out[f"{photo}_damage_score_pct"] = score
    return out


def jewelry_measurements(**found: dict[str, int]) -> dict[str, Any]:
    """Four turntable photos of a piece: 4 x 5 classes, most of them zero (``top_90_dent=...``)."""
    out: dict[str, Any] = {}
    for angle in (0, 90, 180, 270):
        for cls in ("scratch", "dent", "missing_stone", "loose_stone", "tarnish"):
            out[f"top_{angle}_{cls}"] = found.get(f"top_{angle}_{cls}", measured())
        out[f"top_{angle}_damage_score_pct"] = 95  # the model's unease, not a finding
    return out


def _check(name: str, label: str, detail: str, status: str = "pass", **extra: str) -> dict[str, Any]:
    return {"name": name, "label": label, "status": status, "detail": detail, **extra}


def _operator(name: str, label: str, detail: str = "pass", status: str = "pass") -> dict[str, Any]:
    return _check(name, label, detail, status, by="demo-operator", at=AT)


def phone_request_fields() -> dict[str, Any]:
    identity: dict[str, Any] = {
        "make": "Samsung",
        "model": "Galaxy S21",
        "storage_gb": 128,
        "android_version": "13",
        "imeis": list(SAMPLE_IMEIS),
        "serial": SAMPLE_SERIAL,
    }
    checks = [
        _check("connect", "Phone connected over USB", "connected (AdbTcpTransport 127.0.0.1:38331)"),
        _check("identity", "Identity: IMEI, model, storage", "Samsung Galaxy S21, 128 GB, IMEI recorded"),
        _check("battery", "Battery level and health", "64% charged, health good, capacity 91%, 312 cycles"),
        _check("lock", "Screen lock, FRP and root", "no screen lock, no FRP lock, not rooted"),
        _check("light", "Light box on", "light 80%, turntable homed"),
        _check("photo_screen", "Photo of the screen", "1 photo(s) of the screen"),
        _check("photo_back", "Photo of the back", "1 photo(s) of the back"),
        _check("grade", "Cosmetic grade", "grade B: screen 0°: A: no defects found"),
        _operator("check_buttons", "Buttons (power, volume) work"),
        _operator("check_speaker", "Speaker and microphone work"),
        _operator("check_cameras", "Front and rear cameras work"),
        _operator("check_touch", "Touch screen responds everywhere"),
    ]
    grade = {
        "grade": "B",
        "reasons": [
            "screen 0°: A: no defects found",
            "back 180°: B: 2 scratches, 18 mm total, on the back",
            "back 180°: not A: scratches: 2 found, at most 0 allowed",
            CAVEAT,
        ],
        "measurements": phone_measurements(back_180_scratch=measured(2, 18_400, 1_250_000)),
    }
    photos = [{"sha256": "cd" * 32, "role": "screen@0deg"}, {"sha256": "ab" * 32, "role": "back@180deg"}]
    versions = {"phone_model": "phone_defects 4.0.0", "phone_scale": "Phone cosmetic grade 1.0"}
    return {
        "identity": identity,
        "checks": checks,
        "grade": grade,
        "photos": photos,
        "model_versions": versions,
    }


def jewelry_request_fields() -> dict[str, Any]:
    grams, carats = f"{SAMPLE_WEIGHT_MG / 1000:.3f}", f"{SAMPLE_WEIGHT_MG / 200:.3f}"
    identity = {
        "weight_mg": SAMPLE_WEIGHT_MG,
        "carats": carats,  # the whole piece in carats, as the station signs it: never the stones
        "metal": "gold",
        "hallmark": "Au750",
        "stones": "1 diamond",
    }
    declared = "metal: gold, hallmark: Au750, stones: 1 diamond"
    checks = [
        _check("weigh", "Weight (stable reading)", f"{grams} g / {carats} ct"),
        _check("light", "Light box on", "light 90%, turntable homed"),
        _check("photos", "Photos on the turntable", "4 photo(s) of the top"),
        _check("grade", "Condition grade", "grade A: top 0°: A: no defects found"),
        _operator("declare", "Declared metal, hallmark and stones", declared),
    ]
    grade = {
        "grade": "A",
        "reasons": [f"top {angle}°: A: no defects found" for angle in (0, 90, 180, 270)],
        "measurements": jewelry_measurements(),
    }
    photos = [
        {"sha256": f"{i + 1:02x}" * 32, "role": f"top@{angle}deg"}
        for i, angle in enumerate((0, 90, 180, 270))
    ]
    versions = {"jewelry_model": "jewelry_defects 5.0.0", "jewelry_scale": "Jewelry condition grade 1.0"}
    return {
        "identity": identity,
        "checks": checks,
        "grade": grade,
        "photos": photos,
        "model_versions": versions,
    }


def sample_request(
    kind: Literal["phone", "jewelry"] = "phone", *, station_id: str = "station-1", **overrides: Any
) -> CertificateRequest:
    fields: dict[str, Any] = {
        "inspection_id": f"insp-{uuid.uuid4().hex[:12]}",
        "item_kind": kind,
        **(phone_request_fields() if kind == "phone" else jewelry_request_fields()),
        "station_id": station_id,
        "operator": "demo-operator",
        "warranty": {"plan_id": "phone-180" if kind == "phone" else "jewelry-authenticity", "days": 180},
    }
    fields.update(overrides)
    return CertificateRequest(**fields)


def issue_sample_certificate(
    session: Session, settings: Settings, kind: Literal["phone", "jewelry"] = "phone", **overrides: Any
) -> IssuedCertificate:
    """Issue (and flush, not commit) a sample certificate; IMEIs are ``SAMPLE_IMEIS``."""
    return issue_certificate(session, sample_request(kind, **overrides), settings=settings)
