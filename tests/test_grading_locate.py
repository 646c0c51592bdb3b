"""Finding the phone on the station mat when its colour is no help: the outline pass of ``find_item``."""

from __future__ import annotations

import cv2
import numpy as np

from inspector.grading.locate import locate, order_quad


def _mat(seed: int, color: tuple[int, int, int] = (112, 108, 104)) -> np.ndarray:
    """A 960x540 mat with the soft blotches of a real mat's texture (a few grey levels)."""
    rng = np.random.default_rng(seed)
    noise = cv2.resize(
        rng.normal(0, 1, (9, 16)).astype(np.float32), (960, 540), interpolation=cv2.INTER_CUBIC
    )
    mat = np.asarray(color, np.float32)[None, None] + 4.0 * noise[..., None]
    return np.clip(mat + rng.normal(0, 1.5, mat.shape), 0, 255).astype(np.uint8)


def _phone_on(mat: np.ndarray, body: tuple[int, int, int], angle: float) -> tuple[np.ndarray, np.ndarray]:
    """A phone-shaped body (rounded corners, a dark 1 px edge) drawn on ``mat``; its corner quad."""
    box = cv2.boxPoints(((480.0, 270.0), (180.0, 370.0), angle)).astype(np.float32)
    img = mat.copy()
    cv2.fillPoly(img, [np.round(box).astype(np.int32)], body, cv2.LINE_AA)
    cv2.polylines(img, [np.round(box).astype(np.int32)], True, (70, 70, 70), 2, cv2.LINE_AA)
    return cv2.GaussianBlur(img, (3, 3), 0), box


def test_phone_the_colour_of_the_mat_is_found_by_its_outline() -> None:
    """A grey back on a grey mat (3-6 grey levels apart, less than the mat's own blotches) is still
    found and rectified, instead of grading the whole frame as if it were the phone."""
    for seed, angle in ((1, 25.0), (2, 70.0), (3, 110.0)):
        img, box = _phone_on(_mat(seed), (116, 111, 108), angle)
        loc = locate(img, "phone")
        assert loc.found, seed
        gt = order_quad(box)
        err = min(float(np.abs(np.roll(gt, k, axis=0) - loc.quad).max()) for k in (0, 2))
        assert err < 0.04 * float(np.linalg.norm(gt[2] - gt[0])), seed


def test_outline_pass_takes_only_phone_shapes() -> None:
    """Nothing phone-shaped on the mat (a square case, a round coaster) stays 'not found': the grader
    then says so, rather than framing the wrong thing as a phone."""
    img = _mat(4)
    cv2.rectangle(img, (380, 170), (580, 370), (70, 70, 70), 2)
    cv2.circle(img, (760, 300), 90, (70, 70, 70), 2)
    assert not locate(img, "phone").found
