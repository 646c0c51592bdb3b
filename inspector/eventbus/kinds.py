"""What flows on the platform's event bus: the kinds of event and one event as subscribers see it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class EventType(StrEnum):
    """Something staff watch change; ``data`` holds ids and states, never secrets or personal data."""

    CERTIFICATE_RECEIVED = "certificate.received"
    """A station's certificate arrived and was logged (data: human_id, station_id)."""
    CERTIFICATE_STATUS_CHANGED = "certificate.status_changed"
    """Revoked, suspended or restored (data: human_id, status)."""
    STATION_ENROLLED = "station.enrolled"
    """A station enrolled with a one-time code (data: station_id, key)."""
    STATION_REVOKED = "station.revoked"
    """A station's key was revoked; its uploads are refused (data: station_id, key)."""
    CLAIM_OPENED = "claim.opened"
    """A warranty claim was opened (data: ref, cert_human_id, state)."""
    CLAIM_CHANGED = "claim.changed"
    """A claim moved along its workflow (data: ref, action, from_state, state, version)."""


@dataclass(frozen=True)
class Event:
    """One published event; ``id`` grows in commit order, so ``Last-Event-ID`` resumes after it."""

    id: int
    type: EventType
    data: dict[str, Any]
    at: float
    """Seconds since the epoch when it was published."""

    def to_json(self) -> str:
        return json.dumps({"id": self.id, "type": self.type.value, "data": self.data, "at": self.at})

    @classmethod
    def from_json(cls, text: str) -> Event:
        raw = json.loads(text)
        return cls(id=int(raw["id"]), type=EventType(raw["type"]), data=raw["data"], at=float(raw["at"]))
