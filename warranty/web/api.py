"""Warranty JSON API: public coverage and claim status, claims for staff and station pipelines.

Signed-in calls take ``Authorization: Bearer``; refusals are ``{"detail": message}`` with the
service error's status (see ``warranty.web.routing``).
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from sqlmodel import Session

from inspector.auth import User, optional_user
from inspector.i18n import N_
from inspector.ratelimit import client_address
from inspector.web.deps import EngineDep, SessionDep
from inspector.web.params import MAX_INT32
from inspector.web.responses import refusals
from warranty.certificate_lookup import lookup
from warranty.coverage import coverage_of, sale_for
from warranty.errors import NotFound
from warranty.evidence import Reinspection
from warranty.service import (
    MAX_PRICE_MINOR,
    TRANSITIONS,
    Actor,
    claim_by_secret,
    events,
    find_open_claim,
    get_claim,
    open_claim,
    queue,
    record_sale,
    transition,
    unknown_action,
)
from warranty.web.limits import count_order_ref_attempt
from warranty.web.rendering import public_events
from warranty.web.routing import actor_of, api_actor, staff_api
from warranty.web.schemas import (
    ClaimEventOut,
    ClaimOut,
    ClaimStatusOut,
    ClaimWithEventsOut,
    OpenedClaimOut,
    PublicEventOut,
    QueueOut,
    SaleOut,
)
from warranty.web.staff import queue_filter

router = APIRouter(
    tags=["warranty"],
    responses=refusals(400, 401, 403, 404, 409, 422, 429),  # 400: a body that is not UTF-8 JSON
)


# --------------------------------------------------------------------------- public


@router.get("/api/warranty/coverage/{human_id}", summary="Public warranty coverage of a certificate")
def api_coverage(human_id: str, session: SessionDep) -> Response:
    cert = lookup(session, human_id)
    if cert is None:
        return JSONResponse({"detail": f"there is no certificate {human_id}"}, status_code=404)
    return JSONResponse(coverage_of(cert, sale_for(session, cert.human_id)).public_dict())


class OpenClaimIn(BaseModel):
    cert: str = Field(max_length=32)
    order_ref: str = Field(default="", max_length=64)
    problem: str = Field(max_length=40)
    description: str = Field(default="", max_length=4000)


@router.post("/api/warranty/claims", status_code=201, summary="Open a claim (buyer with order ref, or staff)")
def api_open_claim(
    body: OpenClaimIn,
    request: Request,
    session: SessionDep,
    engine: EngineDep,
    user: User | None = Depends(optional_user),
) -> OpenedClaimOut:
    actor = actor_of(user)
    if actor.role == "buyer" and body.order_ref.strip():
        count_order_ref_attempt(engine, client_address(request), body.cert)
    claim, secret = open_claim(
        session,
        actor,
        cert_human_id=body.cert,
        order_ref=body.order_ref,
        problem=body.problem,
        description=body.description,
    )
    session.commit()
    base = str(request.base_url).rstrip("/")
    return OpenedClaimOut(ref=claim.ref, state=claim.state, status_url=f"{base}/claims/s/{secret}")


# Registered before "/api/warranty/claims/{ref}", which would otherwise match it.
@router.get("/api/warranty/claims/status/{secret}", summary="Buyer: claim status as JSON")
def api_claim_status(secret: str, session: SessionDep) -> ClaimStatusOut:
    claim = claim_by_secret(session, secret)
    return ClaimStatusOut(
        ref=claim.ref,
        state=claim.state,
        outcome=claim.outcome,
        deny_reason=claim.deny_reason,
        events=[
            PublicEventOut(at=e["at"].isoformat(), state=e["to_state"], reason=str(e["reason"]))
            for e in public_events(session, claim)
        ],
    )


# --------------------------------------------------------------------------- staff and stations


@router.get("/api/warranty/claims", summary="Staff: claim queue as JSON")
def api_queue(
    request: Request,
    session: SessionDep,
    actor: Actor = Depends(staff_api("view_queue")),
) -> QueueOut:
    claims, total = queue(session, queue_filter(request), actor.scope)
    return QueueOut(total=total, claims=[ClaimOut.of(c) for c in claims])


@router.get("/api/warranty/claims/{ref}", summary="Staff: one claim with its audit log")
def api_claim(
    ref: str, session: SessionDep, actor: Actor = Depends(staff_api("view_claim"))
) -> ClaimWithEventsOut:
    claim = get_claim(session, ref, actor.scope)
    return ClaimWithEventsOut(
        **ClaimOut.of(claim).model_dump(), events=[ClaimEventOut.of(e) for e in events(session, claim)]
    )


class TransitionIn(BaseModel):
    action: str = Field(max_length=24)
    version: int | None = Field(default=None, ge=1, le=MAX_INT32)
    note: str = Field(default="", max_length=2000)
    outcome: str | None = Field(default=None, max_length=16)
    reason_code: str | None = Field(default=None, max_length=40)
    identity_value: str | None = Field(default=None, max_length=64)
    weight_mg: int | None = Field(default=None, ge=0, le=MAX_INT32)


@router.post(
    "/api/warranty/claims/{ref}/transitions", summary="Staff: move a claim (409 when not allowed now)"
)
def api_transition(
    ref: str,
    body: TransitionIn,
    session: SessionDep,
    user: User | None = Depends(optional_user),
) -> ClaimOut:
    if body.action not in TRANSITIONS:
        raise unknown_action(body.action)
    actor = api_actor(user, body.action)
    if user is None:  # buyers act through their secret link, not this endpoint
        raise HTTPException(401, "sign in first, or use the claim's status link")
    claim = transition(
        session,
        ref,
        body.action,
        actor,
        expected_version=body.version,
        note=body.note,
        outcome=body.outcome,
        reason_code=body.reason_code,
        identity_value=body.identity_value,
        weight_mg=body.weight_mg,
    )
    session.commit()
    return ClaimOut.of(claim)


class ReinspectionIn(Reinspection):
    version: int | None = Field(default=None, ge=1, le=MAX_INT32)


def _record_reinspection(session: Session, ref: str, body: ReinspectionIn, actor: Actor) -> ClaimOut:
    claim = transition(
        session,
        ref,
        "reinspect",
        actor,
        expected_version=body.version,
        reinspection=Reinspection.model_validate(body.model_dump(exclude={"version"})),
    )
    session.commit()
    return ClaimOut.of(claim)


@router.post(
    "/api/warranty/claims/{ref}/reinspection",
    summary="Station pipeline or staff: record the re-inspection of a received item",
)
def api_reinspection(
    ref: str,
    body: ReinspectionIn,
    session: SessionDep,
    user: User | None = Depends(optional_user),
) -> ClaimOut:
    return _record_reinspection(session, ref, body, api_actor(user, "reinspect"))


@router.post(
    "/api/warranty/certificates/{human_id}/reinspection",
    summary="Station pipeline: record a re-inspection against the original certificate's open claim",
)
def api_reinspection_by_certificate(
    human_id: str,
    body: ReinspectionIn,
    session: SessionDep,
    actor: Actor = Depends(staff_api("reinspect")),
) -> ClaimOut:
    """For a station that re-inspected a returned item and knows only the original certificate
    (its new certificate ``supersedes`` it): finds the certificate's open claim and records it."""
    claim = find_open_claim(session, human_id, actor.scope)
    if claim is None:
        raise NotFound(
            N_("certificate %(cert)s has no open claim to record a re-inspection for"), cert=human_id
        )
    return _record_reinspection(session, claim.ref, body, actor)


class SaleIn(BaseModel):
    cert: str = Field(max_length=32)
    order_ref: str = Field(max_length=64)
    price_minor: int = Field(ge=0, le=MAX_PRICE_MINOR, description="Price in minor units (fen, cents).")
    currency: str = Field(max_length=3)
    sold_at: datetime | None = None
    buyer_contact: str = Field(default="", max_length=256)
    plan_id: str | None = Field(default=None, max_length=48)


@router.post("/api/warranty/sales", status_code=201, summary="Staff: record the sale of a certified item")
def api_record_sale(body: SaleIn, session: SessionDep, user: User | None = Depends(optional_user)) -> SaleOut:
    sale = record_sale(
        session,
        api_actor(user, "record_sale"),
        cert_human_id=body.cert,
        order_ref=body.order_ref,
        price_minor=body.price_minor,
        currency=body.currency,
        sold_at=body.sold_at,
        buyer_contact=body.buyer_contact,
        plan_id=body.plan_id,
    )
    session.commit()
    return SaleOut(cert=sale.cert_human_id, order_ref=sale.order_ref, plan_id=sale.plan_id)
