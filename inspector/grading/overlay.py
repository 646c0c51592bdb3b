"""The marked photo: the item outlined and each counted defect filled in its class colour.

The grader draws it from what it measured, and the station draws it again after the operator's
review from the marks that still count, so the photo a buyer sees never shows a mark the operator
rejected. No words on it: it is shown to readers of any language, and the pages say the grade and
the defects in theirs.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

# BGR colours, one per defect class.
COLORS: dict[str, tuple[int, int, int]] = {
    "crack": (40, 40, 255),
    "scratch": (0, 215, 255),
    "chip": (255, 80, 200),
    "dent": (255, 80, 200),
    "missing_stone": (255, 60, 60),
    "loose_stone": (255, 200, 0),
    "tarnish": (60, 200, 60),
}
OUTLINE_TOLERANCE_PX = 1.0  # how far a stored outline may stray from the measured one


def draw_overlay(
    image: np.ndarray, quad: np.ndarray | Sequence[Sequence[float]], marks: Sequence[tuple[str, np.ndarray]]
) -> np.ndarray:
    """``image`` with the item's box ``quad`` and each ``(class, Nx2 outline in image pixels)``."""
    out = image.copy()
    th = max(1, round(out.shape[1] / 640))
    box = np.round(np.asarray(quad, np.float32)).astype(np.int32)
    if len(box):
        cv2.polylines(out, [box], True, (200, 200, 200), th, cv2.LINE_AA)
    outlines = [(cls, np.asarray(c, np.int32).reshape(-1, 2)) for cls, c in marks]
    fill = out.copy()
    for cls, c in outlines:
        cv2.fillPoly(fill, [c], COLORS.get(cls, (0, 0, 255)))
    out = cv2.addWeighted(fill, 0.45, out, 0.55, 0)
    for cls, c in outlines:
        cv2.polylines(out, [c], True, COLORS.get(cls, (0, 0, 255)), th + 1, cv2.LINE_AA)
    return out


def outline_points(contour: np.ndarray) -> list[list[int]]:
    """A defect's outline as integer points, simplified within a pixel, to keep with its finding."""
    c = np.asarray(contour, np.int32).reshape(-1, 1, 2)
    simple = cv2.approxPolyDP(c, OUTLINE_TOLERANCE_PX, True) if len(c) > 3 else c
    return [[int(x), int(y)] for x, y in simple.reshape(-1, 2)]


def encode_png(image: np.ndarray) -> bytes:
    ok, buf = cv2.imencode(".png", image)
    if not ok:
        raise ValueError("could not encode the overlay as PNG")
    return buf.tobytes()
