"""People and their rights: operators, warehouse staff, supervisors and admins.

Two ways to prove who you are, both backed by the same hashed-token table:
* API tokens (``Authorization: Bearer <token>``) for stations and scripts;
* a browser session cookie (``inspector_session``) set by ``POST /auth/login``; requests that
  change something with it must carry its CSRF token (``inspector.auth.csrf``).
Tokens are never read from a query string.

Use ``require_roles(Role.staff, Role.supervisor)`` as a FastAPI dependency; it answers
401 when nobody is signed in and 403 when the person lacks the role. Buyers never log in:
they prove a claim with the certificate id and the order reference.

On a platform shared by several sellers, ``inspector.auth.tenancy.scope_of(user)`` says which
stations' data a user sees (``sellers`` keeps the sellers themselves).
"""

from inspector.auth.service import (
    AuthError,
    Role,
    authenticate_password,
    authenticate_token,
    create_user,
    get_user,
    issue_token,
    revoke_token,
)
from inspector.auth.tables import ApiToken, Seller, User
from inspector.auth.web import SESSION_COOKIE, OperatorDep, current_user, optional_user, require_roles

__all__ = [
    "SESSION_COOKIE",
    "ApiToken",
    "AuthError",
    "OperatorDep",
    "Role",
    "Seller",
    "User",
    "authenticate_password",
    "authenticate_token",
    "create_user",
    "current_user",
    "get_user",
    "issue_token",
    "optional_user",
    "require_roles",
    "revoke_token",
]
