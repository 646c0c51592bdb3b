"""Publishing an event: a row in the caller's own transaction, announced when that commits.

Publishers (certificates, warranty, the platform) call ``publish_in(session, ...)`` as the last
thing before their commit, so an event exists exactly when the change it describes does. Sessions
record events only on engines a composition root switched on with ``record_events`` (the
platform's app and admin commands); a station's database stays free of them.

On PostgreSQL the row and a ``pg_notify`` share the transaction: every worker's listener hears it
at commit. A transaction-scoped advisory lock taken before the row makes ids follow commit order,
so a subscriber that resumes "after id N" never skips an event that committed later with a
smaller id. On SQLite (one process) the in-process backend is woken after the commit.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import event as sa_event
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from inspector.eventbus.kinds import Event, EventType
from inspector.eventbus.tables import PlatformEvent

log = logging.getLogger("inspector.eventbus")

NOTIFY_CHANNEL = "inspector_events"
NOTIFY_LIMIT_BYTES = 7900
"""PostgreSQL refuses NOTIFY payloads from 8000 bytes; a larger event travels as its id only."""
MAX_DATA_BYTES = 64 * 1024
"""An event names what changed; anything bigger is a bug in the publisher and is refused."""
ORDER_LOCK_KEY = 0x1E7E_47B5
"""The advisory lock that serialises event ids in commit order (any constant bigint)."""

_recording: WeakKeyDictionary[Engine, Callable[[], None] | None] = WeakKeyDictionary()
_recording_lock = threading.Lock()
_status_hooks: list[Callable[[str], None]] = []


class EventTooLarge(ValueError):
    """The event's data is over ``MAX_DATA_BYTES``: publish ids, not documents."""


def record_events(engine: Engine, wake: Callable[[], None] | None = None) -> None:
    """Sessions on ``engine`` record what they publish; ``wake`` is called after each commit that
    recorded something (the in-process backend; on PostgreSQL the NOTIFY does that job)."""
    with _recording_lock:
        _recording[engine] = wake


def stop_recording(engine: Engine) -> None:
    with _recording_lock:
        _recording.pop(engine, None)


def on_certificate_status_changed(fn: Callable[[str], None]) -> Callable[[], None]:
    """Call ``fn(human_id)`` whenever a certificate is revoked, suspended or restored.

    For caches of verify results: ``fn`` runs in this process after the publishing commit and
    again when the event arrives from the bus (so every worker hears changes made in any other),
    from any thread: it must be thread-safe and idempotent. Returns a function that removes it.
    """
    with _recording_lock:
        _status_hooks.append(fn)

    def remove() -> None:
        with _recording_lock:
            if fn in _status_hooks:
                _status_hooks.remove(fn)

    return remove


def certificate_status_changed(human_id: str) -> None:
    """Tell the status hooks; one failing hook is logged and does not stop the others."""
    with _recording_lock:
        hooks = list(_status_hooks)
    for fn in hooks:
        try:
            fn(human_id)
        except Exception:  # a cache's bug must not break a revocation or the bus
            log.exception("certificate status hook %r failed for %s", fn, human_id)


def _engine_of(session: Session) -> Engine:
    bind = session.get_bind()
    return bind if isinstance(bind, Engine) else bind.engine


def publish_in(session: Session, event_type: EventType, **data: Any) -> Event | None:
    """Record ``event_type`` in ``session``'s transaction; delivered only if that commits.

    Returns the event (with its id), or None where events are not recorded (a station).
    Raises ``EventTooLarge`` for data over ``MAX_DATA_BYTES``.
    """
    if event_type is EventType.CERTIFICATE_STATUS_CHANGED:
        human_id = str(data["human_id"])
        sa_event.listen(session, "after_commit", lambda _s: certificate_status_changed(human_id), once=True)
    engine = _engine_of(session)
    with _recording_lock:
        if engine not in _recording:
            return None
        wake = _recording[engine]
    body = json.dumps(data, sort_keys=True, separators=(",", ":"))
    if len(body.encode()) > MAX_DATA_BYTES:
        raise EventTooLarge(f"{event_type} carries {len(body.encode())} bytes; at most {MAX_DATA_BYTES}")
    postgres = engine.dialect.name == "postgresql"
    if postgres:
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ORDER_LOCK_KEY})
    row = PlatformEvent(type=event_type.value, data=body)
    session.add(row)
    session.flush()
    assert row.id is not None
    published = Event(id=row.id, type=event_type, data=data, at=row.created_at.timestamp())
    if postgres:
        payload = published.to_json()
        if len(payload.encode()) >= NOTIFY_LIMIT_BYTES:
            payload = str(row.id)  # listeners read it from the table
        session.execute(
            text("SELECT pg_notify(:channel, :payload)"), {"channel": NOTIFY_CHANNEL, "payload": payload}
        )
    elif wake is not None:
        sa_event.listen(session, "after_commit", lambda _s: wake(), once=True)
    return published
