"""How every refusal (``inspector.refusal.Refused``) is answered: one handler, registered by
``create_app``, for the station, the platform, the warranty and the certificates alike.

A route's class may say how its pages show a refusal (``refusal_page``: the warranty's staff and
buyer pages); everything else answers JSON with the refusal's status: ``detail`` in English for
programs, ``message`` in the reader's language for a console, ``error`` the refusal's code. By then
the request's database session is rolled back (``inspector.web.deps.get_session`` sees the error).
"""

from __future__ import annotations

from typing import Protocol

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from inspector.refusal import Refused
from inspector.web.language import request_locale
from inspector.web.responses import ErrorOut


class RefusalPage(Protocol):
    """A page route class's way of showing a refusal (its ``refusal_page``)."""

    def __call__(self, request: Request, exc: Refused) -> Response: ...


async def refused(request: Request, exc: Exception) -> Response:
    """Handler for ``Refused``: the route's refusal page, else the JSON body every route documents."""
    assert isinstance(exc, Refused)
    page: RefusalPage | None = getattr(request.scope.get("route"), "refusal_page", None)
    if page is not None:
        return page(request, exc)
    body = ErrorOut(detail=str(exc), message=exc.reason(request_locale(request)), error=exc.code)
    return JSONResponse(body.model_dump(), status_code=exc.status, headers=exc.headers())


def install(app: FastAPI) -> None:
    app.add_exception_handler(Refused, refused)
