"""Buyer pages: the claim form, the status page behind the secret link, withdraw, return label.

Buyers never sign in: they prove a claim with the certificate id and the order reference, then
follow a secret status link (only its hash is stored).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from inspector.i18n import N_
from inspector.photostore import PhotoStore
from inspector.ratelimit import client_address
from inspector.web.deps import EngineDep, SessionDep, get_uploaded_photos
from inspector.web.responses import redirect, refusals
from warranty.certificate_lookup import lookup
from warranty.coverage import coverage_of, sale_for
from warranty.errors import TooManyAttempts, WarrantyError
from warranty.messages import Message
from warranty.plans import get_plan
from warranty.service import TRANSITIONS, Actor, claim_by_secret, open_claim, problems_for, transition
from warranty.uploads import UploadPurpose, distinct, keep_photos
from warranty.web.forms import (
    MAX_CLAIM_PHOTO_BYTES,
    MAX_CLAIM_PHOTOS,
    MAX_FORM_BYTES,
    field,
    read_form,
    read_photos,
)
from warranty.web.limits import check_photo_quota, count_order_ref_attempt, spend_photo_quota
from warranty.web.pages import templates
from warranty.web.rendering import label_page, public_events
from warranty.web.routing import PageRoute

router = APIRouter(
    tags=["warranty"],
    route_class=PageRoute,
    responses={**redirect(), **refusals(403, 404, 409, 413, 422, 429, 503, html=True)},
)


def _claim_form(
    request: Request,
    session: Session,
    cert_id: str,
    *,
    error: Message | str = "",
    status: int = 200,
    form: Any = None,
) -> Response:
    cert = lookup(session, cert_id) if cert_id.strip() else None
    cov = coverage_of(cert, sale_for(session, cert.human_id)) if cert else None
    if cert_id.strip() and cert is None and not error:
        error, status = (
            Message(N_("There is no certificate with this id; check the id on the certificate.")),
            404,
        )
    return templates.TemplateResponse(
        request,
        "warranty/claim_new.html",
        {
            "cert_id": cert.human_id if cert else cert_id.strip().upper(),
            "cert": cert,
            "cov": cov,
            "problems": problems_for(cov.plan) if cov else [],
            "error": error,
            "form": form or {},
            "max_mb": MAX_CLAIM_PHOTO_BYTES // (1024 * 1024),
            "max_photos": MAX_CLAIM_PHOTOS,
        },
        status_code=status,
    )


@router.get("/claims/new", response_class=HTMLResponse, summary="Buyer: claim form for a certificate")
def claim_new_page(request: Request, session: SessionDep, cert: str = "") -> Response:
    return _claim_form(request, session, cert)


@router.post(
    "/claims/new",
    response_class=HTMLResponse,
    summary="Buyer or staff: open a claim",
    max_body_size=MAX_FORM_BYTES,
)
async def claim_new_submit(
    request: Request,
    session: SessionDep,
    engine: EngineDep,
    uploads: PhotoStore = Depends(get_uploaded_photos),
) -> Response:
    """A refusal shows the form again, filled in, with the reason (not the error page).

    Order matters: the attempt is counted before the order reference is checked, photos are
    decoded in memory, and nothing is written until the claim has passed every check.
    """
    cert_id = request.query_params.get("cert", "")
    form: dict[str, str] = {}
    client = client_address(request)
    try:
        data = await read_form(request)
        form = {k: field(data, k) for k in ("cert", "order_ref", "problem", "description")}
        cert_id = form["cert"] or cert_id
        if form["order_ref"].strip():
            await run_in_threadpool(count_order_ref_attempt, engine, client, cert_id)
        photos = distinct(await read_photos(data, "photos"))
        await run_in_threadpool(check_photo_quota, engine, client, cert_id, len(photos))
        # The public form always acts as the buyer: staff use the console to open on a buyer's behalf.
        claim, secret = open_claim(
            session,
            Actor.buyer(),
            cert_human_id=cert_id,
            order_ref=form["order_ref"],
            problem=form["problem"],
            description=form["description"],
            photos=[p.sha256 for p in photos],
        )
        assert claim.id is not None
        keep_photos(session, uploads, claim.id, photos, UploadPurpose.BUYER)
        session.commit()
    except WarrantyError as exc:
        session.rollback()
        page = _claim_form(request, session, cert_id, error=exc.text, status=exc.status, form=form)
        if isinstance(exc, TooManyAttempts):
            page.headers["Retry-After"] = str(exc.retry_after_s)
        return page
    await run_in_threadpool(spend_photo_quota, engine, client, cert_id, len(photos))
    return RedirectResponse(f"/claims/s/{secret}?new=1", status_code=303)


@router.get("/claims/s/{secret}", response_class=HTMLResponse, summary="Buyer: claim status (secret link)")
def claim_status_page(request: Request, secret: str, session: SessionDep) -> Response:
    claim = claim_by_secret(session, secret)
    plan = get_plan(claim.plan_id)
    return templates.TemplateResponse(
        request,
        "warranty/claim_status.html",
        {
            "claim": claim,
            "plan": plan,
            "secret": secret,
            "events": public_events(session, claim),
            "can_withdraw": claim.state in TRANSITIONS["withdraw"].sources,
            "new": request.query_params.get("new") == "1",
        },
    )


@router.post("/claims/s/{secret}/withdraw", summary="Buyer: withdraw a claim")
def claim_withdraw(secret: str, session: SessionDep) -> Response:
    claim = claim_by_secret(session, secret)
    transition(session, claim.ref, "withdraw", Actor.buyer())
    session.commit()
    return RedirectResponse(f"/claims/s/{secret}", status_code=303)


@router.get("/claims/s/{secret}/label", response_class=HTMLResponse, summary="Buyer: printable return label")
def claim_status_label(request: Request, secret: str, session: SessionDep) -> Response:
    claim = claim_by_secret(session, secret)
    return label_page(request, claim, f"/claims/s/{secret}")
