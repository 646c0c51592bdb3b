"""Find the item on the station and bring it into the model's frame.

Phones are warped to a fixed portrait rectangle (``PHONE_BODY``) so that millimetres follow from the
phone's known body size, with a band of the mat around it for models that want one (``margin_px``,
from the ONNX metadata: an edge nick is a notch in the outline, invisible when the crop ends at it);
jewelry is cropped square around its bounding box and scaled to
``JEWELRY_INPUT`` so that millimetres follow from the station's stated pixels per millimetre.
The training data is prepared with these same functions, so train and run time see the same pixels.
Where the item lies is ``find_item``'s job; how the frame is resampled, ``resample``'s.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import cv2
import numpy as np

from inspector.grading.find_item import find_item, order_quad, phone_quad
from inspector.grading.resample import warp_to_crop

PHONE_BODY = (160, 320)  # width, height of the rectified phone body in the model's crop
MAX_MARGIN_PX = 64
JEWELRY_INPUT = (256, 256)
JEWELRY_PX_PER_MM_AT_1280 = 10.0  # station jewelry zoom; scales with frame width
DEFAULT_PHONE_MM = (71.5, 147.0)


@dataclass(frozen=True)
class Located:
    """The normalised item crop and how to map it back onto the camera frame."""

    crop: np.ndarray  # model-input-sized BGR uint8
    quad: np.ndarray  # 4x2 float32 corners in the frame (TL, TR, BR, BL of the item's box)
    to_frame: np.ndarray  # 3x3 homography crop -> frame
    mm_per_px: tuple[float, float]  # (x, y) millimetres per crop pixel
    found: bool  # False: nothing item-like was found and the whole frame was used
    antialiased: bool = False  # the crop was area-averaged before the warp (see warp_to_crop)
    inset_px: int = 0  # the phone body starts this many pixels inside the crop (mat around it)


def phone_margin(value: int | str) -> int:
    """A phone crop margin (model metadata, CLI flag, argument) as pixels in 0..``MAX_MARGIN_PX``;
    ValueError naming the range otherwise."""
    try:
        margin = int(value)
    except ValueError:
        margin = -1
    if not 0 <= margin <= MAX_MARGIN_PX:
        raise ValueError(f"phone crop margin must be 0..{MAX_MARGIN_PX} pixels, got {value!r}")
    return margin


def phone_input(margin_px: int = 0) -> tuple[int, int]:
    """Width and height of the phone crop: the body plus ``margin_px`` of mat on every side."""
    m = phone_margin(margin_px)
    return PHONE_BODY[0] + 2 * m, PHONE_BODY[1] + 2 * m


def rectify_phone(
    image: np.ndarray,
    quad: np.ndarray,
    size_mm: tuple[float, float] = DEFAULT_PHONE_MM,
    antialias: bool = False,
    margin_px: int = 0,
) -> Located:
    """Warp the body ``quad`` to ``PHONE_BODY``, ``margin_px`` inside a crop of ``phone_input``."""
    bw, bh = PHONE_BODY
    m = margin_px
    size = phone_input(m)
    dst = np.array([[m, m], [m + bw, m], [m + bw, m + bh], [m, m + bh]], np.float32)
    q = order_quad(quad)
    to_crop = cv2.getPerspectiveTransform(q, dst)
    crop = warp_to_crop(image, to_crop, size, antialias)
    mm = (size_mm[0] / bw, size_mm[1] / bh)
    return Located(crop, q, np.linalg.inv(to_crop), mm, True, antialias, inset_px=m)


def jewelry_box(contour: np.ndarray | None, shape: tuple[int, ...]) -> tuple[np.ndarray, bool]:
    h, w = shape[:2]
    if contour is None:
        return np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32), False
    x0, y0 = contour.min(axis=0)
    x1, y1 = contour.max(axis=0)
    return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], np.float32), True


def crop_jewelry(
    image: np.ndarray, box: np.ndarray, found: bool = True, margin: float = 0.08, antialias: bool = False
) -> Located:
    """Square crop around the item's box (with margin), scaled to the model input."""
    fw = image.shape[1]
    x0, y0 = box.min(axis=0)
    x1, y1 = box.max(axis=0)
    side = max(x1 - x0, y1 - y0) * (1 + 2 * margin) + 4
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    s = JEWELRY_INPUT[0] / side
    to_crop = np.array(
        [[s, 0, JEWELRY_INPUT[0] / 2 - s * cx], [0, s, JEWELRY_INPUT[1] / 2 - s * cy], [0, 0, 1]], np.float64
    )
    crop = warp_to_crop(image, to_crop, JEWELRY_INPUT, antialias)
    ppm = JEWELRY_PX_PER_MM_AT_1280 * fw / 1280.0
    mm = 1.0 / (s * ppm)
    half = side / 2
    quad = np.array(
        [[cx - half, cy - half], [cx + half, cy - half], [cx + half, cy + half], [cx - half, cy + half]],
        np.float32,
    )
    return Located(crop, quad, np.linalg.inv(to_crop), (mm, mm), found, antialias)


def locate(
    image: np.ndarray,
    kind: str,
    phone_size_mm: tuple[float, float] = DEFAULT_PHONE_MM,
    antialias: bool = False,
    margin_px: int = 0,
) -> Located:
    """Find and normalise the item; falls back to the whole frame when nothing is found.
    ``antialias`` and ``margin_px`` (phones) must match the model the crop is for
    (``SegModel.locate`` passes them)."""
    contour = find_item(image, kind)
    if kind == "phone":
        if contour is None:
            h, w = image.shape[:2]
            q = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32)
            return replace(rectify_phone(image, q, phone_size_mm, antialias, margin_px), found=False)
        return rectify_phone(image, phone_quad(contour), phone_size_mm, antialias, margin_px)
    box, found = jewelry_box(contour, image.shape)
    return crop_jewelry(image, box, found, antialias=antialias)
