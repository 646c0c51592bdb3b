"""The API documentation page (Swagger UI), served entirely from this server.

FastAPI's default ``/docs`` loads Swagger UI from a CDN and starts it with an inline script: a
CDN that serves other code would run on the staff console's origin, and the inline script would
need the Content-Security-Policy relaxed. Here the Swagger UI files come from the
``fastapi-offline`` package (only the files this page needs; Swagger UI 5, which reads
OpenAPI 3.1), and the page starts it with ``/static/docs.js``. Calls made from the page with
the session cookie send the page's CSRF token.
"""

from __future__ import annotations

from pathlib import Path

import fastapi_offline
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, Response

from inspector.web.templating import templates

router = APIRouter(include_in_schema=False)

SWAGGER_UI_DIR = Path(fastapi_offline.__file__).parent / "static"
SWAGGER_UI_FILES = {
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui.css": "text/css",
    "favicon.png": "image/png",
}


@router.get("/docs", response_class=HTMLResponse)
def docs_page(request: Request) -> Response:
    return templates.TemplateResponse(request, "docs.html", {"title": "Inspector API"})


@router.get("/docs/assets/{name}")
def docs_asset(name: str) -> Response:
    media_type = SWAGGER_UI_FILES.get(name)
    if media_type is None:
        raise HTTPException(404, "no such file")
    return FileResponse(
        SWAGGER_UI_DIR / name, media_type=media_type, headers={"Cache-Control": "public, max-age=86400"}
    )
