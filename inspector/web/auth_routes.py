"""Sign-in and sign-out for the browser pages (operator console, staff console).

Sign-in goes through ``inspector.auth.signin`` (attempt limits in the database, no user-name
timing signal). A token never travels in a query string: a sign-in link carries it in the URL
fragment (``/auth/login#token=...``), which the browser keeps to itself; the login page's script
trades it for a session cookie with ``POST /auth/session`` and ``Authorization: Bearer``.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from inspector.auth import SESSION_COOKIE, User, authenticate_token, issue_token, revoke_token
from inspector.auth.signin import sign_in
from inspector.config import Settings
from inspector.i18n import translate, translate_plural
from inspector.ratelimit import client_address
from inspector.web.deps import EngineDep, SessionDep, SettingsDep
from inspector.web.language import request_locale
from inspector.web.params import SafeStr
from inspector.web.responses import redirect
from inspector.web.safe_redirect import safe_next
from inspector.web.templating import templates

router = APIRouter(tags=["auth"])

SESSION_TTL = timedelta(hours=12)


def _login_page(request: Request, next_: str, error: str | None, status_code: int = 200) -> Response:
    return templates.TemplateResponse(
        request,
        "login.html",
        {"next": safe_next(next_), "error": error, "title": translate(request_locale(request), "Sign in")},
        status_code=status_code,
    )


def _with_session_cookie(response: Response, request: Request, settings: Settings, token: str) -> Response:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(SESSION_TTL.total_seconds()),
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies or request.url.scheme == "https",
    )
    return response


@router.get("/auth/login", response_class=HTMLResponse)
def login_page(request: Request, next: str = "/") -> Response:
    return _login_page(request, next, None)


@router.post(
    "/auth/login",
    response_class=HTMLResponse,
    responses={
        303: {"description": "Signed in: the session cookie is set, on to `next` (a path on this site)"},
        401: {"description": "Wrong user name or password (the sign-in page again)"},
        403: {"description": "Posted from another site, or without the session's CSRF token"},
        429: {"description": "Too many attempts from this client or for this user name; see Retry-After"},
    },
)
def login(
    request: Request,
    username: Annotated[SafeStr, Form(max_length=256)],
    password: Annotated[SafeStr, Form(max_length=1024)],
    session: SessionDep,
    engine: EngineDep,
    settings: SettingsDep,
    next: Annotated[SafeStr, Form(max_length=2048)] = "/",
) -> Response:
    result = sign_in(engine, session, client_address(request), username, password)
    if result.refused is not None:
        minutes = result.refused.retry_after_minutes
        response = _login_page(
            request,
            next,
            translate_plural(
                request_locale(request),
                "Too many sign-in attempts. Try again in %(num)s minute.",
                "Too many sign-in attempts. Try again in %(num)s minutes.",
                minutes,
            ),
            status.HTTP_429_TOO_MANY_REQUESTS,
        )
        response.headers["Retry-After"] = str(result.retry_after_s)
        return response
    if result.user is None:
        wrong = translate(request_locale(request), "Wrong username or password.")
        return _login_page(request, next, wrong, status.HTTP_401_UNAUTHORIZED)
    token = issue_token(session, result.user, name="browser", kind="session", ttl=SESSION_TTL)
    session.commit()
    return _with_session_cookie(RedirectResponse(safe_next(next), status_code=303), request, settings, token)


@router.post(
    "/auth/session",
    status_code=204,
    summary="Trade an API token for a browser session cookie",
    responses={401: {"description": "No valid `Authorization: Bearer` token"}},
)
def session_from_token(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
) -> Response:
    """For sign-in links: ``Authorization: Bearer <token>`` in, a session cookie out."""
    header = request.headers.get("authorization", "")
    user: User | None = None
    if header.lower().startswith("bearer "):
        user = authenticate_token(session, header[7:].strip())
    if user is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "send a valid 'Authorization: Bearer <token>'",
            headers={"WWW-Authenticate": "Bearer"},
        )
    token = issue_token(session, user, name="browser", kind="session", ttl=SESSION_TTL)
    session.commit()
    return _with_session_cookie(Response(status_code=204), request, settings, token)


@router.post("/auth/logout", responses=redirect())
def logout(request: Request, session: SessionDep) -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        revoke_token(session, token)
        session.commit()
    response = RedirectResponse("/auth/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response
