"""A rendered scene's defect masks, carried into the model's crop: the label map that training,
calibration and evaluation all compare the model against, so the three cannot drift apart."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import cv2
import numpy as np

from inspector.grading.locate import Located
from inspector.grading.resample import warp_to_crop

CROP_VISIBLE_LEVELS = 18.0
"""A thin defect stays labelled only where its visibility map, resampled like the crop, reaches this
many grey levels. The renderer's own rule works on the camera frame; shrinking the frame ~2x into the
phone crop halves a hairline's contrast, and labels at the crop's noise floor taught the model that a
scratch label can sit on plain glass (while the visible scratches were read as cracks). The map is
taken before noise and JPEG, which cost a thin line about a third of its contrast: at 18 the kept
phone scratches show a median 12-14 grey levels in the crop against a background p99 of 6-8, and about
half the rendered scratch pixels stay labelled; cracks lose ~10 %."""


STROKE_VISIBLE_LEVELS = 10.0
"""A whole connected line stays labelled when its typical pixel (the median) shows this many grey
levels in the crop. Pixel by pixel, a plainly visible scratch whose brightness comes and goes kept
only its brightest dashes, so the model was taught that most of a visible scratch is background."""


def _visible_strokes(mask: np.ndarray, vis: np.ndarray) -> np.ndarray:
    """The pixels of ``mask`` that are seen (CROP_VISIBLE_LEVELS, 1 px tolerance), and every connected
    line of it whose median visibility reaches STROKE_VISIBLE_LEVELS, whole."""
    seen = cv2.dilate((vis >= CROP_VISIBLE_LEVELS).astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    keep = mask & seen
    n, comp = cv2.connectedComponents(mask.astype(np.uint8), connectivity=8)
    if n > 1:
        local = cv2.dilate(vis, np.ones((3, 3), np.uint8))  # the label is wider than the drawn line
        ids, vals = comp[mask], local[mask]
        order = np.argsort(ids, kind="stable")
        bounds = np.cumsum(np.bincount(ids, minlength=n))[:-1]
        for j, part in enumerate(np.split(vals[order], bounds)[1:], start=1):
            if len(part) and float(np.median(part)) >= STROKE_VISIBLE_LEVELS:
                keep |= comp == j
    return keep


def crop_labels(
    masks: Mapping[str, np.ndarray],
    classes: Sequence[str],
    loc: Located,
    visibility: Mapping[str, np.ndarray] | None = None,
) -> np.ndarray:
    """Per-pixel class index in crop coordinates (0 = background, i + 1 = ``classes[i]``).

    ``visibility`` (the scene's per-class grey-level maps) applies the visibility rule again in the
    crop, resampled exactly as the crop itself was (``loc.antialiased``)."""
    to_crop = np.linalg.inv(loc.to_frame)
    ch, cw = loc.crop.shape[:2]
    label = np.zeros((ch, cw), np.uint8)
    for i, name in enumerate(classes):
        m = cv2.warpPerspective(masks[name].astype(np.float32), to_crop, (cw, ch), flags=cv2.INTER_LINEAR)
        keep = m > 0.3
        if visibility is not None and name in visibility:
            keep = _visible_strokes(keep, warp_to_crop(visibility[name], to_crop, (cw, ch), loc.antialiased))
        label[keep] = i + 1
    return label
