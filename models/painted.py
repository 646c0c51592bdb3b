"""Cracks painted onto real intact photos: the same photo with and without damage, so a figure on them
measures whether a scorer sees the crack rather than the style of the photo.

The renderer's crack (``models.synth.scene.draw_crack``) is drawn at its canonical 5 px/mm, so the
photo is first brought to ``LONG_SIDE`` px (a hand-held phone then spans roughly 350 x 750 px, the
renderer's phone); the crack lies in the central ``REGION`` of the frame, where the phone usually is.
"""

from __future__ import annotations

import cv2
import numpy as np

from models.synth.scene import draw_crack

LONG_SIDE = 800
REGION = (0.25, 0.2, 0.75, 0.8)  # x0, y0, x1, y1 as fractions of the frame


def base_image(image_bgr: np.ndarray) -> np.ndarray:
    """The photo at ``LONG_SIDE`` px on its long side: what the painted copy is compared with."""
    h, w = image_bgr.shape[:2]
    f = LONG_SIDE / max(h, w)
    size = (max(1, round(w * f)), max(1, round(h * f)))
    return cv2.resize(image_bgr, size, interpolation=cv2.INTER_AREA if f < 1 else cv2.INTER_CUBIC)


def paint_crack(image_bgr: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``base_image`` with a crack painted inside ``REGION``, and the crack's mask (uint8, 1 on it)."""
    base = base_image(image_bgr)
    h, w = base.shape[:2]
    rng = np.random.default_rng(seed)
    region = np.zeros((h, w), np.uint8)
    x0, y0, x1, y1 = REGION
    region[round(y0 * h) : round(y1 * h), round(x0 * w) : round(x1 * w)] = 1
    img = base.astype(np.float32)
    mask = np.zeros((h, w), np.uint8)
    draw_crack(rng, img, mask, region, bright=bool(rng.random() < 0.5))
    return np.clip(img, 0, 255).astype(np.uint8), mask
