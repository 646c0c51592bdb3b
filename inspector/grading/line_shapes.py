"""Crack or scratch: decided per thin-line component from its shape, not per pixel.

In the phone crop (~2 px/mm) a single crack segment and a scratch are both a faint, thin line, and a
per-pixel model reads the visible scratches as cracks (phone model card, "v3 rebuild"). What tells
them apart is the whole line: a scratch is one smooth stroke, a crack is jagged, branches, radiates
from an impact point and rarely comes alone. So the grader takes every component the model marks as
a crack or a scratch, measures its shape (``LINE_FEATURES``) and lets a small logistic classifier,
fitted on validation renders by ``python -m models.calibrate`` and stored in the model's calibration
file, say how likely it is a scratch. Only components it is sure of become scratches: a crack graded
as a light scratch is the costliest mistake a grader can make.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import cv2
import numpy as np

from inspector.grading.components import Component, class_components
from inspector.grading.pixel_moments import bend, from_mask

if TYPE_CHECKING:
    from inspector.grading.calibration import LineClassifier

LINE_CLASSES = ("crack", "scratch")
LINE_FEATURES: tuple[str, ...] = (
    "log_length_mm",  # scratches are single strokes of 5-40 mm; shatter lines run long
    "width_mm",  # area / length: cracks scatter light beside the line
    "straightness",  # end-to-end extent / length: 1 for a straight stroke, low for branches
    "solidity",  # pixels / pixels of the convex hull: branching lines fill little of their hull
    "bend_mm",  # RMS distance from the best quadratic through the line: jagged cracks wander
    "mean_p",  # the model's mean P(defect) on the line
    "max_p",
    "contrast",  # mean |grey - local median| on the line: scratches are fainter
    "scratch_share",  # the model's own vote: mean P(scratch) / (P(crack) + P(scratch)) on the line
    "log_item_lines",  # how many thin lines the item has: cracks come in families
    "log_item_length_mm",  # their total length
)


GAP_KERNEL = np.ones((5, 5), np.uint8)
"""Gaps of up to ~4 crop pixels (~1.8 mm on a phone) along a line are bridged before it is judged."""


@dataclass(frozen=True)
class LineComponent:
    """One thin-line component and its shape measures (in ``LINE_FEATURES`` order)."""

    part: Component  # the bridged line, judged (and, as a scratch, measured) whole
    features: np.ndarray
    strong: np.ndarray  # uint8 in the part's box: the pixels the rule marks, bridges not included


def hull_measures(mask: np.ndarray, mm_per_px: tuple[float, float], length_mm: float) -> tuple[float, float]:
    """(straightness, solidity) of a component mask, from its convex hull."""
    ys, xs = np.nonzero(mask)
    mx, my = float(mm_per_px[0]), float(mm_per_px[1])
    hull_px = np.zeros_like(mask)
    hull = cv2.convexHull(np.stack([xs, ys], axis=1).astype(np.int32))
    cv2.fillConvexPoly(hull_px, hull, 1)
    solidity = float(len(xs)) / max(1.0, float(np.count_nonzero(hull_px)))
    hp = hull.reshape(-1, 2).astype(np.float64) * np.array([mx, my])
    extent = float(np.sqrt(((hp[:, None, :] - hp[None, :, :]) ** 2).sum(-1)).max()) if len(hp) > 1 else 0.0
    return min(1.5, extent / max(length_mm, 1e-6)), solidity


def shape_measures(
    mask: np.ndarray, mm_per_px: tuple[float, float], length_mm: float
) -> tuple[float, float, float]:
    """(straightness, solidity, bend_mm) of a component mask."""
    straightness, solidity = hull_measures(mask, mm_per_px, length_mm)
    bend_mm = float(bend(from_mask(mask).scaled(float(mm_per_px[0]), float(mm_per_px[1])))[0])
    return straightness, solidity, bend_mm


def line_components(
    labels: np.ndarray,
    probs: np.ndarray,
    crop_bgr: np.ndarray,
    classes: tuple[str, ...],
    min_area_mm2: float,
    mm_per_px: tuple[float, float],
) -> list[LineComponent]:
    """Every crack-or-scratch line of a decided label map (bridged), with its shape measures and
    the pixels the map really marks."""
    drawn = np.isin(labels, [classes.index(name) for name in LINE_CLASSES]).astype(np.uint8)
    # A faint line reaches the model as dashes; bridged, it is judged (and measured) as the one line
    # it is, instead of as fragments too short to show their shape.
    line = np.asarray(cv2.morphologyEx(drawn, cv2.MORPH_CLOSE, GAP_KERNEL), np.uint8)
    parts = class_components(line, 1, min_area_mm2, mm_per_px)
    if not parts:
        return []
    grey = cv2.cvtColor(crop_bgr, cv2.COLOR_BGR2GRAY)
    local = np.abs(grey.astype(np.float32) - cv2.medianBlur(grey, 5).astype(np.float32))
    defect_p = 1.0 - probs[0].astype(np.float32)
    ci, si = classes.index("crack"), classes.index("scratch")
    share = probs[si].astype(np.float32) / np.maximum(probs[ci] + probs[si], 1e-6).astype(np.float32)
    n_lines = math.log1p(len(parts))
    total = math.log1p(sum(p.length_mm for p in parts))
    out = []
    for p in parts:
        on = p.mask > 0
        dp = p.box(defect_p)[on]
        straight, solid, bend = shape_measures(p.mask, mm_per_px, p.length_mm)
        feats = np.array(
            [
                math.log(max(p.length_mm, 0.1)),
                p.area_mm2 / max(p.length_mm, 0.1),
                straight,
                solid,
                bend,
                float(dp.mean()),
                float(dp.max()),
                float(p.box(local)[on].mean()),
                float(p.box(share)[on].mean()),
                n_lines,
                total,
            ],
            np.float64,
        )
        out.append(LineComponent(p, feats, p.box(drawn) & p.mask))
    return out


def sigmoid(z: np.ndarray) -> np.ndarray:
    return np.asarray(1.0 / (1.0 + np.exp(-np.clip(z, -40, 40))))


def scratch_probability(
    features: np.ndarray, mean: np.ndarray, scale: np.ndarray, coef: np.ndarray, intercept: float
) -> np.ndarray:
    """P(scratch) of each row of ``features`` under a standardised logistic model."""
    return sigmoid(((np.atleast_2d(features) - mean) / scale) @ coef + intercept)


def classifier_probability(clf: LineClassifier, lines: list[LineComponent]) -> np.ndarray:
    """P(scratch) of each line under a fitted classifier."""
    if not lines:
        return np.zeros(0)
    return scratch_probability(
        np.stack([ln.features for ln in lines]),
        np.asarray(clf.mean),
        np.asarray(clf.scale),
        np.asarray(clf.coef),
        clf.intercept,
    )


def reclassify_lines(
    labels: np.ndarray,
    probs: np.ndarray,
    crop_bgr: np.ndarray,
    classes: tuple[str, ...],
    clf: LineClassifier,
    min_area_mm2: float,
    mm_per_px: tuple[float, float],
) -> np.ndarray:
    """The label map with every thin line relabelled whole. A line the classifier is sure is a
    scratch becomes one scratch, its bridged gaps included (measured as the one line it is); any
    other line is a crack exactly where the pixel rule marks it. Smaller specks are left as they
    were (the scale ignores them)."""
    lines = line_components(labels, probs, crop_bgr, classes, min_area_mm2, mm_per_px)
    if not lines:
        return labels
    out = labels.copy()
    p_scratch = classifier_probability(clf, lines)
    crack, scratch = classes.index("crack"), classes.index("scratch")
    for ln, p in zip(lines, p_scratch, strict=True):
        view = ln.part.box(out)
        if p >= clf.scratch_threshold:
            view[ln.part.mask > 0] = scratch
        else:
            view[ln.strong > 0] = crack
    return out
