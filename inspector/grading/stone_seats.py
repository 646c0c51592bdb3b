"""Missing stones: each dark seat the network marks, judged whole by a trained scorer.

The network reads a missing stone well where there is one (0.85 of held-out pieces) but also marks
a dark facet of an intact emerald or sapphire, the bail ring of a pendant with the mat showing
through it, or the shaded inner edge of a cut-out: 19 % of clean held-out pieces were graded Fair for
a missing stone that was not missing (jewelry model card). An empty seat is a round dark disc of
stone size inside a metal bezel; those marks are slivers on coloured stone or thin rings (a bail: the
mat inside and around it). So every
region the network marks as a missing stone under the plain rule (P(defect) >= 0.5, the most likely
class) is a candidate, measured (``FEATURES``), and a scorer shipped beside the model says how
likely it is an empty seat; only the regions it accepts at the calibrated threshold stay missing
stones.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from inspector.grading.candidates import Candidate, ScorerKind
from inspector.grading.components import Component, class_components
from inspector.grading.line_shapes import hull_measures
from inspector.grading.pixel_labels import labels_from_probs

MIN_AREA_MM2 = 0.3  # smaller marks are below the scale's 0.5 mm² for a missing stone anyway
RING_PX = 7  # the near band around a region: a 7 x 7 dilation of it; the far band is the next one
MAT_BORDER_PX = 4  # the crop's outer frame, where the mat around the piece shows
MAT_DISTANCE = 0.12  # a pixel this close to the mat's colour (BGR, 0..1, Euclidean) looks like the mat

FEATURES: tuple[str, ...] = (
    "log_area_mm2",
    "log_length_mm",
    "circularity",  # 4 pi area / perimeter²: 1 for a disc
    "disc_fill",  # area / its enclosing circle's area
    "solidity",
    "grey_in",
    "grey_in_spread",
    "grey_around",
    "darker_than_around",
    "saturation_in",  # a facet of a coloured stone is saturated; an empty seat is not
    "saturation_around",
    "p_missing",
    "p_missing_max",
    "p_loose",
    "p_defect",
    "p_background_around",
    "log_radius_mm",
    "item_regions",  # how many such regions the piece has
    "off_centre",  # squared distance of the region from the crop centre, in crop pixels
    "mat_like_in",  # share of the region that looks like the mat (a bail's or cut-out's hole)
    "mat_like_far",  # share of the far band that does: a bail sits on the mat, a seat in metal
)


@dataclass(frozen=True)
class Surroundings:
    """A region's bounding window widened by two bands, and its near and far band inside it."""

    y0: int
    y1: int
    x0: int
    x1: int
    near: np.ndarray  # bool: within RING_PX of the region
    far: np.ndarray  # bool: RING_PX to 2 RING_PX from it

    def of(self, image: np.ndarray) -> np.ndarray:
        return image[self.y0 : self.y1, self.x0 : self.x1]


def surroundings(c: Component, shape: tuple[int, ...]) -> Surroundings:
    h, w = shape[:2]
    mh, mw = c.mask.shape
    pad = 2 * RING_PX
    y0, x0 = max(0, c.y - pad), max(0, c.x - pad)
    y1, x1 = min(h, c.y + mh + pad), min(w, c.x + mw + pad)
    big = np.zeros((y1 - y0, x1 - x0), np.uint8)
    big[c.y - y0 : c.y - y0 + mh, c.x - x0 : c.x - x0 + mw] = c.mask
    kernel = np.ones((RING_PX, RING_PX), np.uint8)
    near_all = cv2.dilate(big, kernel)
    far_all = cv2.dilate(near_all, kernel)
    return Surroundings(y0, y1, x0, x1, (near_all > 0) & (big == 0), (far_all > 0) & (near_all == 0))


def mat_like(crop_bgr: np.ndarray) -> np.ndarray:
    """Pixels the colour of the mat: the crop's margin around the piece is mat, so its outer frame's
    median colour is the mat's."""
    img = crop_bgr.astype(np.float32) / 255.0
    b = MAT_BORDER_PX
    edges = (img[:b], img[-b:], img[:, :b], img[:, -b:])
    frame = np.concatenate([e.reshape(-1, 3) for e in edges])
    mat = np.median(frame, axis=0)
    return np.asarray(np.linalg.norm(img - mat, axis=2) < MAT_DISTANCE)


def share(values: np.ndarray, default: float = 0.0) -> float:
    return float(values.mean()) if values.size else default


@dataclass(frozen=True)
class RegionShape:
    """How round and how solid a marked region is, and the circle around it (in its box's pixels)."""

    circularity: float  # 4 pi area / perimeter^2
    circle_fill: float  # share of the enclosing circle the region fills
    solidity: float
    cx: float
    cy: float
    radius: float


def region_shape(c: Component, mm_per_px: tuple[float, float]) -> RegionShape:
    """The shape measures both stone scorers read from a region's outline."""
    contours, _ = cv2.findContours(c.mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    outline = max(contours, key=cv2.contourArea)
    perimeter = cv2.arcLength(outline, True) + 1e-6
    (cx, cy), radius = cv2.minEnclosingCircle(outline)
    area_px = float((c.mask > 0).sum())
    _, solid = hull_measures(c.mask, mm_per_px, c.length_mm)
    return RegionShape(
        4 * math.pi * area_px / perimeter**2, area_px / (math.pi * radius**2 + 1e-6), solid, cx, cy, radius
    )


@dataclass(frozen=True)
class CropPlanes:
    """What both stone scorers measure a region on, per pixel of the crop (0..1): grey, HSV saturation
    and value, and how much it looks like the mat."""

    grey: np.ndarray
    sat: np.ndarray
    value: np.ndarray
    mat: np.ndarray

    @classmethod
    def of(cls, crop_bgr: np.ndarray) -> CropPlanes:
        grey = cv2.cvtColor(crop_bgr, cv2.COLOR_BGR2GRAY).astype(np.float32) / 255.0
        hsv = cv2.cvtColor(crop_bgr, cv2.COLOR_BGR2HSV).astype(np.float32) / 255.0
        return cls(grey, hsv[..., 1], hsv[..., 2], mat_like(crop_bgr))


def marked_regions(
    probs: np.ndarray,
    classes: tuple[str, ...],
    cls: str,
    mm_per_px: tuple[float, float],
    best: np.ndarray | None = None,
) -> list[Component]:
    """The regions the network marks as ``cls`` under the plain rule (P(defect) >= 0.5, the most
    likely class), at least ``MIN_AREA_MM2``: the candidates of a stone scorer."""
    return class_components(labels_from_probs(probs, best=best), classes.index(cls), MIN_AREA_MM2, mm_per_px)


def outline_measures(c: Component, shape: RegionShape) -> list[float]:
    """The first five measures of both stone scorers: log area, log length, circularity, disc fill,
    solidity."""
    return [
        math.log(c.area_mm2),
        math.log(max(c.length_mm, 0.1)),
        shape.circularity,
        shape.circle_fill,
        shape.solidity,
    ]


def stone_seats(
    crop_bgr: np.ndarray,
    probs: np.ndarray,
    classes: tuple[str, ...],
    mm_per_px: tuple[float, float],
    best: np.ndarray | None = None,
) -> list[Candidate]:
    """Every region the network marks as a missing stone under the plain rule, with its measures.
    ``best``: the most likely defect class per pixel, when the caller has it already."""
    mi = classes.index("missing_stone")
    parts = marked_regions(probs, classes, "missing_stone", mm_per_px, best)
    if not parts:
        return []
    planes = CropPlanes.of(crop_bgr)
    grey, sat, mat = planes.grey, planes.sat, planes.mat
    p_loose = probs[classes.index("loose_stone")] if "loose_stone" in classes else np.zeros_like(grey)
    h, w = grey.shape
    out = []
    for c in parts:
        on = c.mask > 0
        ring = surroundings(c, grey.shape)
        shape = region_shape(c, mm_per_px)
        g_in, s_in = c.box(grey)[on], c.box(sat)[on]
        g_around = ring.of(grey)[ring.near]
        s_around = ring.of(sat)[ring.near]
        grey_around = share(g_around)
        feats = np.array(
            [
                *outline_measures(c, shape),
                float(g_in.mean()),
                float(g_in.std()),
                grey_around,
                grey_around - float(g_in.mean()) if g_around.size else 0.0,
                float(s_in.mean()),
                share(s_around),
                float(c.box(probs[mi])[on].mean()),
                float(c.box(probs[mi])[on].max()),
                float(c.box(p_loose)[on].mean()),
                float(1.0 - c.box(probs[0])[on].mean()),
                share(ring.of(probs[0])[ring.near], 1.0),
                math.log(shape.radius * float(mm_per_px[0]) + 1e-3),
                float(len(parts)),
                (shape.cx + c.x - w / 2) ** 2 + (shape.cy + c.y - h / 2) ** 2,
                float(c.box(mat)[on].mean()),
                share(ring.of(mat)[ring.far]),
            ],
            np.float32,
        )
        out.append(Candidate(c, feats))
    return out


STONE_SEATS = ScorerKind("stone_seats", "stone-seat scorer", "stone_seats", FEATURES, stone_seats)
