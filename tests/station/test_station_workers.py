"""The hand-over between an inspection's worker and the requests that move it on."""

from __future__ import annotations

import threading
import time
from typing import Any

from station_helpers import Station


def test_an_answer_given_while_the_worker_is_leaving_is_carried_on(station: Station) -> None:
    """An operator who answers a check the moment it appears, while the worker that reached it is
    still on its way out (here held back 1 s, as a slow database does), does not leave the
    inspection 'running' with nobody advancing it: the next check still comes up."""
    service = station.running.station
    original = service._publish
    answered = threading.Event()

    def slow_to_leave(type_: str, inspection_id: int, step_key: str | None = None, **extra: Any) -> None:
        original(type_, inspection_id, step_key, **extra)
        if type_ == "step.waiting" and step_key == "check_buttons":
            answered.wait(5)  # the answer arrives before this worker has left
            time.sleep(0.3)

    service._publish = slow_to_leave  # type: ignore[method-assign]
    station.sim.put_phone(seed=3)
    with station.client() as c:
        iid = c.post("/api/station/inspections", json={"kind": "phone"}).json()["id"]
        station.pass_review(iid)
        station.wait_status(iid, "waiting_operator")
        r = c.post(f"/api/station/inspections/{iid}/steps/check_buttons/answer", json={"passed": True})
        assert r.status_code == 200, r.text
        answered.set()
        view = station.wait_status(iid, "waiting_operator", timeout=15)
    waiting = [s["key"] for s in view["steps"] if s["status"] == "waiting"]
    assert waiting == ["check_speaker"]
