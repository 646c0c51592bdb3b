"""Jewelry scratches: thin lines found in the crop itself, each judged whole by a trained scorer.

A jewelry scratch is a 1-2 pixel line in the model's crop, and the segmentation network marks it as
a soft blob at the level of bevel shading and stone facets: jewelry v13 found scratches on 2 % of
scratched held-out pieces (jewelry model card). The line itself is plain to see: a thin stroke that a
median filter removes while it keeps the smooth shading and the edges of the piece. So every such
stroke is a candidate, measured (shape, contrast, how it lies against the shading, and what the
network says under and around it, ``FEATURES``), and a small MLP trained on rendered pieces
(``python -m models.fit_candidates --target scratch_lines``), shipped as ONNX next to the
segmentation model, gives P(scratch) per candidate. The candidates it accepts at the calibrated
threshold are added to the label map as scratches and measured like any other defect.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from inspector.grading.candidates import Candidate, ScorerKind
from inspector.grading.components import Component, skeleton_length
from inspector.grading.line_shapes import hull_measures
from inspector.grading.pixel_moments import LabelledPixels, across_gradient, bend, principal_frame

CONTRAST_LEVELS = 8.0
"""A candidate line differs from its 7x7 median by at least this many grey levels somewhere..."""
TRACE_LEVELS = 5.0
"""...and is followed along its pixels that differ by at least this many (hysteresis, as in Canny)."""
MEDIAN_PX = 7  # wider than a scratch (1-3 px), narrower than a ring band or a stone
MIN_PIXELS = 6  # fewer is a speck (dust, a sparkle), not a line
STONE_CLASSES = ("missing_stone", "loose_stone")

FEATURES: tuple[str, ...] = (
    "log_length_mm",
    "log_length_px",
    "width_px",  # pixels / length: a scratch is 1-2 px wide
    "straightness",
    "solidity",
    "bend_mm",
    "log_contrast",  # mean |grey - median| on the line
    "log_contrast_max",
    "polarity_consistency",  # |mean sign|: a scratch is all bright or all dark
    "polarity",  # + bright on its metal, - dark
    "p_scratch",  # the network's mean P(scratch) on the line
    "p_scratch_near_max",
    "p_defect",
    "p_stone_near_max",  # facets and prongs of a stone, and the seat of a missing one
    "p_tarnish",
    "saturation_near",  # stones are saturated colour; metal is not (gold a little)
    "brightness_near",
    "glare_near",  # share of clipped pixels around it: glare streaks and sparkles
    "log_item_lines",  # a patterned or tarnished piece has hundreds
    "p_background_near_min",
    "clutter",  # mean |grey - median| in the 15x15 box around: texture, not a lone stroke
    "across_shading",  # |cos| between the line and the shading gradient: bevel edges run along it
    "ridge_ratio",  # Hessian line response per contrast: lines, not blobs or corners
    "log_contrast_vs_crop",  # contrast against the crop's 90th percentile
)


def _percentile_of_levels(levels: np.ndarray, q: float) -> float:
    """``np.percentile(levels, q)`` (linear interpolation) for whole grey levels 0..255, from their
    histogram instead of a partial sort."""
    cum = np.cumsum(np.bincount(levels.astype(np.int32).ravel(), minlength=256))
    pos = q / 100.0 * (int(cum[-1]) - 1)
    lo, hi = math.floor(pos), math.ceil(pos)
    v_lo, v_hi = (float(np.searchsorted(cum, k, side="right")) for k in (lo, hi))
    return v_lo + (v_hi - v_lo) * (pos - lo)


def _hysteresis(contrast: np.ndarray, strong: float, weak: float) -> np.ndarray:
    """uint8 mask of the pixels >= ``weak`` connected to a pixel >= ``strong``."""
    traced = (contrast >= weak).astype(np.uint8)
    if weak >= strong:
        return traced
    n, comp = cv2.connectedComponents(traced, connectivity=8)
    keep = np.zeros(n, bool)
    keep[np.unique(comp[contrast >= strong])] = True
    keep[0] = False
    return keep[comp].astype(np.uint8)


def _hessian_line(grey: np.ndarray, sigma: float = 1.0) -> np.ndarray:
    """|largest| - |smallest| Hessian eigenvalue: high along a thin line, low on blobs and flat shading."""
    g = cv2.GaussianBlur(grey.astype(np.float32), (0, 0), sigma)
    hxx = cv2.Sobel(g, cv2.CV_32F, 2, 0, ksize=3)
    hyy = cv2.Sobel(g, cv2.CV_32F, 0, 2, ksize=3)
    hxy = cv2.Sobel(g, cv2.CV_32F, 1, 1, ksize=3)
    half_trace = (hxx + hyy) / 2
    d = np.sqrt(((hxx - hyy) / 2) ** 2 + hxy**2)
    return np.asarray(np.abs(np.abs(half_trace + d) - np.abs(half_trace - d)), np.float32)


def _axis_measures(
    ys: np.ndarray,
    xs: np.ndarray,
    label: np.ndarray,
    measured: list[int],
    mm_per_px: tuple[float, float],
    shading: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """(bend_mm, across_shading) of the strokes ``measured`` (0-based; ``label`` is each stroke
    pixel's index + 1), all at once: how far each wanders from a smooth curve, and the mean |cos|
    between its main axis and the gradient of the shading under it (bevel edges and contours run
    along the shading's contours, a scratch crosses them at any angle)."""
    which = np.full(int(label.max()), -1, np.intp)
    which[measured] = np.arange(len(measured))
    stroke = which[label - 1]
    on = stroke >= 0
    ys, xs = ys[on], xs[on]
    px = LabelledPixels(xs.astype(np.float64), ys.astype(np.float64), stroke[on], len(measured))
    mx, my = float(mm_per_px[0]), float(mm_per_px[1])
    px_mm = px.scaled(mx, my)
    frame_mm = principal_frame(px_mm)
    along = frame_mm.along if mx == my else principal_frame(px).along
    gx = cv2.Sobel(shading, cv2.CV_32F, 1, 0)[ys, xs].astype(np.float64)
    gy = cv2.Sobel(shading, cv2.CV_32F, 0, 1)[ys, xs].astype(np.float64)
    return bend(px_mm, frame_mm), across_gradient(px, gx, gy, along)


def _strokes(
    strokes: np.ndarray, mm_per_px: tuple[float, float], min_length_mm: float
) -> tuple[list[Component], np.ndarray]:
    """The strokes of at least ``MIN_PIXELS`` pixels as components (measured as ``class_components``
    measures them), and the label image with their ids 1..n in that order (0 elsewhere). A stroke
    surely shorter than ``min_length_mm`` (its skeleton cannot have more pixels than the stroke)
    gets length 0 instead of its measured one."""
    n, comp, stats, _ = cv2.connectedComponentsWithStats(strokes, connectivity=8)
    keep = np.flatnonzero(stats[:, cv2.CC_STAT_AREA] >= MIN_PIXELS)
    keep = keep[keep > 0]
    if not len(keep):
        return [], np.zeros_like(comp)
    remap = np.zeros(n, np.int32)
    remap[keep] = np.arange(1, len(keep) + 1)
    ids = remap[comp]
    mx, my = float(mm_per_px[0]), float(mm_per_px[1])
    px_len = (mx + my) / 2
    parts = []
    for k, j in enumerate(keep, 1):
        x, y, w, h, area = (int(v) for v in stats[j])
        mask = (ids[y : y + h, x : x + w] == k).astype(np.uint8)
        if max(area, w, h) * px_len < min_length_mm:
            length = 0.0
        else:
            length = max(skeleton_length(mask), float(max(w, h))) * px_len
        parts.append(Component(length, area * mx * my, x, y, mask))
    return parts, ids


def surface_lines(
    crop_bgr: np.ndarray,
    probs: np.ndarray,
    classes: tuple[str, ...],
    mm_per_px: tuple[float, float],
    min_length_mm: float = 0.0,
) -> list[Candidate]:
    """Every thin stroke of a jewelry crop at least ``min_length_mm`` long, with its measures.

    The grader passes the rule's minimum scratch length: a shorter stroke could not count as a
    scratch anyway (unless it touched the network's own scratch pixels and made them long enough
    together), and three in four strokes are shorter than 3 mm, so their shape is never measured.
    Their number still counts in ``log_item_lines``."""
    grey = cv2.cvtColor(crop_bgr, cv2.COLOR_BGR2GRAY)
    signed = grey.astype(np.float32) - cv2.medianBlur(grey, MEDIAN_PX).astype(np.float32)
    contrast = np.abs(signed)
    parts, ids = _strokes(_hysteresis(contrast, CONTRAST_LEVELS, TRACE_LEVELS), mm_per_px, min_length_mm)
    if not parts:
        return []
    shading = cv2.GaussianBlur(grey.astype(np.float32), (0, 0), 4)
    sat = cv2.cvtColor(crop_bgr, cv2.COLOR_BGR2HSV)[..., 1].astype(np.float32) / 255.0
    p_scratch = probs[classes.index("scratch")]
    p_stone = sum(probs[classes.index(c)] for c in STONE_CLASSES if c in classes)
    defect_p = 1.0 - probs[0]
    p_tarnish = probs[classes.index("tarnish")] if "tarnish" in classes else np.zeros_like(defect_p)
    # means on each stroke's own pixels, for all strokes at once
    ys, xs = np.nonzero(ids)
    label = ids[ys, xs]
    count = np.bincount(label, minlength=len(parts) + 1)[1:].astype(np.float64)

    def on_mean(image: np.ndarray) -> np.ndarray:
        return np.bincount(label, weights=image[ys, xs], minlength=len(parts) + 1)[1:] / count

    c_on = contrast[ys, xs]
    c_max = np.zeros(len(parts) + 1, np.float32)
    np.maximum.at(c_max, label, c_on)
    means = {
        "contrast": on_mean(contrast),
        "sign": on_mean(np.sign(signed)),
        "p_scratch": on_mean(p_scratch),
        "defect": on_mean(defect_p),
        "tarnish": on_mean(p_tarnish),
        "clutter": on_mean(cv2.blur(contrast, (15, 15))),
        "ridge": on_mean(_hessian_line(grey) / (contrast + 1.0)),
    }
    p90 = _percentile_of_levels(contrast, 90.0) + 1.0
    n_lines = math.log1p(len(parts))
    measured = [i for i, p in enumerate(parts) if p.length_mm >= min_length_mm]
    if not measured:
        return []
    bends, across = _axis_measures(ys, xs, label, measured, mm_per_px, shading)
    # what lies around each stroke (its box, 3 px out from it), taken in one slice per stroke
    planes = np.stack(
        [p_scratch, p_stone, probs[0], sat, grey.astype(np.float32) / 255.0, (grey >= 245).astype(np.float32)]
    )
    near_kernel = np.ones((7, 7), np.uint8)
    out = []
    for k, i in enumerate(measured):
        p = parts[i]
        h, w = p.mask.shape
        near = planes[:, p.y : p.y + h, p.x : p.x + w][:, cv2.dilate(p.mask, near_kernel) > 0]
        p_scratch_near, p_stone_near = near[:2].max(axis=1)
        p_background_near = near[2].min()
        saturation_near, brightness_near, glare_near = near[3:].mean(axis=1, dtype=np.float64)
        length_px = p.length_mm / float(mm_per_px[0])
        straight, solid = hull_measures(p.mask, mm_per_px, p.length_mm)
        contrast_mean = float(means["contrast"][i])
        sign_mean = float(means["sign"][i])
        feats = np.array(
            [
                math.log(max(p.length_mm, 0.05)),
                math.log(max(length_px, 1.0)),
                float(count[i]) / max(length_px, 1.0),
                straight,
                solid,
                bends[k],
                math.log(contrast_mean),
                math.log(float(c_max[i + 1])),
                abs(sign_mean),
                sign_mean,
                float(means["p_scratch"][i]),
                p_scratch_near,
                float(means["defect"][i]),
                p_stone_near,
                float(means["tarnish"][i]),
                saturation_near,
                brightness_near,
                glare_near,
                n_lines,
                p_background_near,
                float(means["clutter"][i]),
                across[k],
                float(means["ridge"][i]),
                math.log(contrast_mean / p90),
            ],
            np.float32,
        )
        out.append(Candidate(p, feats))
    return out


SCRATCH_LINES = ScorerKind("scratch_lines", "scratch-line scorer", "scratch_lines", FEATURES, surface_lines)
