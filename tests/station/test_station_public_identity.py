"""The stream and the public live view name a phone's IMEI without any digit of it (finding 1)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx
from station_helpers import Station


def _windows(identifier: str, size: int = 4) -> set[str]:
    return {identifier[i : i + size] for i in range(len(identifier) - size + 1)}


def _texts(value: Any) -> list[str]:
    """Every string and long number in a JSON value, except timestamps (their microseconds are
    random digits that can match a window of any IMEI by chance)."""
    if isinstance(value, dict):
        return [t for v in value.values() for t in _texts(v)]
    if isinstance(value, list):
        return [t for v in value for t in _texts(v)]
    if isinstance(value, str):
        try:
            datetime.fromisoformat(value)
        except ValueError:
            return [value]
        return []
    if isinstance(value, int) and abs(value) >= 10_000:
        return [str(value)]
    return []


def test_public_live_view_and_events_show_no_digit_of_the_imei(station: Station) -> None:
    """While a phone is on air, /api/station/live and the event stream carry no 4 characters of its IMEI."""
    events = station.events()
    iid = station.start_phone()
    with station.client() as c:
        events.wait_for(lambda e: e["type"] == "step.finished" and e["step"] == "identity")
        private = c.get(f"/api/station/inspections/{iid}").json()
        live = httpx.get(f"{station.base}/api/station/live", timeout=10).json()
        c.post(f"/api/station/inspections/{iid}/abort", json={"reason": "test over"})

    identity = private["identity"]
    identifiers = [i for i in [*identity["imeis"], identity.get("serial")] if i]
    assert identifiers
    public_text = "\n".join(_texts(live) + _texts([e.get("inspection") for e in events.events]))
    assert live["inspection"]["identity"].get("imei") == "recorded"
    for identifier in identifiers:
        for piece in _windows(identifier):
            assert piece not in public_text, piece
