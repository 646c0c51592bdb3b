"""A change heard on the event bus (made by another worker) drops the kept verify pages here."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from inspector.certificates.page_cache import VerifyCache, cached_body
from inspector.eventbus import Event, EventType
from inspector.eventbus.bus import PlatformEventBus
from inspector.platform.page_invalidation import drop_changed_pages


def _kept(cache: VerifyCache, *ids: str) -> None:
    for human_id in ids:
        cache.put(human_id, "json", cached_body(b"{}", "application/json"), cache.generation)


def test_status_changes_and_claims_drop_one_certificate_and_a_revoked_station_drops_all(
    sqlite_engine: Engine,
) -> None:
    """Revoked elsewhere: that certificate's page goes; a claim moved: its certificate's page goes
    (the page shows the warranty); a station key revoked: every page goes (any may be its)."""
    cache = VerifyCache(100, 60)
    bus = PlatformEventBus(sqlite_engine)
    drop_changed_pages(bus)
    _kept(cache, "AAAA", "BBBB", "CCCC")

    bus.deliver(Event(1, EventType.CERTIFICATE_STATUS_CHANGED, {"human_id": "AAAA", "status": "revoked"}, 0))
    assert cache.get("AAAA", "json") is None and cache.get("BBBB", "json") is not None

    bus.deliver(Event(2, EventType.CLAIM_CHANGED, {"ref": "R1", "cert_human_id": "BBBB"}, 0))
    assert cache.get("BBBB", "json") is None and cache.get("CCCC", "json") is not None

    bus.deliver(Event(3, EventType.STATION_REVOKED, {"station_id": "s-1"}, 0))
    assert len(cache) == 0
