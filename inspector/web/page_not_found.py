"""What a person's browser gets for an address that is no page: a page in their language.

A mistyped or outdated link (often a QR code printed long ago) should not show a browser
``{"detail": "Not Found"}``. Requests that ask for HTML get a short page with a way home; API
clients and everything else keep the JSON body every route documents.
"""

from __future__ import annotations

from fastapi import Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import Response
from starlette.exceptions import HTTPException

from inspector.web.templating import templates


def _wants_page(request: Request) -> bool:
    return "text/html" in request.headers.get("accept", "") and not request.url.path.startswith("/api/")


async def not_found(request: Request, exc: Exception) -> Response:
    """Handler for ``HTTPException``: a 404 page for browsers, the usual JSON for the rest."""
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404 and _wants_page(request):
        return templates.TemplateResponse(request, "not_found.html", {}, status_code=404)
    return await http_exception_handler(request, exc)
