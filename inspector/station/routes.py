"""HTTP surface of the station: REST API, live event stream (SSE), console, overlay and home page.

Everything that drives the station needs an operator (``require_roles(Role.operator)``); the
overlay page, ``/api/station/live`` and the event stream are public and read-only, and carry
only what the stream audience may see (IMEIs masked, no operator names).
"""

from __future__ import annotations

import asyncio
import io
import json
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated, Any, Literal

import segno
from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import (
    FileResponse,
    HTMLResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from pydantic import BaseModel, Field

from inspector.auth import OperatorDep, Role, User, optional_user
from inspector.i18n import N_, translate
from inspector.station.events import CLOSE
from inspector.station.flows import FLOWS
from inspector.station.schemas import InspectionOut, InspectionSummary, LiveOut, StepOut
from inspector.station.script_strings import script_strings
from inspector.station.service import StationError, StationService
from inspector.web.language import request_locale, station_locale
from inspector.web.params import OptionalRowIdQuery, RowId
from inspector.web.responses import body_of, refusals
from inspector.web.templating import templates

# Operator routes answer 401/403 before anything else; 400 is a body that is not UTF-8 JSON.
router = APIRouter(responses=refusals(400, 401, 403, 404, 409, 422))
STATIC = Path(__file__).parent / "static"
_create_lock = threading.Lock()
HEARTBEAT_S = 10.0


async def get_station(request: Request) -> StationService:
    """The app's station; built on first use (hardware per settings) when the app has none yet.

    Async, so that routes needing no database (the event stream) do not wait for a worker thread
    when every thread is busy with a database that hangs.
    """
    station: StationService | None = getattr(request.app.state, "station", None)
    if station is None:
        station = await run_in_threadpool(_build_station, request.app)
    return station


StationDep = Annotated[StationService, Depends(get_station)]


def _build_station(app: FastAPI) -> StationService:
    with _create_lock:
        station: StationService | None = getattr(app.state, "station", None)
        if station is None:
            from inspector.station.hardware import build_hardware

            station = StationService(app.state.engine, app.state.settings, build_hardware(app.state.settings))
            station.start()
            app.state.station = station
    return station


class StartRequest(BaseModel):
    kind: Literal["phone", "jewelry"] = Field(description="What is on the station.")
    supersedes: str | None = Field(
        default=None, max_length=64, description="Certificate id of an earlier inspection of this item."
    )
    auto_finish: bool = Field(
        default=True,
        description="Issue the result as soon as the last check is answered; false waits for "
        "POST .../finish.",
    )


class ReviewDecision(BaseModel):
    finding: str = Field(max_length=40, description="The finding's id, e.g. 0-1 (photo 0, mark 1) or 1-item.")
    decision: Literal["confirm", "reject"]
    reason: str | None = Field(default=None, max_length=200, description="Why (optional).")


class AnswerRequest(BaseModel):
    passed: bool | None = Field(default=None, description="For a pass/fail operator check.")
    fields: dict[str, str] | None = Field(default=None, description="For a declaration step (metal, ...).")
    decisions: list[ReviewDecision] | None = Field(
        default=None,
        max_length=500,
        description="For the review of the marked defects: one decision per finding the step lists.",
    )
    note: str | None = Field(default=None, max_length=500)


class AbortRequest(BaseModel):
    reason: str | None = Field(default=None, max_length=500)


class ArmRequest(BaseModel):
    kind: Literal["phone", "jewelry"]


# ---- REST API ---------------------------------------------------------------------------


@router.post("/api/station/inspections", status_code=201, tags=["station"])
def start_inspection(
    body: StartRequest,
    request: Request,
    user: OperatorDep,
    station: StationDep,
) -> InspectionOut:
    """Start an inspection of the item on the station; steps run at once, watch the event stream."""
    iid = station.start_inspection(
        body.kind,
        user.username,
        started_by="api",
        supersedes=body.supersedes,
        auto_finish=body.auto_finish,
    )
    return station.get(iid, locale=request_locale(request))


@router.get("/api/station/inspections", tags=["station"])
def list_inspections(
    request: Request,
    user: OperatorDep,
    station: StationDep,
    status: str | None = None,
    kind: str | None = None,
    limit: int = Query(50, ge=1, le=500),
) -> list[InspectionSummary]:
    return station.list_inspections(limit=limit, status=status, kind=kind, locale=request_locale(request))


@router.get("/api/station/inspections/{inspection_id}", tags=["station"])
def get_inspection(
    inspection_id: RowId,
    request: Request,
    user: OperatorDep,
    station: StationDep,
) -> InspectionOut:
    """The inspection with every step: status, result, timing, photos, who answered; ``shown``:
    the same as the console shows it, in the reader's language."""
    return station.get(inspection_id, locale=request_locale(request))


@router.get("/api/station/inspections/{inspection_id}/steps", tags=["station"])
def get_steps(
    inspection_id: RowId,
    request: Request,
    user: OperatorDep,
    station: StationDep,
) -> list[StepOut]:
    return station.get(inspection_id, locale=request_locale(request)).steps


@router.post("/api/station/inspections/{inspection_id}/steps/{step_key}/answer", tags=["station"])
def answer_step(
    inspection_id: RowId,
    step_key: str,
    body: AnswerRequest,
    request: Request,
    user: OperatorDep,
    station: StationDep,
) -> InspectionOut:
    """Answer the operator step the inspection waits for: pass/fail, the declared fields, or a
    decision (confirm/reject, reason) on each finding the grader marked."""
    station.answer(
        inspection_id,
        step_key,
        user.username,
        passed=body.passed,
        fields=body.fields,
        decisions=[d.model_dump() for d in body.decisions] if body.decisions is not None else None,
        note=body.note,
    )
    return station.get(inspection_id, locale=request_locale(request))


@router.post("/api/station/inspections/{inspection_id}/finish", tags=["station"])
def finish_inspection(
    inspection_id: RowId,
    request: Request,
    user: OperatorDep,
    station: StationDep,
) -> InspectionOut:
    """Confirm the result: the verdict is recorded and the certificate issued."""
    station.finish(inspection_id, user.username)
    return station.get(inspection_id, locale=request_locale(request))


@router.post("/api/station/inspections/{inspection_id}/abort", tags=["station"])
def abort_inspection(
    inspection_id: RowId,
    request: Request,
    user: OperatorDep,
    station: StationDep,
    body: AbortRequest | None = None,
) -> InspectionOut:
    station.abort(inspection_id, user.username, body.reason if body else None)
    return station.get(inspection_id, locale=request_locale(request))


@router.post("/api/station/inspections/{inspection_id}/resume", tags=["station"])
def resume_inspection(
    inspection_id: RowId,
    request: Request,
    user: OperatorDep,
    station: StationDep,
) -> InspectionOut:
    """Continue an interrupted inspection (pulled cable, station restart) from its last completed step."""
    station.resume(inspection_id, user.username)
    return station.get(inspection_id, locale=request_locale(request))


@router.post("/api/station/arm", tags=["station"])
def arm(body: ArmRequest, user: OperatorDep, station: StationDep) -> dict[str, Any]:
    """Choose what the rig's start button inspects next (the operator's choice: opening the
    console never arms the station)."""
    station.armed_kind = body.kind
    return {"armed_kind": station.armed_kind}


@router.get("/api/station/devices", tags=["station"])
def devices(user: OperatorDep, station: StationDep) -> dict[str, Any]:
    return station.devices()


@router.get("/api/station/flows", tags=["station"])
async def flows() -> dict[str, Any]:
    """The steps of each item kind (public: it is what the audience sees on the checklist)."""
    return {kind: [s.as_dict() for s in steps] for kind, steps in FLOWS.items()}


@router.get("/api/station/camera.jpg", tags=["station"], responses={**body_of("image/jpeg"), **refusals(503)})
def camera_preview(user: OperatorDep, station: StationDep) -> Response:
    """The camera's latest frame (console preview)."""
    try:
        data = station.preview_jpeg()
    except StationError:
        raise
    except Exception as exc:  # camera faults become a clear 503 for the console to show
        raise StationError(N_("camera: %(why)s"), 503, why=str(exc)) from exc
    return Response(data, media_type="image/jpeg", headers={"Cache-Control": "no-store"})


@router.get("/api/station/live", tags=["station"])
def live(station: StationDep) -> LiveOut:
    """Public view of the inspection on air (the active one, else the last one)."""
    return LiveOut(inspection=station.live(), last_event_id=station.bus.last_id)


@router.get(
    "/api/station/inspections/{inspection_id}/qr.svg", tags=["station"], responses=body_of("image/svg+xml")
)
def certificate_qr(inspection_id: RowId, user: OperatorDep, station: StationDep) -> Response:
    """QR code of the inspection's certificate URL, for operators: counting through inspection
    numbers must not list every certificate. The public QR code is ``/c/{certificate id}/qr.svg``."""
    url = station.get_public(inspection_id).certificate_url
    if not url:
        raise StationError(N_("no certificate issued for this inspection yet"), 404)
    buf = io.BytesIO()  # a standalone SVG document (with its namespace) so <img src> can show it
    segno.make(url, error="m").save(buf, kind="svg", scale=8, border=2, dark="#000", light="#fff")
    return Response(buf.getvalue(), media_type="image/svg+xml")


@router.get("/api/station/events", tags=["station"], responses=body_of("text/event-stream"))
async def events(
    request: Request, station: StationDep, inspection_id: OptionalRowIdQuery = None
) -> StreamingResponse:
    """Server-sent events: every step start/finish, operator answer and verdict, as JSON.

    Public and read-only. Each event carries the public view of its inspection. Reconnect with
    ``Last-Event-ID`` to receive what was missed (from a bounded buffer).
    """
    last = request.headers.get("last-event-id")
    backlog = (
        station.bus.since(int(last)) if last and last.isascii() and last.isdigit() and len(last) < 19 else []
    )
    queue = station.bus.subscribe()

    async def stream() -> AsyncIterator[str]:
        try:
            yield f"retry: 2000\nevent: hello\ndata: {json.dumps({'last_event_id': station.bus.last_id})}\n\n"
            for ev in backlog:
                if inspection_id is None or ev.get("inspection_id") == inspection_id:
                    yield _sse(ev)
            while True:
                try:
                    ev = await asyncio.wait_for(queue.get(), timeout=HEARTBEAT_S)
                except TimeoutError:
                    if await request.is_disconnected():
                        return
                    yield ": ping\n\n"
                    continue
                if ev["type"] == CLOSE:
                    return
                if inspection_id is None or ev.get("inspection_id") == inspection_id:
                    yield _sse(ev)
        finally:
            station.bus.unsubscribe(queue)

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


# What an event may carry on the public stream (e.g. not who resumed an inspection).
PUBLIC_EVENT_KEYS = frozenset(
    {"id", "type", "ts", "inspection_id", "step", "inspection", "reason", "reason_text"}
)


def _sse(ev: dict[str, Any]) -> str:
    public = {k: v for k, v in ev.items() if k in PUBLIC_EVENT_KEYS}
    return f"id: {ev['id']}\nevent: {ev['type']}\ndata: {json.dumps(public, default=str)}\n\n"


# ---- pages ------------------------------------------------------------------------------


# Pages that need no database are async: they answer even while every worker thread waits for one.


HOME_LINKS = (
    ("/station/console", N_("Operator console"), N_("Start inspections, answer checks, see the camera.")),
    ("/station/overlay", N_("Stream overlay"), N_("Transparent 1920x1080 page for an OBS browser source.")),
    ("/docs", N_("API documentation"), N_("OpenAPI docs of the station service.")),
    ("/staff/claims", N_("Staff console"), N_("Returns, warranty claims and reports.")),
)


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
async def home(request: Request) -> Response:
    return templates.TemplateResponse(request, "station/home.html", {"links": HOME_LINKS})


@router.get("/station/console", response_class=HTMLResponse, include_in_schema=False)
def console(request: Request, user: User | None = Depends(optional_user)) -> Response:
    """The operator console, in the operator's language."""
    if user is None:
        return RedirectResponse(f"/auth/login?next={request.url.path}", status_code=303)
    locale = request_locale(request)
    if user.role not in (Role.operator.value, Role.admin.value):
        refusal = translate(locale, N_("Your role “%(role)s” may not drive the station."), role=user.role)
        return templates.TemplateResponse(
            request, "station/refused.html", {"message": refusal}, status_code=403
        )
    return templates.TemplateResponse(
        request,
        "station/console.html",
        {"user": user, "strings": script_strings(STATIC / "console.js", locale)},
    )


@router.get("/station/overlay", response_class=HTMLResponse, include_in_schema=False)
async def overlay(request: Request) -> Response:
    """The stream overlay, in the station's language: it is shown to an audience, not a reader."""
    locale = station_locale(request)
    return templates.TemplateResponse(
        request,
        "station/overlay.html",
        {"locale": locale, "strings": script_strings(STATIC / "overlay.js", locale)},
    )


@router.get("/station/static/{name}", include_in_schema=False)
async def static(name: str) -> Response:
    path = (STATIC / name).resolve()
    if path.parent != STATIC.resolve() or not path.is_file():
        raise HTTPException(404, "no such file")
    return FileResponse(path, headers={"Cache-Control": "no-cache"})
