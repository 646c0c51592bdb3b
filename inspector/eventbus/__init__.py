"""The platform's event bus: what changed, heard by every worker process, resumable by id.

Publishers record an event in their own transaction; each worker's bus hears it (PostgreSQL
LISTEN/NOTIFY, or in-process on SQLite) and hands it to SSE streams and listeners.

    publish_in(session, EventType.CLAIM_CHANGED, ref=..., state=...)   # before the commit
    on_certificate_status_changed(fn)            # fn(human_id) in every process; returns remover
    PlatformEvents(engine) .start() / .stop()    # one per worker, from the app's lifespan
    bus.subscribe() -> Queue[Event | None]; bus.since(last_id) -> [Event]
"""

from inspector.eventbus.bus import FeedState, PlatformEventBus
from inspector.eventbus.kinds import Event, EventType
from inspector.eventbus.lifecycle import PlatformEvents
from inspector.eventbus.publish import (
    EventTooLarge,
    on_certificate_status_changed,
    publish_in,
    record_events,
    stop_recording,
)

__all__ = [
    "Event",
    "EventTooLarge",
    "EventType",
    "FeedState",
    "PlatformEventBus",
    "PlatformEvents",
    "on_certificate_status_changed",
    "publish_in",
    "record_events",
    "stop_recording",
]
