"""What the web app answers while its database is down or hangs.

Any request that needs the database and cannot get it in time is answered ``503`` with a short,
fixed message and ``Retry-After``, never the driver's text (it holds SQL and addresses). The
engine bounds how long that takes (``inspector/db.py``); ``/healthz`` never touches the database,
so a load balancer or the operator can tell "process up, database down" apart.
"""

from __future__ import annotations

import math
from string import Template

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, Field

from inspector.db import TRANSIENT_DATABASE_ERRORS
from inspector.dbguard import GateState, gate_for
from inspector.i18n import translate
from inspector.web.language import request_locale

UNAVAILABLE = "database unavailable, try again in a few seconds"
DEFAULT_RETRY_AFTER_S = 5

router = APIRouter()


class Health(BaseModel):
    status: str = Field(description="Always 'ok' when the process answers.")
    database: GateState = Field(
        description="What the last connection attempt found: up, down (requests get 503 for now) or "
        "unknown (none made yet, or a local SQLite file)."
    )


@router.get("/healthz", tags=["health"])
async def healthz(request: Request) -> Health:
    """Liveness of the web process; answers without touching the database."""
    gate = gate_for(request.app.state.engine)
    return Health(status="ok", database=gate.state if gate is not None else GateState.UNKNOWN)


def _retry_after(request: Request) -> int:
    gate = gate_for(request.app.state.engine)
    if gate is None:
        return DEFAULT_RETRY_AFTER_S
    return max(1, math.ceil(gate.seconds_until_retry() or gate.retry_after_s))


_PAGE = Template(
    "<!doctype html><html lang=$lang><meta charset=utf-8>"
    "<meta name=viewport content='width=device-width, initial-scale=1'><title>$title</title>"
    "<body style='font-family:system-ui,\"Noto Sans CJK SC\",sans-serif;margin:2em'><h1>$title</h1>"
    "<p>$body</p>"
)


def _page(request: Request) -> str:
    """The 503 page in the reader's language (fixed texts only, so nothing needs escaping)."""
    locale = request_locale(request)
    return _PAGE.substitute(
        lang=locale.tag,
        title=translate(locale, "Database unavailable"),
        body=translate(
            locale, "The station cannot reach its database right now. Try again in a few seconds."
        ),
    )


async def database_unavailable(request: Request, _exc: Exception) -> Response:
    """503 with a fixed message (a page for browsers, JSON otherwise): the driver's text is never shown."""
    headers = {"Retry-After": str(_retry_after(request)), "Cache-Control": "no-store"}
    if "text/html" in request.headers.get("accept", ""):
        return HTMLResponse(_page(request), status_code=503, headers=headers)
    return JSONResponse({"detail": UNAVAILABLE}, status_code=503, headers=headers)


def add_database_error_handlers(app: FastAPI) -> None:
    """Answer every transient database error (down, hanging, pool exhausted) with 503."""
    for exc_type in TRANSIENT_DATABASE_ERRORS:
        app.add_exception_handler(exc_type, database_unavailable)
