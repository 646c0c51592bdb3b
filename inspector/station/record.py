"""What a finished inspection hands on: the record a certificate states, and a returned item's
findings for the warranty claim waiting for them."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from inspector.station.flows import REVIEW
from inspector.station.ports import ReturnedItem
from inspector.station.states import StepStatus
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
    reviewed: dict[str, Any] | None = None
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
        elif st.action == REVIEW and st.status in (StepStatus.passed, StepStatus.warning):
            photos = res.get("final_photos", photos)  # graded again from the findings kept
            reviewed = res
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
        "review": review_record(reviewed, insp.grade) if reviewed is not None else None,
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


def review_record(result: dict[str, Any], grade: str | None) -> dict[str, Any]:
    """What the certificate states of the operator's review: the status, the machine's grade and
    each decision with who made it, when and why (not the findings' pixel boxes)."""
    return {
        "status": result.get("review", "none"),
        "machine_grade": result.get("machine_grade") or grade,
        "decisions": [
            {k: d[k] for k in ("finding", "cls", "decision", "reason", "by", "at") if d.get(k) is not None}
            for d in result.get("decisions", [])
        ],
    }
