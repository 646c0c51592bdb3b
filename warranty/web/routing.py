"""How warranty handlers refuse, and the sign-in checks every staff page and API call starts with.

Handlers just call the service and let its errors rise: a ``WarrantyError`` is a
``inspector.refusal.Refused``, answered by the app's one handler (``inspector.web.refused``) with the
error's status (409 refused by state, 403 role, 404 unknown, 422 bad input, 413 too large) after the
request's session was rolled back. Pages (``PageRoute``) show it as the warranty error page; the JSON
API answers ``{"detail", "message", "error"}``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote

from fastapi import Depends, HTTPException, Request
from fastapi.responses import Response
from fastapi.routing import APIRoute

from inspector.auth import User, optional_user
from inspector.auth.tenancy import sees_every_seller, seller_of
from inspector.refusal import Refused
from inspector.web.deps import SessionDep
from warranty.errors import WarrantyError
from warranty.service import ACTION_ROLES, Actor, require
from warranty.web.pages import templates


@dataclass(frozen=True)
class StaffBadge:
    """Who is signed in, as the staff navigation shows it: plain values, so an error page drawn after
    the request's session was rolled back and closed still has them."""

    username: str
    role: str


def remember_user(request: Request, session: SessionDep, user: User | None = Depends(optional_user)) -> None:
    """Router dependency of the staff pages: their error page keeps the staff navigation, and
    every page says which seller the user works for (``warranty_seller``, read by the nav), or
    that a platform admin sees every seller's."""
    seller = seller_of(session, user)
    request.state.warranty_user = StaffBadge(user.username, user.role) if user is not None else None
    request.state.warranty_seller = seller.name if seller is not None else None
    request.state.warranty_every_seller = sees_every_seller(session, user)


def page_error(request: Request, exc: Refused, user: User | StaffBadge | None = None) -> Response:
    message = exc.text if isinstance(exc, WarrantyError) else str(exc)
    return templates.TemplateResponse(
        request,
        "warranty/error.html",
        {"message": message, "status": exc.status, "user": user},
        status_code=exc.status,
        headers=exc.headers(),
    )


class PageRoute(APIRoute):
    """HTML routes: a refusal is the warranty error page, with the staff navigation when signed in."""

    def refusal_page(self, request: Request, exc: Refused) -> Response:
        return page_error(request, exc, getattr(request.state, "warranty_user", None))


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
