"""Supervisor report pages: claim rates and time to resolution, and the CSV downloads."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse

from inspector.auth import User
from inspector.web.deps import SessionDep
from inspector.web.responses import body_of, redirect, refusals
from warranty.reports import DIMENSIONS, claim_rates, claims_csv, rates_csv, time_to_resolution
from warranty.service import Actor
from warranty.web.pages import templates
from warranty.web.routing import PageRoute, remember_user, signed_in, staff_page

router = APIRouter(
    tags=["warranty"],
    route_class=PageRoute,
    dependencies=[Depends(remember_user)],
    responses={**redirect(), **refusals(403, html=True)},
)


@router.get("/staff/reports", response_class=HTMLResponse, summary="Supervisor: claim reports")
def staff_reports(
    request: Request,
    session: SessionDep,
    user: User = Depends(signed_in),
    actor: Actor = Depends(staff_page("reports")),
) -> Response:
    return templates.TemplateResponse(
        request,
        "warranty/reports.html",
        {
            "user": user,
            "tables": [
                (dim, label, claim_rates(session, dim, actor.scope)) for dim, label in DIMENSIONS.items()
            ],
            "ttr": [
                (k or "all", time_to_resolution(session, actor.scope, k)) for k in ("", "phone", "jewelry")
            ],
        },
    )


CSV = body_of("text/csv")


@router.get("/staff/reports/claims.csv", summary="Supervisor: every claim as CSV", responses=CSV)
def staff_claims_csv(session: SessionDep, actor: Actor = Depends(staff_page("reports"))) -> Response:
    stamp = datetime.now(UTC).strftime("%Y%m%d")
    return StreamingResponse(
        claims_csv(session, actor.scope),
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="claims-{stamp}.csv"'},
    )


@router.get("/staff/reports/rates.csv", summary="Supervisor: claim rates as CSV", responses=CSV)
def staff_rates_csv(session: SessionDep, actor: Actor = Depends(staff_page("reports"))) -> Response:
    return Response(
        rates_csv(session, actor.scope),
        media_type="text/csv",
        headers={"Content-Disposition": 'attachment; filename="claim-rates.csv"'},
    )
