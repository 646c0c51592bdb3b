"""Whether a base URL is one buyers can open: it is signed into every certificate and QR code.

A certificate signed with ``http://127.0.0.1:8000`` in it can never be checked by anyone, and a
signed URL cannot be corrected afterwards; so a station on real hardware refuses to start with one.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit


class LocalPublicAddress(ValueError):
    """The address that would be signed into certificates only works on this computer."""


def unreachable_reason(url: str) -> str | None:
    """Why nobody else could open ``url``, or ``None`` when it names a host others can reach."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        return f"{url!r} is not an http(s) address"
    host = (parts.hostname or "").lower()
    if not host:
        return f"{url!r} names no host"
    if host == "localhost" or host.endswith(".localhost"):
        return f"{host} is this computer only"
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return None  # a DNS name: whether it resolves is the operator's to check
    if ip.is_loopback:
        return f"{host} is a loopback address (this computer only)"
    if ip.is_unspecified:
        return f"{host} is a listening address, not one anyone can open"
    return None


def require_public(url: str, setting: str) -> None:
    """Raise ``LocalPublicAddress`` naming the setting to change when ``url`` is local."""
    reason = unreachable_reason(url)
    if reason is not None:
        raise LocalPublicAddress(
            f"certificates would be signed with {url}, which buyers cannot open: {reason}. "
            f"Set {setting} to the address buyers reach (e.g. https://verify.example.com), "
            "or run on simulated hardware"
        )
