"""Loose stones: each region the network marks as a loose stone, judged whole by a trained scorer.

A loose stone sits off its seat or tilted: the stone is an ellipse shifted from the bezel, and a dark
crescent of the empty seat shows beside it. The network also marks a blob on the dark facets of an
intact sapphire, emerald or ruby, or on a glint across a stone (station renders: 8 of 19 clean jewels
graded Fair). Such a blob is stone colour all over, with stone around it and no gap. So every region
the network marks as a loose stone under the plain rule (P(defect) >= 0.5, the most likely class) is
a candidate, measured (``FEATURES``) with the dark gap it has in and beside it, and a scorer shipped
beside the model says how likely it is a stone off its seat; only the regions it accepts at the
calibrated threshold stay loose stones.
"""

from __future__ import annotations

import math

import numpy as np

from inspector.grading.candidates import Candidate, ScorerKind
from inspector.grading.stone_seats import (
    CropPlanes,
    marked_regions,
    outline_measures,
    region_shape,
    share,
    surroundings,
)

# A pixel whose brightest channel is under this share of the band around the region's (median) is as
# dark as a gap: the stone's own colour has a bright channel, the empty seat has none.
GAP_DARKNESS = 0.4

FEATURES: tuple[str, ...] = (
    "log_area_mm2",
    "log_length_mm",
    "circularity",  # 4 pi area / perimeter²
    "disc_fill",  # area / its enclosing circle's area
    "solidity",
    "grey_in",
    "grey_in_spread",  # a stone beside its gap is bright and dark; a facet blob is even
    "grey_around",
    "saturation_in",
    "saturation_in_spread",
    "saturation_around",
    "gap_in",  # share of the region as dark as a gap (GAP_DARKNESS)
    "gap_near",  # the same in the near band around it: the crescent beside a shifted stone
    "gap_not_mat",  # gap pixels in and near the region that do not look like the mat
    "p_loose",
    "p_loose_max",
    "p_missing",  # the empty part of a shifted stone's seat is often read as a missing stone
    "p_missing_near",
    "p_defect",
    "p_background_around",
    "mat_like_in",
    "mat_like_far",
    "log_radius_mm",
    "item_regions",  # how many such regions the piece has
    "off_centre",  # squared distance of the region from the crop centre, in crop pixels
)


def loose_stones(
    crop_bgr: np.ndarray,
    probs: np.ndarray,
    classes: tuple[str, ...],
    mm_per_px: tuple[float, float],
    best: np.ndarray | None = None,
) -> list[Candidate]:
    """Every region the network marks as a loose stone under the plain rule, with its measures.
    ``best``: the most likely defect class per pixel, when the caller has it already."""
    li = classes.index("loose_stone")
    parts = marked_regions(probs, classes, "loose_stone", mm_per_px, best)
    if not parts:
        return []
    planes = CropPlanes.of(crop_bgr)
    grey, sat, value, mat = planes.grey, planes.sat, planes.value, planes.mat
    p_missing = probs[classes.index("missing_stone")] if "missing_stone" in classes else np.zeros_like(grey)
    h, w = grey.shape
    out = []
    for c in parts:
        on = c.mask > 0
        ring = surroundings(c, grey.shape)
        shape = region_shape(c, mm_per_px)
        g_in, s_in = c.box(grey)[on], c.box(sat)[on]
        g_near = ring.of(grey)[ring.near]
        grey_around = share(g_near, float(g_in.mean()))
        v_near = ring.of(value)[ring.near]
        dark = value < GAP_DARKNESS * (float(np.median(v_near)) if v_near.size else 1.0)
        in_window = np.zeros(ring.near.shape, bool)
        mh, mw = c.mask.shape
        in_window[c.y - ring.y0 : c.y - ring.y0 + mh, c.x - ring.x0 : c.x - ring.x0 + mw] = on
        close = in_window | ring.near
        feats = np.array(
            [
                *outline_measures(c, shape),
                float(g_in.mean()),
                float(g_in.std()),
                grey_around,
                float(s_in.mean()),
                float(s_in.std()),
                share(ring.of(sat)[ring.near]),
                float(c.box(dark)[on].mean()),
                share(ring.of(dark)[ring.near]),
                float((ring.of(dark) & ~ring.of(mat))[close].mean()),
                float(c.box(probs[li])[on].mean()),
                float(c.box(probs[li])[on].max()),
                float(c.box(p_missing)[on].mean()),
                share(ring.of(p_missing)[ring.near]),
                float(1.0 - c.box(probs[0])[on].mean()),
                share(ring.of(probs[0])[ring.near], 1.0),
                float(c.box(mat)[on].mean()),
                share(ring.of(mat)[ring.far]),
                math.log(shape.radius * float(mm_per_px[0]) + 1e-3),
                float(len(parts)),
                (shape.cx + c.x - w / 2) ** 2 + (shape.cy + c.y - h / 2) ** 2,
            ],
            np.float32,
        )
        out.append(Candidate(c, feats))
    return out


LOOSE_STONES = ScorerKind("loose_stones", "loose-stone scorer", "loose_stones", FEATURES, loose_stones)
