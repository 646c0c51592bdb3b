"""Sign-in and sign-out for the browser pages (operator console, staff console)."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session

from inspector.auth import SESSION_COOKIE, authenticate_password, issue_token, revoke_token
from inspector.web.deps import get_session
from inspector.web.params import FormText
from inspector.web.responses import redirect, refusals
from inspector.web.templating import templates

router = APIRouter(tags=["auth"])

SESSION_TTL = timedelta(hours=12)


def _safe_next(target: str) -> str:
    """Only same-site relative redirects, so the login page cannot bounce people elsewhere."""
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/"):
        return "/"
    return target


@router.get("/auth/login", response_class=HTMLResponse)
def login_page(request: Request, next: str = "/") -> Response:
    return templates.TemplateResponse(
        request, "login.html", {"next": _safe_next(next), "error": None, "title": "Sign in"}
    )


@router.post(
    "/auth/login", response_class=HTMLResponse, responses={**redirect(), **refusals(401, 422, 429, html=True)}
)
def login(
    request: Request,
    username: FormText,
    password: FormText,
    next: FormText = "/",
    session: Session = Depends(get_session),
) -> Response:
    user = authenticate_password(session, username, password)
    if user is None:
        return templates.TemplateResponse(
            request,
            "login.html",
            {"next": _safe_next(next), "error": "Wrong username or password.", "title": "Sign in"},
            status_code=401,
        )
    token = issue_token(session, user, name="browser", kind="session", ttl=SESSION_TTL)
    session.commit()
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(SESSION_TTL.total_seconds()),
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )
    return response


@router.post("/auth/logout", responses=redirect())
def logout(request: Request, session: Session = Depends(get_session)) -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        revoke_token(session, token)
        session.commit()
    response = RedirectResponse("/auth/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response
