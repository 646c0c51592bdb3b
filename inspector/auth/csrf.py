"""Cross-site request forgery: unsafe requests must come from this site's own pages.

Two checks, both on every POST/PUT/PATCH/DELETE that does not carry ``Authorization: Bearer``
(a page on another site cannot set that header, so token-authenticated API calls are exempt):

* **same origin**: a browser's ``Sec-Fetch-Site`` must be ``same-origin`` (or ``none``, typed by
  the user), and an ``Origin`` header must name this server. This also stops a page on another
  port of the same host, which is "same-site" and so still receives a ``SameSite=Lax`` cookie.
* **token** (synchronizer): when the session cookie is present, the request must carry the
  session's CSRF token in the ``csrf_token`` form field or the ``X-CSRF-Token`` header. The
  token is an HMAC of the session token, so it needs no storage, changes with every sign-in and
  cannot be derived by anyone who cannot read the (HttpOnly) cookie.

Pages put the token in their forms with ``{{ csrf_input() }}`` and in
``<meta name="csrf-token">`` for scripts (see ``inspector.web.templating``).
"""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import urlsplit

from fastapi import HTTPException, Request, status

from inspector.auth.web import SESSION_COOKIE
from inspector.config import Settings

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
# Parsed once here; the handler's own ``request.form()`` gets the same parsed form back.
FORM_MAX_FILES = 16
FORM_MAX_FIELDS = 128

CROSS_SITE_MESSAGE = "this request came from another site; open the page on this server and try again"
TOKEN_MESSAGE = "this form has expired or did not come from this site; reload the page and try again"


def csrf_token_for(session_token: str) -> str:
    """The CSRF token of a browser session (empty when there is no session)."""
    if not session_token:
        return ""
    return hmac.new(session_token.encode(), b"inspector-csrf-v1", hashlib.sha256).hexdigest()


def request_csrf_token(request: Request) -> str:
    """The token a page served on ``request`` must send back ("" for anonymous visitors)."""
    return csrf_token_for(request.cookies.get(SESSION_COOKIE, ""))


def _has_bearer(request: Request) -> bool:
    return request.headers.get("authorization", "").lower().startswith("bearer ")


def _own_hosts(request: Request) -> set[str]:
    hosts = {request.headers.get("host", "").lower()}
    settings: Settings | None = getattr(request.app.state, "settings", None)
    if settings is not None:
        hosts.add(urlsplit(settings.public_base_url).netloc.lower())
    return hosts - {""}


def _same_origin(request: Request) -> bool:
    site = request.headers.get("sec-fetch-site")
    if site is not None and site not in ("same-origin", "none"):
        return False
    origin = request.headers.get("origin")
    if origin is None:
        return True  # not a browser, or an old one: the token check below still applies
    netloc = urlsplit(origin).netloc.lower()
    return bool(netloc) and netloc in _own_hosts(request)


async def _sent_token(request: Request) -> str:
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in _FORM_TYPES:
        return ""
    form = await request.form(max_files=FORM_MAX_FILES, max_fields=FORM_MAX_FIELDS)
    value = form.get(CSRF_FIELD)
    return value if isinstance(value, str) else ""


async def csrf_protect(request: Request) -> None:
    """App-wide dependency: refuse (403) a forged unsafe request; see the module docstring."""
    if request.method not in UNSAFE_METHODS or _has_bearer(request):
        return
    if not _same_origin(request):
        raise HTTPException(status.HTTP_403_FORBIDDEN, CROSS_SITE_MESSAGE)
    session_token = request.cookies.get(SESSION_COOKIE, "")
    if not session_token:
        return  # nobody signed in: nothing a forged request could act as
    sent = await _sent_token(request)
    if not sent or not hmac.compare_digest(sent, csrf_token_for(session_token)):
        raise HTTPException(status.HTTP_403_FORBIDDEN, TOKEN_MESSAGE)
