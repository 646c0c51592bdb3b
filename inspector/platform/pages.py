"""The platform's own page: where a buyer without a QR code types a certificate number, and
where staff find their console."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from inspector.web.templating import templates

router = APIRouter(tags=["site"])


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def home(request: Request) -> Response:
    return templates.TemplateResponse(request, "platform/home.html", {})
