"""Where a page may send the browser next: only a path on this site (sign-in, language switch)."""

from __future__ import annotations

import string
from urllib.parse import urlsplit

_NEXT_ALLOWED = frozenset(string.ascii_letters + string.digits + "/-._~%!$&'()*+,;=:@?#")


def safe_next(target: str) -> str:
    """Only a path on this site: ``/x`` yes; ``//evil``, ``///evil``, ``/\\evil``, ``https:evil``,
    anything with a backslash, a control character or a space no (browsers read those as another
    host). Anything else becomes ``/``."""
    if not target.startswith("/") or target[1:2] in ("/", "\\") or not set(target) <= _NEXT_ALLOWED:
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return "/"
    return target
