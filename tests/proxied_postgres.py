"""The ``proxied_postgres`` fixture's value (the fixture itself is in tests/conftest.py)."""

from __future__ import annotations

from dataclasses import dataclass

from faultproxy import FaultProxy


@dataclass
class ProxiedPostgres:
    """A migrated PostgreSQL database reached directly (``direct_url``) and through ``proxy`` (``url``)."""

    proxy: FaultProxy
    direct_url: str
    url: str
