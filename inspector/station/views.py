"""How an inspection reads in the API: the operator's full view and the stream's public cut.

The public cut is what a live-stream audience may see: no digit of an IMEI, no internal error,
no certificate URL before the platform has the certificate.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from inspector.i18n import AppLocale
from inspector.station.flows import REVIEW, StepSpec
from inspector.station.notices import PublicNotice, inspection_notice, step_notice
from inspector.station.ports import Publication, PublicationPort
from inspector.station.schemas import (
    InspectionOut,
    InspectionPublic,
    InspectionSummary,
    PhotoOut,
    StepOut,
    StepPublic,
)
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


def inspection_summary(
    s: Session, insp: Inspection, *, locale: AppLocale, publication: PublicationPort | None
) -> InspectionSummary:
    """The operator's cut without steps, as lists answer it."""
    common, where, notice = _common(s, insp, publication, public=False)
    return InspectionSummary(
        **common, **_operator_fields(insp, where), shown=_shown(insp, locale, notice, rows=None, public=False)
    )


def inspection_out(
    s: Session, insp: Inspection, *, locale: AppLocale, publication: PublicationPort | None
) -> InspectionOut:
    """The operator's cut: every step with its result and who answered it."""
    common, where, notice = _common(s, insp, publication, public=False)
    rows = _steps(s, insp)
    return InspectionOut(
        **common,
        **_operator_fields(insp, where),
        shown=_shown(insp, locale, notice, rows=rows, public=False),
        steps=[step_out(insp, st, locale) for st in rows],
    )


def _operator_fields(insp: Inspection, where: tuple[Publication, str] | None) -> dict[str, Any]:
    refused = where is not None and where[0] is Publication.REFUSED
    return {
        "operator": insp.operator,
        "started_by": insp.started_by,
        "auto_finish": insp.auto_finish,
        # the platform's reason: for the operator, never for the stream
        "certificate_refusal": where[1] if where is not None and refused else None,
    }


def inspection_public(
    s: Session, insp: Inspection, *, locale: AppLocale, publication: PublicationPort | None
) -> InspectionPublic:
    """The stream's and the live view's cut: no digit of an IMEI, fixed notices for errors, the
    certificate only once buyers can open it."""
    common, _where, notice = _common(s, insp, publication, public=True)
    rows = _steps(s, insp)
    return InspectionPublic(
        **common,
        error_code=notice.value if notice else None,
        shown=_shown(insp, locale, notice, rows=rows, public=True),
        steps=[step_public(insp, st, locale) for st in rows],
    )


def _common(
    s: Session, insp: Inspection, publication: PublicationPort | None, *, public: bool
) -> tuple[dict[str, Any], tuple[Publication, str] | None, PublicNotice | None]:
    """The fields both cuts have, where the certificate is, and the inspection's public notice."""
    assert insp.id is not None
    notice = inspection_notice(insp.status, insp.error)
    where = (
        publication.publication(s, insp.certificate_id)
        if publication is not None and insp.certificate_id
        else None
    )
    on_platform = None if where is None else where[0] is Publication.ON_PLATFORM
    hide_certificate = public and on_platform is False  # the QR code once buyers can open it
    common: dict[str, Any] = {
        "id": insp.id,
        "item_kind": insp.item_kind,
        "status": insp.status,
        "station_id": insp.station_id,
        "current_step": insp.current_step,
        "identity": _public_identity(insp.identity or {}) if public else dict(insp.identity or {}),
        "grade": insp.grade,
        "grade_reasons": list(insp.grade_reasons or []),
        "verdict": insp.verdict,
        "certificate_id": None if hide_certificate else insp.certificate_id,
        "certificate_url": None if hide_certificate else insp.certificate_url,
        # public: a fixed notice, never the internal reason (paths, SQL, an operator's note)
        "error": (notice.message if notice else None) if public else insp.error,
        "supersedes": insp.supersedes,
        "created_at": iso(insp.created_at),
        "updated_at": iso(insp.updated_at),
        "finished_at": iso(insp.finished_at),
        "revision": insp.revision,
        "certificate_on_platform": on_platform,
        "certificate_publication": None if where is None else where[0].value,
    }
    return common, where, notice


def _public_identity(ident: dict[str, Any]) -> dict[str, Any]:
    shown = {
        "brand": ident.get("brand"),
        "model": ident.get("model"),
        "storage_gb": ident.get("storage_gb"),
        "imei": mask((ident.get("imeis") or [None])[0]),
        "grams": ident.get("grams"),
        "carats": ident.get("carats"),
        "declared": ident.get("declared"),
    }
    return {k: v for k, v in shown.items() if v}


def _steps(s: Session, insp: Inspection) -> list[InspectionStep]:
    return list(
        s.exec(
            select(InspectionStep)
            .where(InspectionStep.inspection_id == insp.id)
            .order_by(col(InspectionStep.position))
        ).all()
    )


def _shown(
    insp: Inspection,
    locale: AppLocale,
    notice: PublicNotice | None,
    *,
    rows: list[InspectionStep] | None,
    public: bool,
) -> dict[str, Any]:
    """The inspection as the console (or, ``public``, the overlay) words it; ``rows`` None: as
    lists word it, without the grade's reasons."""
    steps = rows or []
    graded = next((st.result or {} for st in steps if st.action == "grade"), {})
    reviewed = next((st.result or {} for st in steps if st.action == REVIEW), {})
    if reviewed.get("final_photos"):  # the operator rejected findings: what was kept
        graded = {"photos": reviewed["final_photos"]}
    stopped = next((st.label for st in steps if st.status == StepStatus.error), None)
    return inspection_shown(
        locale,
        kind=insp.item_kind,
        status=insp.status,
        identity=insp.identity or {},
        grade=insp.grade,
        verdict=insp.verdict,
        notice=notice,
        error=insp.error,
        error_step=stopped,
        graded_photos=graded.get("photos", []) if rows is not None else None,
        public=public,
    )


def _step_common(
    insp: Inspection, st: InspectionStep, locale: AppLocale, notice: PublicNotice | None, *, public: bool
) -> dict[str, Any]:
    """The fields the console's and the public view of a step share; ``notice``: ``step_notice`` of
    its error, worked out once by the caller."""
    res = st.result or {}
    spec = spec_at(insp, st.position)
    return {
        "key": st.key,
        "label": st.label,
        "action": st.action,
        "status": st.status,
        "operator": spec.operator,
        "summary": res.get("summary"),
        # public: what was measured, never IMEIs, serials, raw device reports or internal errors
        "error": (notice.message if notice else None) if public else st.error,
        "duration_ms": st.duration_ms,
        "attempts": st.attempts,
        "started_at": iso(st.started_at),
        "finished_at": iso(st.finished_at),
        "answered_at": iso(st.answered_at),
        "photos": [PhotoOut.model_validate(p) for p in res.get("photos", [])],
        "params": spec.params if spec.operator or st.action == "result" else None,
        "shown": step_shown(
            locale,
            label=st.label,
            status=st.status,
            result=res,
            params=spec.params,
            error=st.error,
            notice=notice,
            public=public,
            kind=insp.item_kind,
        ),
    }


def step_out(insp: Inspection, st: InspectionStep, locale: AppLocale) -> StepOut:
    res = st.result or {}
    return StepOut(
        **_step_common(insp, st, locale, step_notice(st.error), public=False),
        answered_by=st.answered_by,
        # the identity step's raw device report stays in the record, not in the API
        result={k: v for k, v in res.items() if k != "report"} if st.key == "identity" else res,
    )


def step_public(insp: Inspection, st: InspectionStep, locale: AppLocale) -> StepPublic:
    notice = step_notice(st.error)
    return StepPublic(
        **_step_common(insp, st, locale, notice, public=True), error_code=notice.value if notice else None
    )
