"""A rendered scene's defect masks, carried into the model's crop: the label map that training,
calibration and evaluation all compare the model against, so the three cannot drift apart."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import cv2
import numpy as np

from inspector.grading.locate import Located


def crop_labels(masks: Mapping[str, np.ndarray], classes: Sequence[str], loc: Located) -> np.ndarray:
    """Per-pixel class index in crop coordinates (0 = background, i + 1 = ``classes[i]``)."""
    to_crop = np.linalg.inv(loc.to_frame)
    ch, cw = loc.crop.shape[:2]
    label = np.zeros((ch, cw), np.uint8)
    for i, name in enumerate(classes):
        m = cv2.warpPerspective(masks[name].astype(np.float32), to_crop, (cw, ch), flags=cv2.INTER_LINEAR)
        label[m > 0.3] = i + 1
    return label
