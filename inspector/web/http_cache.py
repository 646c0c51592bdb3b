"""HTTP caching that browsers and CDNs honour: strong ETags, ``If-None-Match`` and ``Cache-Control``.

A public response says how long any cache may keep it (``max-age``) and how much longer a CDN may
serve it while it fetches a fresh copy (``stale-while-revalidate``); a response personal to one
reader is ``private, no-store``.
"""

from __future__ import annotations

PERSONAL = "private, no-store"
NOT_KEPT = "no-store"  # e.g. a 404 for an id that may exist a second later


def public(max_age_s: float, stale_while_revalidate_s: int) -> str:
    """``Cache-Control`` of a response every reader may be given."""
    return f"public, max-age={int(max_age_s)}, stale-while-revalidate={stale_while_revalidate_s}"


def none_match(if_none_match: str | None, etag: str) -> bool:
    """Does an ``If-None-Match`` header name ``etag``? (Weak comparison, RFC 9110 13.1.2.)"""
    if not if_none_match:
        return False
    if if_none_match.strip() == "*":
        return True
    wanted = etag.removeprefix("W/")
    return any(tag.strip().removeprefix("W/") == wanted for tag in if_none_match.split(","))
