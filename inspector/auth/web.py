"""FastAPI dependencies that say who is calling and whether they may."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status

from inspector.auth.service import Role, authenticate_token
from inspector.auth.tables import User
from inspector.web.deps import SessionDep

SESSION_COOKIE = "inspector_session"


def _token_from(request: Request) -> str | None:
    """The bearer token, else the session cookie. Never a query string: URLs end up in logs,
    browser history and Referer headers."""
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip() or None
    return request.cookies.get(SESSION_COOKIE) or None


def optional_user(request: Request, session: SessionDep) -> User | None:
    """The signed-in user, or None for an anonymous caller (a buyer)."""
    token = _token_from(request)
    return authenticate_token(session, token) if token else None


def current_user(user: User | None = Depends(optional_user)) -> User:
    if user is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "sign in first: send 'Authorization: Bearer <token>' or log in at /auth/login",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return user


def require_roles(*roles: Role) -> Callable[..., User]:
    """Dependency factory: 401 when anonymous, 403 when the user's role is not in ``roles``."""
    allowed = {r.value for r in roles}

    def dependency(user: User = Depends(current_user)) -> User:
        if user.role not in allowed and user.role != Role.admin.value:
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                f"your role '{user.role}' may not do this; it needs: {', '.join(sorted(allowed))}",
            )
        return user

    return dependency


# What an operator route names once instead of repeating ``Depends(require_roles(Role.operator))``.
OperatorDep = Annotated[User, Depends(require_roles(Role.operator))]
