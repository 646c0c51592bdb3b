"""How warranty handlers refuse: one place turns a ``WarrantyError`` into the page or the JSON.

Handlers just call the service and let its errors rise. The routers' route classes catch a
``WarrantyError``, roll the request's session back and answer with the error page (pages) or
``{"detail": message}`` (JSON API), with the error's status (409 refused by state, 403 role,
404 unknown, 422 bad input, 413 too large). The dependencies below do the sign-in checks that
every staff page and API call starts with.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any
from urllib.parse import quote

from fastapi import Depends, HTTPException, Request
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute
from sqlmodel import Session

from inspector.auth import User, optional_user
from inspector.auth.tenancy import sees_every_seller, seller_of
from inspector.web.deps import SessionDep
from warranty.errors import TooManyAttempts, WarrantyError
from warranty.service import ACTION_ROLES, Actor, require
from warranty.web.pages import templates

Handler = Callable[[Request], Coroutine[Any, Any, Response]]


def remember_session(request: Request, session: SessionDep) -> None:
    """Router dependency: lets the route class roll back the session a refused handler used."""
    request.state.warranty_session = session


def remember_user(request: Request, session: SessionDep, user: User | None = Depends(optional_user)) -> None:
    """Router dependency of the staff pages: their error page keeps the staff navigation, and
    every page says which seller the user works for (``warranty_seller``, read by the nav), or
    that a platform admin sees every seller's."""
    request.state.warranty_user = user
    request.state.warranty_seller = seller_of(session, user)
    request.state.warranty_every_seller = sees_every_seller(session, user)


def _rollback(request: Request) -> None:
    session: Session | None = getattr(request.state, "warranty_session", None)
    if session is not None:
        session.rollback()


def page_error(request: Request, exc: WarrantyError, user: User | None = None) -> Response:
    return templates.TemplateResponse(
        request,
        "warranty/error.html",
        {"message": exc.text, "status": exc.status, "user": user},
        status_code=exc.status,
        headers=_headers(exc),
    )


def _headers(exc: WarrantyError) -> dict[str, str]:
    return {"Retry-After": str(exc.retry_after_s)} if isinstance(exc, TooManyAttempts) else {}


def api_error(exc: WarrantyError) -> JSONResponse:
    return JSONResponse({"detail": exc.message}, status_code=exc.status, headers=_headers(exc))


class _RefusalRoute(APIRoute):
    """Catches the service's refusal, rolls the session back and answers with ``refusal()``."""

    def refusal(self, request: Request, exc: WarrantyError) -> Response:
        raise NotImplementedError

    def get_route_handler(self) -> Handler:
        handler = super().get_route_handler()

        async def route_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except WarrantyError as exc:
                _rollback(request)
                return self.refusal(request, exc)

        return route_handler


class PageRoute(_RefusalRoute):
    """HTML routes: a refusal is the warranty error page."""

    def refusal(self, request: Request, exc: WarrantyError) -> Response:
        return page_error(request, exc, getattr(request.state, "warranty_user", None))


class ApiRoute(_RefusalRoute):
    """JSON routes: a refusal is ``{"detail": message}``."""

    def refusal(self, request: Request, exc: WarrantyError) -> Response:
        return api_error(exc)


def actor_of(user: User | None) -> Actor:
    return Actor.of(user) if user is not None else Actor.buyer()


def api_actor(user: User | None, action: str) -> Actor:
    """401 for an anonymous caller of a signed-in action; the role check follows in the service."""
    if user is None and "buyer" not in ACTION_ROLES[action]:
        raise HTTPException(
            401, "sign in first: send 'Authorization: Bearer <token>' or log in at /auth/login"
        )
    return actor_of(user)


def signed_in(request: Request, user: User | None = Depends(optional_user)) -> User:
    """Staff pages: anonymous visitors are sent to the sign-in page and come back afterwards."""
    if user is None:
        raise HTTPException(
            303, "sign in", headers={"Location": f"/auth/login?next={quote(str(request.url.path))}"}
        )
    return user


def staff_page(action: str) -> Callable[..., Actor]:
    """Dependency for a staff page allowed to roles that may ``action``: sign-in, then 403."""

    def dependency(user: User = Depends(signed_in)) -> Actor:
        actor = Actor.of(user)
        require(actor, action)
        return actor

    return dependency


def staff_api(action: str) -> Callable[..., Actor]:
    """Dependency for a JSON call allowed to roles that may ``action``: 401, then 403."""

    def dependency(user: User | None = Depends(optional_user)) -> Actor:
        actor = api_actor(user, action)
        require(actor, action)
        return actor

    return dependency
