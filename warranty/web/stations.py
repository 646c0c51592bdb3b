"""Staff: the stations they work with (a seller's own; every one for the platform admin)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from inspector.auth import User
from inspector.web.deps import SessionDep
from inspector.web.responses import redirect, refusals
from warranty.service import Actor
from warranty.stations import station_rows
from warranty.web.pages import templates
from warranty.web.routing import PageRoute, remember_user, signed_in, staff_page

router = APIRouter(
    tags=["warranty"],
    route_class=PageRoute,
    dependencies=[Depends(remember_user)],
    responses={**redirect(), **refusals(403, html=True)},
)


@router.get("/staff/stations", response_class=HTMLResponse, summary="Staff: their stations and claims")
def staff_stations(
    request: Request,
    session: SessionDep,
    user: User = Depends(signed_in),
    actor: Actor = Depends(staff_page("view_queue")),
) -> Response:
    return templates.TemplateResponse(
        request,
        "warranty/stations.html",
        {
            "user": user,
            "stations": station_rows(session, actor.scope),
            "sellers_column": actor.scope.everything,
        },
    )
