"""Possible cracks in the operator's review: marks the grader kept out of the grade because the
item as a whole did not look damaged are put to the operator too; confirming one makes it count,
rejecting it changes nothing (issue 28: the person at the station sees the item)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from inspector.grading import Grader
from inspector.i18n import AppLocale
from inspector.station.hardware import GraderAdapter
from inspector.station.review import ReviewStatus, review
from inspector.station.said import say
from inspector.station.wording import findings_shown

AT = datetime(2026, 12, 7, 1, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def grader() -> GraderAdapter:
    return GraderAdapter(Grader.load(kinds=("phone",)))


def _graded() -> list[dict[str, Any]]:
    """One screen photo graded A with one 30 mm crack mark the item model did not confirm."""
    return [
        {
            "side": "screen",
            "angle": 0,
            "grade": "A",
            "rank": 0,
            "reasons": ["A: no defects found"],
            "caveats": [],
            "measurements": {"damage_score_pct": 41},
            "findings": [
                {
                    "n": 1,
                    "id": "0-1",
                    "cls": "crack",
                    "length_um": 30_000,
                    "area_um2": 2_000_000,
                    "box": [10, 20, 30, 40],
                    "suspected": True,
                }
            ],
            "damaged": False,
            "damage_pct": 41,
            "item_found": True,
        }
    ]


def test_confirming_a_possible_crack_makes_it_count(grader: GraderAdapter) -> None:
    """The operator sees the crack the machine doubted: the grade becomes D, the review says
    'adjusted', and the decision is recorded as a possible defect confirmed, with who and why."""
    out = review(
        "phone",
        _graded(),
        "A",
        [{"finding": "0-1", "decision": "confirm", "reason": "I see it"}],
        "alice",
        AT,
        grader,
    )
    assert out.status is ReviewStatus.ADJUSTED and out.grade == "D"
    (d,) = out.result["decisions"]
    assert d["suspected"] is True and d["decision"] == "confirm" and d["by"] == "alice"
    assert any("crack" in r for r in out.reasons)
    assert "1 possible defects confirmed" in [say(p, AppLocale.EN) for p in out.result["said"]]


def test_rejecting_a_possible_crack_keeps_the_machine_grade(grader: GraderAdapter) -> None:
    """Rejecting a mark the machine did not count changes nothing: grade A stands, 'confirmed'."""
    out = review("phone", _graded(), "A", [{"finding": "0-1", "decision": "reject"}], "alice", AT, grader)
    assert out.status is ReviewStatus.CONFIRMED and out.grade == "A"
    said = [say(p, AppLocale.EN) for p in out.result["said"]]
    assert said[0].startswith("grade A kept") and "1 possible defects rejected" in said


def test_the_console_says_a_possible_crack_is_not_counted() -> None:
    """The console's line for a possible crack says it is not counted, in English and Chinese."""
    found = [{**_graded()[0]["findings"][0], "side": "screen", "angle": 0}]
    en = findings_shown(AppLocale.EN, "phone", found)[0]["text"]
    zh = findings_shown(AppLocale.ZH_CN, "phone", found)[0]["text"]
    assert en.startswith("possible, not counted") and "1 crack, 30 mm" in en
    assert zh.startswith("疑似") and "未计入" in zh
