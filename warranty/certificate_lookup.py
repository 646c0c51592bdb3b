"""The one place warranty code reads certificates.

Certificates belong to ``inspector.certificates``; warranty only needs a read-only view of
them (who issued it, when, what kind of item, its status, grade, photos and defects) and the
identity check. Keeping that behind this module means a change in the certificate format
touches one file. Fields the credential may or may not carry (device model, grader version,
photos, defects) are looked up tolerantly: a missing one yields an empty value, never a crash.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel import Session

# Stand-in certificates for tests and demos run before the certificate service exists in a
# checkout; the real service always wins when it is importable.
_STUBS: dict[str, CertificateView] = {}


@dataclass(frozen=True)
class CertificateView:
    human_id: str
    item_kind: str  # "phone" | "jewelry"
    issued_at: datetime
    station_id: str
    grade: str
    status: str  # "valid" | "revoked" | "suspended"
    credential: dict[str, Any] = field(default_factory=dict)
    inspection_id: str = ""
    identity_value: str = ""  # only used by the stub identity check

    @property
    def subject(self) -> dict[str, Any]:
        subject = self.credential.get("credentialSubject")
        return subject if isinstance(subject, dict) else self.credential

    @property
    def device_model(self) -> str:
        """ "Samsung Galaxy S21" for phones, the metal for jewelry (what reports group by)."""
        identity = self.subject.get("identity")
        if isinstance(identity, dict):
            if identity.get("model"):
                return f"{identity.get('make', '')} {identity['model']}".strip()
            if identity.get("metal"):
                return str(identity["metal"])
        return str(_find(self.credential, "device_model", "model_name") or "")

    @property
    def grader_version(self) -> str:
        versions = self.subject.get("model_versions")
        if isinstance(versions, dict) and versions:
            return str(versions.get("grader") or next(iter(versions.values())))
        return str(_find(self.credential, "grader_version") or "")

    @property
    def plan_id(self) -> str:
        warranty = self.subject.get("warranty")
        if isinstance(warranty, dict) and warranty.get("plan_id"):
            return str(warranty["plan_id"])
        return str(_find(self.credential, "plan_id") or "")

    @property
    def weight_mg(self) -> int | None:
        value = _find(self.credential, "weight_mg")
        return int(value) if isinstance(value, int | str) and str(value).isdigit() else None

    @property
    def photos(self) -> list[str]:
        """SHA-256 digests of the certified photos, in order."""
        raw = _find(self.credential, "photos")
        out: list[str] = []
        for item in raw if isinstance(raw, list) else []:
            digest = (item.get("sha256") or item.get("digest")) if isinstance(item, dict) else item
            if isinstance(digest, str):
                out.append(digest.removeprefix("sha256:"))
        return out

    @property
    def defects(self) -> list[dict[str, Any]]:
        """Certified defects: an explicit ``defects`` list when the credential has one, else
        derived from the grade's measurements (``longest_scratch_um: 4200`` -> a scratch)."""
        raw = _find(self.credential, "defects")
        if isinstance(raw, list):
            return [d for d in raw if isinstance(d, dict)]
        grade = self.subject.get("grade")
        measurements = grade.get("measurements") if isinstance(grade, dict) else None
        out: list[dict[str, Any]] = []
        for name, value in (measurements or {}).items():
            word = next((w for w in DEFECT_WORDS if w in name), None)
            if word is None or not isinstance(value, int) or value <= 0:
                continue
            unit = name.rsplit("_", 1)[-1] if "_" in name else ""
            region = (
                name.replace(word, "").replace(f"_{unit}", "").strip("_").replace("longest", "").strip("_")
            )
            out.append({"kind": word, "region": region, f"length_{unit}" if unit else "severity": value})
        return out

    @property
    def grade_reasons(self) -> list[str]:
        grade = self.subject.get("grade")
        reasons = grade.get("reasons") if isinstance(grade, dict) else None
        return [str(r) for r in reasons] if isinstance(reasons, list) else []


DEFECT_WORDS = ("scratch", "crack", "dent", "chip", "scuff", "burn", "dead_pixel", "wear")


def _walk(value: Any) -> Iterator[dict[str, Any]]:
    if isinstance(value, dict):
        yield value
        for v in value.values():
            yield from _walk(v)
    elif isinstance(value, list):
        for v in value:
            yield from _walk(v)


def _find(doc: dict[str, Any], *keys: str) -> Any:
    """First value under any of ``keys`` anywhere in the credential (breadth of formats)."""
    for key in keys:
        for node in _walk(doc):
            if key in node and node[key] not in (None, "", [], {}):
                return node[key]
    return None


def _service() -> Any | None:
    try:
        module = importlib.import_module("inspector.certificates")
    except ImportError:
        return None
    return module if hasattr(module, "get_certificate") else None


def lookup(session: Session, human_id: str) -> CertificateView | None:
    """The certificate with this human id, or None when there is no such certificate."""
    human_id = human_id.strip().upper()
    if human_id in _STUBS:
        return _STUBS[human_id]
    svc = _service()
    if svc is None:
        return None
    rec = svc.get_certificate(session, human_id)
    if rec is None:
        return None
    return CertificateView(
        human_id=rec.human_id,
        item_kind=rec.item_kind,
        issued_at=rec.issued_at,
        station_id=rec.station_id,
        grade=str(rec.grade.get("grade", "")) if isinstance(rec.grade, dict) else str(rec.grade),
        # A revoked signing key distrusts every certificate it signed: treat them as revoked.
        status="revoked" if getattr(rec, "key_status", "active") == "revoked" else rec.status,
        credential=dict(rec.credential or {}),
        inspection_id=str(rec.inspection_id or ""),
    )


def identity_matches(session: Session, human_id: str, value: str) -> bool:
    """Does the IMEI/serial of the item in hand match the certified one?"""
    human_id = human_id.strip().upper()
    if human_id in _STUBS:
        stub = _STUBS[human_id]
        return bool(value.strip()) and value.strip().upper() == stub.identity_value.upper()
    svc = _service()
    return bool(svc is not None and svc.identity_matches(session, human_id, value.strip()))


def register_stub(view: CertificateView) -> None:
    """Register a stand-in certificate (tests, benchmarks); never used by the real service."""
    _STUBS[view.human_id.upper()] = view


def clear_stubs() -> None:
    _STUBS.clear()
