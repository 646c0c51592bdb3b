"""The API documentation page (Swagger UI), served entirely from this server.

FastAPI's default ``/docs`` loads Swagger UI from a CDN and starts it with an inline script: a
CDN that serves other code would run on the staff console's origin, and the inline script would
need the Content-Security-Policy relaxed. Here the Swagger UI files come from the
``swagger-ui-bundle`` package (only the two this page needs), and the page starts it with
``/static/docs.js``. Calls made from the page with the session cookie send the page's CSRF token.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, Response
from swagger_ui_bundle import swagger_ui_path

from inspector.web.templating import templates

router = APIRouter(include_in_schema=False)

SWAGGER_UI_DIR = Path(str(swagger_ui_path))
SWAGGER_UI_FILES = {
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui.css": "text/css",
    "favicon-32x32.png": "image/png",
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
