"""An item's grade from its photos' grades: the worst photo wins, with every photo's reasons.

Used when the photos are graded and again when the operator's review changed some of them, so
both say the grade and its reasons the same way.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from inspector.station.ports import GradeOutcome

_GRADE_ORDER = ["A+", "A", "A-", "B+", "B", "B-", "C+", "C", "C-", "D+", "D", "D-", "F"]


def grade_rank(outcome: GradeOutcome) -> int:
    """Position on the scale (0 = best): the grader's own rank when given, else by letter."""
    if outcome.rank is not None:
        return outcome.rank
    g = outcome.grade.strip().upper()
    return _GRADE_ORDER.index(g) if g in _GRADE_ORDER else len(_GRADE_ORDER)


def combine(photos: Sequence[Mapping[str, Any]]) -> tuple[str | None, list[str]]:
    """The worst photo's grade, and the reasons of every photo (named by side and angle when there
    are several), the model's caveats once at the end. Each photo carries ``grade``, ``rank``,
    ``reasons`` (its caveats among them), ``caveats``, ``side`` and ``angle``."""
    worst, worst_rank = None, -1
    reasons: list[str] = []
    caveats: list[str] = []
    for p in photos:
        own = [r for r in p["reasons"] if r not in p.get("caveats", [])]  # caveats: once, at the end
        reasons += [f"{p['side']} {p['angle']}°: {r}" if len(photos) > 1 else r for r in own]
        caveats += p.get("caveats", [])
        if p["rank"] > worst_rank:
            worst, worst_rank = str(p["grade"]), int(p["rank"])
    return worst, list(dict.fromkeys(reasons + caveats))
