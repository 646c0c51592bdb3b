"""What a finished inspection hands on: the record a certificate states, and a returned item's
findings for the warranty claim waiting for them."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from inspector.station.ports import ReturnedItem
from inspector.station.tables import Inspection, InspectionStep
from inspector.station.times import iso, now


def certificate_record(session: Session, insp: Inspection) -> dict[str, Any]:
    """Everything the certificate states, gathered from the committed steps."""
    steps = session.exec(
        select(InspectionStep)
        .where(InspectionStep.inspection_id == insp.id)
        .order_by(col(InspectionStep.position))
    ).all()
    photos: list[dict[str, Any]] = []
    versions: dict[str, str] = {}
    checks = []
    for st in steps:
        if st.action == "result":
            continue
        res = st.result or {}
        checks.append(
            {
                "key": st.key,
                "label": st.label,
                "status": st.status,
                "summary": res.get("summary"),
                "answered_by": st.answered_by,
                "answered_at": iso(st.answered_at),
            }
        )
        if st.action == "grade":
            photos = res.get("photos", photos)
            versions.update(res.get("model_versions", {}))
        elif st.action == "camera.photos" and not any(
            p["sha256"] == x["sha256"] for x in res.get("photos", []) for p in photos
        ):
            photos += res.get("photos", [])
    return {
        "inspection_id": insp.id,
        "item_kind": insp.item_kind,
        "station_id": insp.station_id,
        "operator": insp.operator,
        "identity": insp.identity,
        "grade": insp.grade,
        "grade_reasons": insp.grade_reasons,
        "verdict": insp.verdict,
        "checks": checks,
        "photos": photos,
        "model_versions": versions,
        "supersedes": insp.supersedes,
        "started_at": iso(insp.created_at),
        "finished_at": iso(now()),
    }


def returned_item(insp: Inspection, record: dict[str, Any]) -> ReturnedItem:
    """A re-inspection's findings, in the words the warranty claim records them."""
    assert insp.supersedes is not None
    defects = []
    for i, p in enumerate(record.get("photos", [])):
        for cls, m in (p.get("measurements") or {}).items():
            if isinstance(m, dict) and m.get("count"):
                defects += [{"kind": cls, "region": str(p.get("side", "")), "photo": i}] * int(m["count"])
    return ReturnedItem(
        certificate_id=insp.supersedes,
        inspection_id=f"{insp.station_id}:{insp.id}",
        new_certificate_id=insp.certificate_id or "",
        grade=insp.grade or "ungraded",
        photos=[p["sha256"] for p in record.get("photos", [])],
        defects=defects,
        weight_mg=(insp.identity or {}).get("weight_mg"),
        notes=f"station re-inspection, verdict {insp.verdict}",
        operator=insp.operator,
    )
