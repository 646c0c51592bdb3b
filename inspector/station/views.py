"""How an inspection reads in the API: the operator's full view and the stream's public cut.

The public cut is what a live-stream audience may see: no digit of an IMEI, no internal error,
no certificate URL before the platform has the certificate.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from inspector.i18n import AppLocale
from inspector.station.flows import REVIEW, StepSpec
from inspector.station.notices import inspection_notice, step_notice
from inspector.station.ports import Publication, PublicationPort
from inspector.station.states import StepStatus
from inspector.station.tables import Inspection, InspectionStep
from inspector.station.times import iso
from inspector.station.wording import inspection_shown, step_shown


def mask(value: str | None) -> str | None:
    """An IMEI/serial as the stream and the public live view name it: read, but no digit of it.

    The last four digits plus the model's TAC and the Luhn digit would leave 100 candidates to
    try on the certificate's match form.
    """
    return "recorded" if value else value


def spec_at(insp: Inspection, position: int) -> StepSpec:
    return StepSpec.from_dict(insp.flow[position])


def inspection_view(
    s: Session,
    insp: Inspection,
    *,
    public: bool,
    locale: AppLocale,
    publication: PublicationPort | None,
    steps: bool = True,
) -> dict[str, Any]:
    """An inspection as the API answers it; ``public`` is the stream's and the live view's cut."""
    ident = dict(insp.identity or {})
    if public:
        ident = {
            "brand": ident.get("brand"),
            "model": ident.get("model"),
            "storage_gb": ident.get("storage_gb"),
            "imei": mask((ident.get("imeis") or [None])[0]),
            "grams": ident.get("grams"),
            "carats": ident.get("carats"),
            "declared": ident.get("declared"),
        }
        ident = {k: v for k, v in ident.items() if v}
    view: dict[str, Any] = {
        "id": insp.id,
        "item_kind": insp.item_kind,
        "status": insp.status,
        "station_id": insp.station_id,
        "current_step": insp.current_step,
        "identity": ident,
        "grade": insp.grade,
        "grade_reasons": insp.grade_reasons,
        "verdict": insp.verdict,
        "certificate_id": insp.certificate_id,
        "certificate_url": insp.certificate_url,
        "error": insp.error,
        "supersedes": insp.supersedes,
        "created_at": iso(insp.created_at),
        "updated_at": iso(insp.updated_at),
        "finished_at": iso(insp.finished_at),
        # Of two views of one inspection, the one with the higher revision is the newer.
        "revision": insp.revision,
    }
    notice = inspection_notice(insp.status, insp.error)
    where = (
        publication.publication(s, insp.certificate_id)
        if publication is not None and insp.certificate_id
        else None
    )
    view["certificate_on_platform"] = None if where is None else where[0] is Publication.ON_PLATFORM
    view["certificate_publication"] = None if where is None else where[0].value
    if public and view["certificate_on_platform"] is False:  # the QR code once buyers can open it
        view.update(certificate_id=None, certificate_url=None)
    if not public:  # the platform's reason is for the operator, never for the stream
        refused = where is not None and where[0] is Publication.REFUSED
        view["certificate_refusal"] = where[1] if where is not None and refused else None
    if public:  # a fixed notice, never the internal reason (paths, SQL, an operator's note)
        view.update(error=notice.message if notice else None, error_code=notice.value if notice else None)
    else:
        view.update(operator=insp.operator, started_by=insp.started_by, auto_finish=insp.auto_finish)
    rows = (
        s.exec(
            select(InspectionStep)
            .where(InspectionStep.inspection_id == insp.id)
            .order_by(col(InspectionStep.position))
        ).all()
        if steps
        else []
    )
    graded = next((st.result or {} for st in rows if st.action == "grade"), {})
    reviewed = next((st.result or {} for st in rows if st.action == REVIEW), {})
    if reviewed.get("final_photos"):  # the operator rejected findings: what was kept
        graded = {"photos": reviewed["final_photos"]}
    stopped = next((st.label for st in rows if st.status == StepStatus.error), None)
    view["shown"] = inspection_shown(
        locale,
        kind=insp.item_kind,
        status=insp.status,
        identity=insp.identity or {},
        grade=insp.grade,
        verdict=insp.verdict,
        notice=notice,
        error=insp.error,
        error_step=stopped,
        graded_photos=graded.get("photos", []) if steps else None,
        public=public,
    )
    if steps:
        view["steps"] = [step_view(insp, st, public, locale) for st in rows]
    return view


def step_view(insp: Inspection, st: InspectionStep, public: bool, locale: AppLocale) -> dict[str, Any]:
    res = st.result or {}
    spec = spec_at(insp, st.position)
    out: dict[str, Any] = {
        "key": st.key,
        "label": st.label,
        "action": st.action,
        "status": st.status,
        "operator": spec.operator,
        "summary": res.get("summary"),
        "error": st.error,
        "duration_ms": st.duration_ms,
        "attempts": st.attempts,
        "started_at": iso(st.started_at),
        "finished_at": iso(st.finished_at),
        "answered_by": st.answered_by,
        "answered_at": iso(st.answered_at),
        "photos": [
            {k: p.get(k) for k in ("sha256", "overlay_sha256", "side", "angle", "grade")}
            for p in res.get("photos", [])
        ],
    }
    if spec.operator or st.action == "result":
        out["params"] = spec.params
    notice = step_notice(st.error)
    if public:
        # The stream shows what was measured, never IMEIs, serials or raw device reports.
        out.pop("answered_by")
        out.update(error=notice.message if notice else None, error_code=notice.value if notice else None)
    else:
        out["result"] = {k: v for k, v in res.items() if k != "report"} if st.key == "identity" else res
    out["shown"] = step_shown(
        locale,
        label=st.label,
        status=st.status,
        result=res,
        params=spec.params,
        error=st.error,
        notice=notice,
        public=public,
        kind=insp.item_kind,
    )
    return out
