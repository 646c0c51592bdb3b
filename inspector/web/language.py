"""Which language a request is answered in, and the switch that lets a reader choose.

A reader's own choice (the ``lang`` cookie the switch sets) wins, then what the browser asks for
(``Accept-Language``), then the station's language (``INSPECTOR_LOCALE``). Pages shown to an
audience rather than a reader (the stream overlay, printed labels) use the station's language.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse

from inspector.config import Settings
from inspector.i18n import AppLocale, negotiate, parse_locale
from inspector.web.params import SafeStr
from inspector.web.safe_redirect import safe_next

router = APIRouter(tags=["site"])

LANG_COOKIE = "lang"
LANG_COOKIE_MAX_AGE_S = 365 * 24 * 3600


def station_locale(request: Request) -> AppLocale:
    """The station's language (``INSPECTOR_LOCALE``)."""
    settings: Settings = request.app.state.settings
    return settings.locale


def request_locale(request: Request) -> AppLocale:
    """The reader's language: their choice, else their browser's, else the station's."""
    cached = getattr(request.state, "locale", None)
    if isinstance(cached, AppLocale):
        return cached
    chosen = parse_locale(request.cookies.get(LANG_COOKIE, ""))
    locale = chosen or negotiate(request.headers.get("accept-language")) or station_locale(request)
    request.state.locale = locale
    return locale


@router.get("/lang/{tag}", include_in_schema=False)
def switch_language(
    tag: SafeStr, request: Request, next: Annotated[SafeStr, Query(max_length=2000)] = "/"
) -> RedirectResponse:
    """Remember the reader's language and go back to the page they were on."""
    locale = parse_locale(tag) or station_locale(request)
    response = RedirectResponse(safe_next(next), status_code=303)
    response.set_cookie(
        LANG_COOKIE,
        locale.tag,
        max_age=LANG_COOKIE_MAX_AGE_S,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )
    return response
