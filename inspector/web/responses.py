"""Error bodies and the refusals that no router catches itself.

Routers declare what they may answer with ``refusals(...)`` so the OpenAPI schema (and the
schemathesis run in CI) knows every status a route can give and the shape of its body.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel

from inspector.web.templating import templates

PHOTO_STORE_UNAVAILABLE = "Photo storage is unavailable right now; nothing was saved. Try again later."
RETRY_AFTER_S = 60


class ErrorOut(BaseModel):
    """A refusal: ``detail`` says what was wrong and what to do, never repeating the input."""

    detail: str


_DESCRIPTIONS = {
    303: "Sign in first (redirect to the sign-in page)",
    400: "Bad request",
    401: "Sign in first",
    403: "Not allowed for this role",
    404: "Not found",
    409: "Not possible in the current state",
    413: "Too large",
    422: "Invalid input",
    429: "Too many attempts",
    503: "Temporarily unavailable",
}


def refusals(*codes: int, html: bool = False) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a route: each code with the ``ErrorOut`` body (or an HTML page)."""
    out: dict[int | str, dict[str, Any]] = {}
    for code in codes:
        entry: dict[str, Any] = {"description": _DESCRIPTIONS.get(code, "Refused")}
        if html:
            entry["content"] = {"text/html": {"schema": {"type": "string"}}}
        else:
            entry["model"] = ErrorOut
        out[code] = entry
    return out


def _wants_html(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return "text/html" in accept and not request.url.path.startswith("/api/")


async def photo_store_unavailable(request: Request, exc: Exception) -> Response:
    """``PhotoStoreUnavailable`` anywhere: 503 (a page for browsers, ``ErrorOut`` for the API)."""
    headers = {"Retry-After": str(RETRY_AFTER_S)}
    if _wants_html(request):
        return templates.TemplateResponse(
            request,
            "unavailable.html",
            {"title": "Try again later", "message": PHOTO_STORE_UNAVAILABLE},
            status_code=503,
            headers=headers,
        )
    return JSONResponse({"detail": PHOTO_STORE_UNAVAILABLE}, status_code=503, headers=headers)
