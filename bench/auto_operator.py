"""The benches' operator: answers each waiting step the moment it is asked, as a person who agrees
with the machine would, so a bench measures the station and never waits on a step it cannot answer."""

from __future__ import annotations

from typing import Any

from inspector.station.flows import REVIEW
from inspector.station.review import agreeing_answer

DECLARED = {"fields": {"metal": "gold", "hallmark": "750"}}  # what the jewelry's declare step is told


def answer(step: dict[str, Any]) -> dict[str, Any]:
    """The body of ``POST .../steps/{key}/answer`` for a waiting step as the station's API shows it."""
    if step["action"] == REVIEW:
        return agreeing_answer(step)
    if step["key"] == "declare":
        return DECLARED
    return {"passed": True}
