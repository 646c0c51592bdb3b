"""Connected defect regions of a decided label map, measured in millimetres.

Shared by the grader, the line-shape classifier and the calibration search, so that all three
measure a component the same way."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np


@dataclass
class ClassMeasurement:
    count: int = 0
    total_length_mm: float = 0.0
    max_length_mm: float = 0.0
    total_area_mm2: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        # Integer micrometres too: certificates sign canonical JSON, where floats get rewritten.
        return {
            "count": int(self.count),
            "total_length_mm": round(float(self.total_length_mm), 1),
            "max_length_mm": round(float(self.max_length_mm), 1),
            "total_area_mm2": round(float(self.total_area_mm2), 1),
            "total_length_um": round(float(self.total_length_mm) * 1000),
            "total_area_um2": round(float(self.total_area_mm2) * 1e6),
        }


def skeleton_length(mask: np.ndarray) -> float:
    """Centre-line pixel count of a thin shape (morphological skeleton), i.e. its length in pixels."""
    img = mask.copy()
    skel = np.zeros_like(img)
    k = cv2.getStructuringElement(cv2.MORPH_CROSS, (3, 3))
    for _ in range(32):
        eroded = cv2.erode(img, k)
        skel |= img & (255 - cv2.dilate(eroded, k))
        img = eroded
        if not img.any():
            break
    return float(np.count_nonzero(skel))


@dataclass(frozen=True)
class Component:
    """One connected defect region of a class: its size and where it is in the crop."""

    length_mm: float
    area_mm2: float
    x: int
    y: int
    mask: np.ndarray  # uint8, the component inside its bounding box at (x, y)

    def box(self, image: np.ndarray) -> np.ndarray:
        """The view of a crop-sized ``image`` under the component's bounding box (aligned with ``mask``)."""
        h, w = self.mask.shape
        return image[self.y : self.y + h, self.x : self.x + w]


def class_components(
    labels: np.ndarray, class_index: int, min_area_mm2: float, mm_per_px: tuple[float, float]
) -> list[Component]:
    """Connected regions of one class, at least ``min_area_mm2`` large, measured in millimetres."""
    mx, my = float(mm_per_px[0]), float(mm_per_px[1])
    px_area, px_len = mx * my, (mx + my) / 2
    mask = (labels == class_index).astype(np.uint8)
    if not mask.any():
        return []
    out = []
    n, comp, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    for j in range(1, n):
        area = float(stats[j, cv2.CC_STAT_AREA]) * px_area
        if area < min_area_mm2:
            continue
        x, y, w, h = (int(v) for v in stats[j, :4])
        sub = (comp[y : y + h, x : x + w] == j).astype(np.uint8)
        length = max(skeleton_length(sub), float(max(w, h))) * px_len
        out.append(Component(length, area, x, y, sub))
    return out


def summarize(components: list[Component], min_length_mm: float = 0.0) -> ClassMeasurement:
    """Count, lengths and area of the components at least ``min_length_mm`` long."""
    m = ClassMeasurement()
    for c in components:
        if c.length_mm < min_length_mm:
            continue
        m.count += 1
        m.total_length_mm += c.length_mm
        m.max_length_mm = max(m.max_length_mm, c.length_mm)
        m.total_area_mm2 += c.area_mm2
    return m
