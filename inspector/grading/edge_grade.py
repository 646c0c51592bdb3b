"""The grade of one side photo of a phone, from the notches ``edge_profile`` measured on its frame.

Each notch counts as the phone scale's chip/dent class (width as its length, its missing area as its
area) and goes through the same rule as every other photo (``decide``), so a side photo's grade and
reasons read like the top photos' and the operator's review regrades it the same way. No model is
involved, so there is no damage probability: ``damage_probability`` is None.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np

from inspector.grading.components import ClassMeasurement
from inspector.grading.decide import Mark, decide, grade_reasons, measure_marks
from inspector.grading.edge_profile import EdgeProfile, measure_edge
from inspector.grading.grader import Defect, GradingError
from inspector.grading.overlay import COLORS, encode_png
from inspector.grading.scales import Scale

EDGE = "edge"
"""The side name of a side photo (``inspector grade --side edge``, the station's photo records)."""
CHIP_CLASS = "chip"
METHOD = "edge-profile 1"
"""Names the measuring method in the certificate's model versions (there is no model file)."""


@dataclass
class EdgeGrade:
    """What the station shows and signs about one side photo (the shape of ``GradeResult`` where the
    station and ``inspector grade`` read it)."""

    grade: str | None  # None when no phone edge was found
    grade_title: str | None
    sellable: bool
    reasons: list[str]
    measurements: dict[str, ClassMeasurement]
    defects: list[Defect]
    shapes: list[str]  # "chip" or "dent", one per defect
    item_found: bool
    profile: EdgeProfile
    overlay: np.ndarray = field(repr=False)
    timings_ms: dict[str, float] = field(default_factory=dict)
    index: int | None = None  # position on the scale, 0 = best

    @property
    def damage_probability(self) -> None:
        return None

    def overlay_png(self) -> bytes:
        return encode_png(self.overlay)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (no image), with the keys ``GradeResult.to_dict`` has where they apply."""
        p = self.profile
        return {
            "kind": "phone",
            "side": EDGE,
            "grade": self.grade,
            "grade_title": self.grade_title,
            "sellable": self.sellable,
            "reasons": list(self.reasons),
            "caveats": [],
            "measurements": {k: v.to_dict() for k, v in self.measurements.items()},
            "damage_probability": None,
            "item_found": self.item_found,
            "edge": {
                "length_mm": round(p.edge_length_mm, 1),
                "long": p.long_edge,
                "mm_per_px": round(p.mm_per_px, 4),
                "roll_deg": round(p.roll_deg, 2),
                "shapes": list(self.shapes),
            },
            "model": {"name": METHOD},
            "timings_ms": {k: round(float(v), 2) for k, v in self.timings_ms.items()},
        }


def _overlay(image: np.ndarray, profile: EdgeProfile, defects: list[Defect]) -> np.ndarray:
    """The photo with each rim's fitted line and each notch filled; no words (any reader's language)."""
    out = image.copy()
    th = max(1, round(image.shape[1] / 640))
    for (xa, ya), (xb, yb) in profile.lines.values():
        cv2.line(out, (round(xa), round(ya)), (round(xb), round(yb)), (80, 200, 80), th, cv2.LINE_AA)
    colour = COLORS.get(CHIP_CLASS, (255, 80, 200))
    fill = out.copy()
    for d in defects:
        cv2.fillPoly(fill, [d.contour_frame], colour)
    out = cv2.addWeighted(fill, 0.6, out, 0.4, 0)
    for d in defects:
        x, y, w, h = cv2.boundingRect(d.contour_frame)
        pad = 3 * th
        cv2.rectangle(out, (x - pad, y - pad), (x + w + pad, y + h + pad), colour, th, cv2.LINE_AA)
    return out


def grade_edge(
    image: np.ndarray, scale: Scale, *, phone_size_mm: tuple[float, float] | None = None
) -> EdgeGrade:
    """Grade one side photo (BGR) of a phone on the phone ``scale``."""
    if not isinstance(image, np.ndarray) or image.size == 0:
        raise GradingError("image must be a non-empty HxWx3 BGR array")
    if scale.kind != "phone" or CHIP_CLASS not in scale.classes:
        raise GradingError("side photos are graded on the phone scale (its chip/dent class)")
    if image.ndim == 2:
        image = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    t0 = time.perf_counter()
    try:
        profile = measure_edge(
            image, phone_size_mm=phone_size_mm, min_area_mm2=scale.classes[CHIP_CLASS].min_area_mm2
        )
    except ValueError as exc:
        raise GradingError(str(exc)) from exc
    t1 = time.perf_counter()
    defects = [Defect(CHIP_CLASS, n.width_mm, n.area_mm2, n.contour) for n in profile.notches]
    meas = measure_marks([Mark(d.cls, d.length_mm, d.area_mm2) for d in defects], scale)
    overlay = _overlay(image, profile, defects)
    timings = {"measure": (t1 - t0) * 1000, "total": (time.perf_counter() - t0) * 1000}
    shapes = [n.shape.value for n in profile.notches]
    if not profile.found:
        why = f"no phone edge found in the side photo: {profile.why}"
        return EdgeGrade(None, None, False, [why], meas, [], [], False, profile, overlay, timings)
    d = decide(meas, scale, None)
    g = scale.grades[d.index]
    reasons = grade_reasons(g.grade, meas, d.failed, scale, EDGE, True)
    return EdgeGrade(
        g.grade, g.title, g.sellable, reasons, meas, defects, shapes, True, profile, overlay, timings, d.index
    )
