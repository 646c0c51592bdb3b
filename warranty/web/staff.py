"""Staff console pages: the claim queue, a claim with its evidence, acting on it, its label.

Staff pages use the browser session from ``/auth/login``: anonymous visitors are sent to the
sign-in page, wrong roles get the error page (403). Every rule is enforced in
``warranty.service``.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session

from inspector.auth import User
from inspector.photostore import PhotoStore
from inspector.web.deps import SessionDep, get_uploaded_photos
from inspector.web.params import MAX_INT32
from inspector.web.responses import redirect, refusals
from warranty.certificate_lookup import lookup
from warranty.errors import Forbidden, WarrantyError
from warranty.evidence import Reinspection, compare_defects, parse_defects
from warranty.messages import Message
from warranty.plans import get_plan
from warranty.service import (
    OUTCOMES,
    STATES,
    Actor,
    QueueFilter,
    allowed_actions,
    events,
    get_claim,
    open_claim,
    queue,
    transition,
)
from warranty.tables import Claim, Sale
from warranty.uploads import UploadPurpose, keep_photos
from warranty.web.forms import MAX_FORM_BYTES, field, int_or_none, read_form, reinspection_from_form
from warranty.web.pages import templates
from warranty.web.rendering import label_page
from warranty.web.routing import PageRoute, page_error, remember_user, signed_in, staff_page
from warranty.words import PROBLEM_WORDS

router = APIRouter(
    tags=["warranty"],
    route_class=PageRoute,
    dependencies=[Depends(remember_user)],
    responses={**redirect(), **refusals(403, 404, 409, 413, 422, 503, html=True)},
)


def queue_filter(request: Request) -> QueueFilter:
    """The queue's filter from the query string (the page and the JSON API read the same)."""
    qp = request.query_params
    try:
        offset = min(max(0, int(qp.get("offset", "0") or 0)), MAX_INT32)
    except ValueError:
        offset = 0
    return QueueFilter(
        state=qp.get("state", ""),
        station=qp.get("station", "").strip(),
        kind=qp.get("kind", ""),
        q=qp.get("q", "").strip(),
        offset=offset,
    )


@router.get("/staff/claims", response_class=HTMLResponse, summary="Staff: claim queue")
def staff_queue(
    request: Request,
    session: SessionDep,
    user: User = Depends(signed_in),
    actor: Actor = Depends(staff_page("view_queue")),
) -> Response:
    f = queue_filter(request)
    events = getattr(request.app.state, "platform_events", None)
    claims, total = queue(session, f, actor.scope)
    params = {k: v for k, v in request.query_params.items() if k != "offset"}
    return templates.TemplateResponse(
        request,
        "warranty/queue.html",
        {
            "user": user,
            "claims": claims,
            "total": total,
            "f": f,
            "states": STATES,
            "problem_codes": tuple(PROBLEM_WORDS),
            "next_url": f"/staff/claims?{urlencode({**params, 'offset': f.offset + f.limit})}"
            if f.offset + f.limit < total
            else "",
            "prev_url": f"/staff/claims?{urlencode({**params, 'offset': max(0, f.offset - f.limit)})}"
            if f.offset
            else "",
            "error": request.query_params.get("error", ""),
            # On the platform the queue hears claims change in any worker (inspector.eventbus),
            # from the last event before this page was read on.
            "live_events": f"/api/platform/events?after={events.bus.last_id}" if events else "",
        },
    )


@router.post("/staff/claims", summary="Staff: open a claim on a buyer's behalf")
async def staff_open(
    request: Request,
    session: SessionDep,
    actor: Actor = Depends(staff_page("open")),
) -> Response:
    data = await read_form(request)
    claim, _secret = open_claim(
        session,
        actor,
        cert_human_id=field(data, "cert"),
        order_ref=field(data, "order_ref"),
        problem=field(data, "problem") or "functional_fault",
        description=field(data, "description"),
    )
    session.commit()
    return RedirectResponse(f"/staff/claims/{claim.ref}", status_code=303)


def _evidence(session: Session, claim: Claim) -> dict[str, Any]:
    """Original certificate evidence vs re-inspection, with defects labelled new/worse/unchanged."""
    cert = lookup(session, claim.cert_human_id)
    original_defects = parse_defects(cert.defects) if cert else []
    re = Reinspection.model_validate_json(claim.reinspection) if claim.reinspection else None
    diffs = compare_defects(original_defects, re.defects) if re else []
    return {
        "cert": cert,
        "orig_photos": cert.photos if cert else [],
        "orig_defects": original_defects,
        "re": re,
        "diffs": diffs,
        "new_count": sum(1 for d in diffs if d.highlighted),
        "grade_changed": bool(re and cert and re.grade != cert.grade),
    }


def _claim_page(
    request: Request,
    session: Session,
    claim: Claim,
    user: User,
    *,
    error: Message | str = "",
    status: int = 200,
    done: str = "",
) -> Response:
    actor = Actor.of(user)
    plan = get_plan(claim.plan_id)
    sale = session.get(Sale, claim.sale_id) if claim.sale_id else None
    return templates.TemplateResponse(
        request,
        "warranty/claim.html",
        {
            "user": user,
            "claim": claim,
            "plan": plan,
            "sale": sale,
            "events": events(session, claim),
            "actions": allowed_actions(claim, actor),
            "outcomes": OUTCOMES,
            "ev": _evidence(session, claim),
            "buyer_photos": json.loads(claim.buyer_photos or "[]"),
            "error": error,
            "done": done,
            "identity_kind": plan.identity.kind,
        },
        status_code=status,
    )


@router.get("/staff/claims/{ref}", response_class=HTMLResponse, summary="Staff: a claim with its evidence")
def staff_claim(
    request: Request,
    ref: str,
    session: SessionDep,
    user: User = Depends(signed_in),
    actor: Actor = Depends(staff_page("view_claim")),
) -> Response:
    claim = get_claim(session, ref, actor.scope)
    return _claim_page(request, session, claim, user, done=request.query_params.get("done", ""))


@router.post(
    "/staff/claims/{ref}/act",
    response_class=HTMLResponse,
    summary="Staff: act on a claim",
    max_body_size=MAX_FORM_BYTES,
)
async def staff_act(
    request: Request,
    ref: str,
    session: SessionDep,
    uploads: PhotoStore = Depends(get_uploaded_photos),
    user: User = Depends(signed_in),
) -> Response:
    """Any signed-in user may try; the service checks the role for the action. A refusal other
    than 403 shows the claim page again with the reason and the claim as it is now."""
    actor = Actor.of(user)
    data = await read_form(request)
    action = field(data, "action")
    claim = get_claim(session, ref, actor.scope)
    try:
        version = int_or_none(field(data, "version"), "version")
        reinspection, photos = (
            await reinspection_from_form(session, data) if action == "reinspect" else (None, [])
        )
        transition(
            session,
            claim.ref,
            action,
            actor,
            expected_version=version,
            note=field(data, "note"),
            outcome=field(data, "outcome") or None,
            reason_code=field(data, "reason_code") or None,
            identity_value=field(data, "identity_value") or None,
            weight_mg=int_or_none(field(data, "weight_mg"), "weight (mg)"),
            reinspection=reinspection,
        )
        assert claim.id is not None
        keep_photos(session, uploads, claim.id, photos, UploadPurpose.REINSPECTION)
        session.commit()
    except WarrantyError as exc:
        session.rollback()
        if isinstance(exc, Forbidden):
            return page_error(request, exc, user)
        fresh = get_claim(session, ref, actor.scope)
        return _claim_page(request, session, fresh, user, error=exc.text, status=exc.status)
    return RedirectResponse(f"/staff/claims/{claim.ref}?done={action}", status_code=303)


@router.get("/staff/claims/{ref}/label", response_class=HTMLResponse, summary="Staff: printable return label")
def staff_label(
    request: Request,
    ref: str,
    session: SessionDep,
    actor: Actor = Depends(staff_page("label")),
) -> Response:
    claim = get_claim(session, ref, actor.scope)
    return label_page(request, claim, f"/staff/claims/{claim.ref}")
