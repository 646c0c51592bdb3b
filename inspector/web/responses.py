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
KEYS_NOT_SET_UP = "This issuer's signing keys are not set up yet; its operator runs 'inspector keys init'."


class ErrorOut(BaseModel):
    """A refusal: ``detail`` says what was wrong and what to do, never repeating the input.
    A refusal of the service itself (``inspector.refusal.Refused``) also says it in the reader's
    language (``message``) and names its kind for programs (``error``)."""

    detail: str
    message: str | None = None
    error: str | None = None


class FieldError(BaseModel):
    """Where a request was invalid (``loc``, e.g. ``["body", "price_minor"]``) and why."""

    loc: list[str | int]
    msg: str
    type: str


class InvalidOut(BaseModel):
    """A 422: one message, or the invalid fields one by one."""

    detail: str | list[FieldError]


_DESCRIPTIONS = {
    400: "Bad request",
    401: "Sign in first",
    403: "Not allowed for this role",
    404: "Not found",
    409: "Not possible in the current state",
    413: "Too large",
    422: "Invalid input",
    429: "Too many attempts; try again later",
    503: "Temporarily unavailable",
}


def _inline_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The model's JSON schema with its ``$defs`` written in place (for hand-built ``content``)."""
    schema = model.model_json_schema()
    defs = schema.pop("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref", "")
            if ref.startswith("#/$defs/"):
                return resolve(defs[ref.removeprefix("#/$defs/")])
            return {k: resolve(v) for k, v in node.items()}
        if isinstance(node, list):
            return [resolve(v) for v in node]
        return node

    resolved: dict[str, Any] = resolve(schema)
    return resolved


def refusals(*codes: int, html: bool = False) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a router or route: each code with its JSON body (``ErrorOut``, or
    ``InvalidOut`` for 422); ``html=True`` for pages, which answer a page or, from FastAPI's own
    checks, JSON."""
    out: dict[int | str, dict[str, Any]] = {}
    for code in codes:
        model = InvalidOut if code == 422 else ErrorOut
        entry: dict[str, Any] = {"description": _DESCRIPTIONS.get(code, "Refused")}
        if html:
            entry["content"] = {
                "text/html": {"schema": {"type": "string"}},
                "application/json": {"schema": _inline_schema(model)},
            }
        else:
            entry["model"] = model
        out[code] = entry
    return out


def redirect(
    description: str = "Redirect (to the sign-in page, or the page showing the result)",
) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a route that may answer 303 See Other."""
    return {303: {"description": description}}


def body_of(*media_types: str, description: str = "Successful Response") -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a 200 that is not JSON (an image, a PDF, CSV, a credential)."""
    return {200: {"description": description, "content": {m: {"schema": {}} for m in media_types}}}


def _wants_html(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return "text/html" in accept and not request.url.path.startswith("/api/")


def _unavailable(request: Request, message: str) -> Response:
    """503 with ``Retry-After``: a page for browsers, ``ErrorOut`` for the API."""
    headers = {"Retry-After": str(RETRY_AFTER_S)}
    if _wants_html(request):
        return templates.TemplateResponse(
            request,
            "unavailable.html",
            {"title": "Try again later", "message": message},
            status_code=503,
            headers=headers,
        )
    return JSONResponse({"detail": message}, status_code=503, headers=headers)


async def photo_store_unavailable(request: Request, exc: Exception) -> Response:
    """``PhotoStoreUnavailable`` anywhere: 503, nothing was saved."""
    return _unavailable(request, PHOTO_STORE_UNAVAILABLE)


async def keys_not_set_up(request: Request, exc: Exception) -> Response:
    """``RootKeyMissing`` (an issuer whose operator never ran ``keys init``): 503, never a new key."""
    return _unavailable(request, KEYS_NOT_SET_UP)
