"""From measured marks to a grade: the scale's rule, shared by the grader and the operator's review.

The grader decides from the marks it measured on a photo; after the operator rejected some of them
the station decides again from the marks that were kept (``regrade``). Both go through ``decide``
so that the same marks always give the same grade, with the same reasons.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from inspector.grading.components import ClassMeasurement
from inspector.grading.scales import Scale


@dataclass(frozen=True)
class Mark:
    """One marked defect as the review keeps it: its class and size."""

    cls: str
    length_mm: float
    area_mm2: float


@dataclass(frozen=True)
class Decision:
    index: int  # position on the scale, 0 = best
    failed: list[str]  # why not the next better grade
    held_back: list[str]  # why not the lowest grade although the marks would make it


@dataclass(frozen=True)
class Regraded:
    grade: str
    index: int
    title: str
    sellable: bool
    reasons: list[str]  # without the model's caveats
    measurements: dict[str, ClassMeasurement]


def _plural(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def violations(meas: dict[str, ClassMeasurement], limits: dict[str, Any], scale: Scale) -> list[str]:
    """Each limit of a grade the measurements break, in words."""
    out = []
    for cls, lim in limits.items():
        m = meas.get(cls, ClassMeasurement())
        plural = scale.classes[cls].plural
        if lim.max_count is not None and m.count > lim.max_count:
            out.append(f"{plural}: {m.count} found, at most {lim.max_count} allowed")
        if lim.max_total_length_mm is not None and m.total_length_mm > lim.max_total_length_mm:
            out.append(
                f"{plural}: {m.total_length_mm:.0f} mm in total, at most {lim.max_total_length_mm:g} mm"
            )
        if lim.max_length_mm is not None and m.max_length_mm > lim.max_length_mm:
            label = scale.classes[cls].label
            out.append(f"longest {label}: {m.max_length_mm:.0f} mm, at most {lim.max_length_mm:g} mm")
        if lim.max_total_area_mm2 is not None and m.total_area_mm2 > lim.max_total_area_mm2:
            out.append(
                f"{plural}: {m.total_area_mm2:.1f} mm² in total, at most {lim.max_total_area_mm2:g} mm²"
            )
    return out


def first_grade(meas: dict[str, ClassMeasurement], scale: Scale) -> tuple[int, list[str]]:
    """First grade whose limits all hold; also why the next better grade was missed."""
    previous: list[str] = []
    for i, g in enumerate(scale.grades):
        v = violations(meas, g.limits, scale)
        if not v:
            return i, previous
        previous = v
    return len(scale.grades) - 1, previous  # unreachable: the last grade has no limits


def lowest_grade_classes(scale: Scale) -> tuple[str, ...]:
    """Classes that the grade above the lowest forbids outright (a phone's cracks): one such mark makes
    the lowest grade, so it only counts where the item-level head says the item looks damaged."""
    above = scale.grades[-2].limits
    return tuple(
        c
        for c, lim in above.items()
        if lim.max_count == 0
        and all(g.limits.get(c) is not None and g.limits[c].max_count == 0 for g in scale.grades[:-1])
    )


def item_looks_damaged(probability: float, scale: Scale) -> str:
    """Why the lowest grade when the head flags the item but no mark of that damage was measured."""
    what = ", ".join(scale.classes[c].plural for c in lowest_grade_classes(scale)) or "damage"
    return (
        f"the item as a whole looks damaged ({round(100 * probability)} % likely, "
        f"{what} of the lowest grade), though none could be traced and measured"
    )


def item_not_damaged(probability: float, scale: Scale) -> str:
    """Why not the lowest grade although the marks measured would make it."""
    return (
        f"not {scale.grades[-1].grade}: the item as a whole does not look damaged "
        f"({round(100 * probability)} % likely)"
    )


def decide(
    meas: dict[str, ClassMeasurement], scale: Scale, damaged: bool | None, probability: float = 0.0
) -> Decision:
    """The grade of these measurements. ``damaged``: the item-level verdict (None: no such head);
    a damaged item is at least the lowest grade, and marks alone may not make the lowest grade of
    an item the head does not call damaged. ``probability``: the head's, for the reasons."""
    gi, failed = first_grade(meas, scale)
    lowest = len(scale.grades) - 1
    if damaged is True and gi < lowest:
        return Decision(lowest, [item_looks_damaged(probability, scale)], [])
    if damaged is False and gi == lowest:
        # the pixel marks alone (on real photos mostly screen content read as scratches) may not
        # make the lowest grade: that takes the item head too
        gi = lowest - 1
        failed = violations(meas, scale.grades[gi - 1].limits, scale) if gi else []
        return Decision(gi, failed, [item_not_damaged(probability, scale)])
    return Decision(gi, failed, [])


def grade_reasons(
    grade: str, meas: dict[str, ClassMeasurement], failed: list[str], scale: Scale, side: str, found: bool
) -> list[str]:
    """What was found and why not the better grade, as the grader says it (English, signed)."""
    parts = []
    for cls, m in meas.items():
        if not m.count:
            continue
        spec = scale.classes[cls]
        where = spec.where.format(side=side)
        what = _plural(m.count, spec.label, spec.plural)
        if spec.measure == "length":
            what += f", {m.total_length_mm:.0f} mm " + ("long" if m.count == 1 else "total")
        elif spec.measure == "area":
            what += f", {m.total_area_mm2:.1f} mm²"
        parts.append(f"{what}, {where}")
    reasons = [f"{grade}: " + ("; ".join(parts) if parts else "no defects found")]
    if failed:
        better = scale.grades[scale.grade_index(grade) - 1].grade
        reasons.append(f"not {better}: " + "; ".join(failed))
    if not found:
        reasons.append("item not found on the station: the whole frame was graded")
    return reasons


def measure_marks(marks: Iterable[Mark], scale: Scale) -> dict[str, ClassMeasurement]:
    """Counts, lengths and areas per class of the scale (zero where nothing was kept)."""
    meas = {name: ClassMeasurement() for name in scale.classes}
    for mark in marks:
        m = meas.setdefault(mark.cls, ClassMeasurement())
        m.count += 1
        m.total_length_mm += mark.length_mm
        m.max_length_mm = max(m.max_length_mm, mark.length_mm)
        m.total_area_mm2 += mark.area_mm2
    return meas


def regrade(
    scale: Scale,
    side: str,
    marks: list[Mark],
    *,
    damaged: bool | None,
    probability: float = 0.0,
    found: bool = True,
) -> Regraded:
    """The grade of one photo from the marks a person kept. ``damaged``: whether the item-level
    finding stands (None: the kind has no such head); a kept mark of a lowest-grade class (a crack a
    person confirmed) counts as that damage, whatever the head said."""
    if damaged is not None and any(m.cls in lowest_grade_classes(scale) for m in marks):
        damaged = True
    meas = measure_marks(marks, scale)
    d = decide(meas, scale, damaged, probability)
    g = scale.grades[d.index]
    reasons = grade_reasons(g.grade, meas, d.failed, scale, side, found) + d.held_back
    return Regraded(g.grade, d.index, g.title, g.sellable, reasons, meas)
