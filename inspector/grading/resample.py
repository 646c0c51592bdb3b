"""Resampling a camera frame into a model's crop.

How the frame is resampled is part of a model's contract (ONNX metadata ``resample``): models built
since v3 see an anti-aliased crop (``antialias=True``); older ones the plain bilinear warp they were
trained on. OpenCV's warps ignore ``INTER_AREA`` and sample bilinearly, which turns a 1-pixel line
shrunk 2x into a dashed one whose dashes come and go with the phone's position.
"""

from __future__ import annotations

import cv2
import numpy as np

ANTIALIAS_FROM = 1.15
"""Shrink factor above which an anti-aliased warp first area-averages the frame."""
HALVE_FROM = 4.0
"""Shrink factor from which ``area_shrink`` halves the image (2 x 2 means, OpenCV's fast path); a
factor that is not a whole number is halved from ``HALVE_ODD_FROM`` on. OpenCV's general area resize
costs about four times as much per source pixel: tens of milliseconds for a phone in a 4K frame."""
HALVE_ODD_FROM = 3.0
"""Below it (the segmentation crop of a phone in a frame up to 1280 x 720, as the models were trained
on) one area resize is kept, so those crops stay exactly what they were."""


def _halve(src_side: int, side: int, halve_from: float) -> bool:
    f = src_side / side
    return f >= halve_from or (f >= HALVE_ODD_FROM and not f.is_integer())


def area_shrink(
    image: np.ndarray, size: tuple[int, int], halve_from: float = HALVE_FROM
) -> tuple[np.ndarray, tuple[float, float]]:
    """``image`` area-averaged down to ``size`` (w, h), and the (x, y) scale from it to the result.

    Halves first while both factors call for it (``halve_from``; an odd last row or column is left
    out), then one area resize of what is left: the same block means as one area resize where the
    factor is an integer (12 = 2 x 2 x 3), nearly the same otherwise. A view no model was trained on
    at that scale halves from 2 (``halve_from=2``): a quarter of the time."""
    w, h = size
    src, k = image, 1
    while _halve(src.shape[1], w, halve_from) and _halve(src.shape[0], h, halve_from):
        hh, hw = src.shape[0] // 2, src.shape[1] // 2
        src = cv2.resize(src[: 2 * hh, : 2 * hw], (hw, hh), interpolation=cv2.INTER_AREA)
        k *= 2
    out = cv2.resize(src, (w, h), interpolation=cv2.INTER_AREA)
    return np.asarray(out), (w / (src.shape[1] * k), h / (src.shape[0] * k))


def warp_to_crop(
    image: np.ndarray,
    to_crop: np.ndarray,
    size: tuple[int, int],
    antialias: bool,
    halve_from: float = HALVE_FROM,
) -> np.ndarray:
    """Warp ``image`` by the homography ``to_crop`` into a ``size`` (w, h) crop.

    With ``antialias`` the part of the frame under the crop is first shrunk with ``INTER_AREA`` by the
    warp's own scale, so every frame pixel counts once and thin lines stay continuous; the remaining
    warp is then close to 1:1. Works for float maps too (the renderer's visibility maps).
    ``halve_from``: see ``area_shrink``."""
    src, h_src = _area_shrunk(image, to_crop, size, halve_from) if antialias else (image, to_crop)
    return np.asarray(
        cv2.warpPerspective(src, h_src, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    )


def _area_shrunk(
    image: np.ndarray, to_crop: np.ndarray, size: tuple[int, int], halve_from: float
) -> tuple[np.ndarray, np.ndarray]:
    """The frame region under the crop, area-averaged down by the warp's scale, and the homography
    from it to the crop; the frame itself when the warp hardly shrinks."""
    w, h = size
    corners = np.array([[[0, 0], [w, 0], [w, h], [0, h]]], np.float32)
    c = cv2.perspectiveTransform(corners, np.linalg.inv(to_crop))[0]
    fx = (np.linalg.norm(c[1] - c[0]) + np.linalg.norm(c[2] - c[3])) / (2 * w)
    fy = (np.linalg.norm(c[3] - c[0]) + np.linalg.norm(c[2] - c[1])) / (2 * h)
    f = float(min(fx, fy))
    fh, fw = image.shape[:2]
    x0, y0 = (max(0, int(v) - 2) for v in np.floor(c.min(axis=0)))
    x1, y1 = (int(v) + 2 for v in np.ceil(c.max(axis=0)))
    x1, y1 = min(fw, x1), min(fh, y1)
    if f <= ANTIALIAS_FROM or x1 - x0 < 2 or y1 - y0 < 2:
        return image, to_crop
    sw, sh = max(1, round((x1 - x0) / f)), max(1, round((y1 - y0) / f))
    small, (sx, sy) = area_shrink(image[y0:y1, x0:x1], (sw, sh), halve_from)
    # frame -> small: shift to the region, then scale; the crop homography composes after its inverse
    to_small = np.array([[sx, 0, 0], [0, sy, 0], [0, 0, 1]]) @ np.array(
        [[1, 0, -x0], [0, 1, -y0], [0, 0, 1]], np.float64
    )
    return small, to_crop @ np.linalg.inv(to_small)
