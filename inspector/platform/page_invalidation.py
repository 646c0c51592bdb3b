"""Kept verify pages follow changes made in any worker: the event bus drops them everywhere.

The worker that made a change drops its own copies when its transaction commits
(``page_cache.drop_on_commit``); the others hear the change here, within a NOTIFY's delay instead
of the cache's max age.
"""

from __future__ import annotations

from inspector.certificates.page_cache import invalidate_all, invalidate_certificate
from inspector.eventbus import Event, EventType
from inspector.eventbus.bus import PlatformEventBus


def _certificate_of(event: Event) -> None:
    human_id = event.data.get("human_id") or event.data.get("cert_human_id")
    if isinstance(human_id, str) and human_id:
        invalidate_certificate(human_id)


def drop_changed_pages(bus: PlatformEventBus) -> None:
    """Status changes and claims drop one certificate's pages; a revoked station key drops all."""
    for kind in (EventType.CERTIFICATE_STATUS_CHANGED, EventType.CLAIM_OPENED, EventType.CLAIM_CHANGED):
        bus.add_listener(kind, _certificate_of)
    bus.add_listener(EventType.STATION_REVOKED, lambda _event: invalidate_all())
