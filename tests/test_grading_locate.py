"""Finding the phone where the frame border is no help: a phone the colour of the mat (the outline
pass of ``find_item``), a mat lying on a desk, a border half desk and half mat, clutter beside it."""

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


def _err(loc_quad: np.ndarray, box: np.ndarray) -> float:
    """Largest corner error as a share of the body's diagonal (either way round)."""
    gt = order_quad(box)
    err = min(float(np.abs(np.roll(gt, k, axis=0) - loc_quad).max()) for k in (0, 2))
    return err / float(np.linalg.norm(gt[2] - gt[0]))


def _desk(seed: int) -> np.ndarray:
    """A brown wood-grain desk filling a 960x540 frame."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:540, 0:960].astype(np.float32)
    grain = np.sin(yy / 4.0 + np.sin(xx / 60.0) * 3.0)
    desk = np.array([50, 80, 120], np.float32)[None, None] * (1 + 0.15 * grain[..., None])
    return np.clip(desk + rng.normal(0, 2, desk.shape), 0, 255).astype(np.uint8)


def test_phone_on_a_mat_lying_on_a_desk_is_found_on_the_mat() -> None:
    """The mat does not fill the frame: a wood desk with a sheet of paper shows all round it. The phone
    is framed, not the mat (which differs from the desk as much as the phone does)."""
    for seed, angle in ((5, 20.0), (6, 95.0)):
        img = _desk(seed)
        img[30:510, 90:870] = _mat(seed)[30:510, 90:870]
        cv2.rectangle(img, (5, 200), (80, 330), (235, 235, 235), -1)  # paper on the desk
        img, box = _phone_on(img, (25, 22, 20), angle)
        loc = locate(img, "phone")
        assert loc.found, seed
        assert _err(loc.quad, box) < 0.04, seed


def test_border_half_desk_half_mat_still_finds_the_phone() -> None:
    """The mat reaches three edges of the frame and a blue desk fills the fourth: the border's colours
    are two, not one wide spread, and a dark phone on the dark mat is still found."""
    img = _mat(7, color=(70, 72, 74))
    img[:, 800:] = (140, 60, 40)  # the desk beyond the mat's right edge
    img, box = _phone_on(img, (20, 20, 22), 60.0)
    loc = locate(img, "phone")
    assert loc.found
    assert _err(loc.quad, box) < 0.04


def test_pen_beside_the_phone_is_not_part_of_it() -> None:
    """A dark pen laid a few centimetres from a dark phone is clutter, not a corner of the phone."""
    img, box = _phone_on(_mat(8), (25, 22, 20), 0.0)
    cv2.line(img, (660, 120), (700, 430), (30, 30, 30), 10, cv2.LINE_AA)
    loc = locate(img, "phone")
    assert loc.found
    assert _err(loc.quad, box) < 0.04
