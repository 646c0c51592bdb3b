"""Turn a finished inspection into the certificate request ``inspector.certificates`` signs.

The certificate signs values as-is under RFC 8785, so everything here is an integer in a
stated unit or a string (floats become strings), and a step's status maps onto the
certificate's check vocabulary (pass | fail | unknown | skipped).
"""

from __future__ import annotations

from typing import Any

from inspector.config import Settings
from inspector.station.ports import PlanTerms
from inspector.station.states import StepStatus

_CHECK_STATUS = {
    StepStatus.passed: "pass",
    StepStatus.warning: "pass",
    StepStatus.failed: "fail",
    StepStatus.skipped: "skipped",
}


def signable(value: Any) -> Any:
    if isinstance(value, bool) or value is None or isinstance(value, int | str):
        return value
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, dict):
        return {str(k): signable(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [signable(v) for v in value]
    return str(value)


def certificate_request(
    cls: Any, rec: dict[str, Any], settings: Settings, plan: PlanTerms | None = None
) -> Any:
    ident = dict(rec.get("identity") or {})
    declared = ident.pop("declared", None) or {}
    if rec["item_kind"] == "phone":
        identity = {
            "make": ident.get("brand") or ident.get("manufacturer"),
            "model": ident.get("model"),
            "storage_gb": ident.get("storage_gb"),
            "imeis": list(ident.get("imeis") or []),
            "serial": ident.get("serial"),
            "android_version": ident.get("android_version"),
        }
    else:
        identity = {
            "weight_mg": ident.get("weight_mg"),
            "carats": ident.get("carats"),
            "metal": declared.get("metal"),
            "hallmark": declared.get("hallmark"),
            "stones": declared.get("stones"),
        }
    identity = {k: v for k, v in identity.items() if v not in (None, "", [])}
    if rec["item_kind"] == "phone":
        identity.setdefault("imeis", [])
    checks = []
    for c in rec.get("checks", []):
        check = {
            "name": c["key"],
            "label": c["label"],
            "status": _CHECK_STATUS.get(c["status"], "unknown"),
            "detail": c.get("summary") or "",
        }
        if c.get("status") == StepStatus.warning:
            check["detail"] = f"warning: {check['detail']}"
        if c.get("answered_by"):
            check["by"], check["at"] = c["answered_by"], c.get("answered_at")
        checks.append(check)
    measurements: dict[str, Any] = {}
    for p in rec.get("photos", []):
        for k, v in (p.get("measurements") or {}).items():
            measurements[f"{p.get('side')}_{p.get('angle')}_{k}"] = v
    grade = {
        "grade": rec.get("grade") or "ungraded",
        "reasons": list(rec.get("grade_reasons") or []),
        "measurements": measurements,
    }
    review = rec.get("review")
    if review is not None and rec.get("grade"):  # the machine's grade and what the operator did to it
        grade["machine_grade"] = review["machine_grade"]
        grade["review"] = {"status": review["status"], "decisions": review["decisions"]}
    photos = []
    for p in rec.get("photos", []):
        photo = {"sha256": p["sha256"], "role": f"{p.get('side')}@{p.get('angle')}deg"}
        if p.get("overlay_sha256"):
            photo["overlay_sha256"] = p["overlay_sha256"]
        photos.append(photo)
    return cls(
        inspection_id=f"{rec['station_id']}:{rec['inspection_id']}",
        item_kind=rec["item_kind"],
        identity=signable(identity),
        checks=signable(checks),
        grade=signable(grade),
        photos=photos,
        station_id=rec["station_id"],
        operator=rec["operator"],
        model_versions=signable(rec.get("model_versions") or {}),
        # no plan configured: the certificate states no warranty rather than a guess
        warranty={"plan_id": plan.plan_id, "days": plan.days} if plan is not None else {},
        supersedes=rec.get("supersedes"),
    )
