"""Shape measures of many strokes at once give each stroke the values it gets measured alone, the
plain way (a least-squares fit per stroke, a loop over its pixels): the jewelry scratch scorer was
trained on those values, so a faster grader must not move them."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from inspector.grading.line_shapes import shape_measures
from inspector.grading.pixel_labels import most_likely_defect
from inspector.grading.pixel_moments import LabelledPixels, across_gradient, bend, from_mask, principal_frame
from inspector.grading.surface_lines import FEATURES, surface_lines


def _plain_bend(xs: np.ndarray, ys: np.ndarray) -> float:
    """RMS distance from the least-squares quadratic along the main axis, one stroke, numpy.lstsq."""
    pts = np.stack([xs, ys], axis=1).astype(np.float64)
    c = pts - pts.mean(axis=0)
    _, vecs = np.linalg.eigh(c.T @ c)
    u, v = c @ vecs[:, 1], c @ vecs[:, 0]
    a = np.stack([u * u, u, np.ones_like(u)], axis=1)
    coef, *_ = np.linalg.lstsq(a, v, rcond=None)
    return float(np.sqrt(np.mean((v - a @ coef) ** 2)))


def _plain_across(xs: np.ndarray, ys: np.ndarray, gx: np.ndarray, gy: np.ndarray) -> float:
    """Mean |cos| between the main axis and the gradient, pixel by pixel."""
    pts = np.stack([xs, ys], axis=1).astype(np.float64)
    c = pts - pts.mean(axis=0)
    _, vecs = np.linalg.eigh(c.T @ c)
    axis = vecs[:, 1]
    cosines = [abs(x * axis[0] + y * axis[1]) / (np.hypot(x, y) + 1e-6) for x, y in zip(gx, gy, strict=True)]
    return float(np.mean(cosines))


def _strokes() -> np.ndarray:
    """Label image with strokes 1..6: straight, curved, jagged, thick, two pixels wide and a blob."""
    img = np.zeros((120, 160), np.uint8)
    cv2.line(img, (5, 5), (60, 20), 1, 1)
    cv2.ellipse(img, (100, 30), (40, 20), 0, 180, 300, 2, 1)
    pts = np.array([[10, 60], [20, 50], [30, 68], [40, 52], [50, 70], [60, 55]], np.int32)
    cv2.polylines(img, [pts], False, 3, 1)
    cv2.line(img, (80, 70), (140, 90), 4, 3)
    img[100:102, 10:30] = 5  # two rows: only two positions across, many along
    cv2.circle(img, (120, 108), 5, 6, -1)
    return img


def test_every_stroke_bends_and_crosses_the_shading_as_when_measured_alone() -> None:
    """Straight, curved, jagged, thick and round strokes measured together match their one-at-a-time
    least-squares bend and their mean |cos| against a gradient, to float rounding."""
    ids = _strokes()
    ys, xs = np.nonzero(ids)
    label = ids[ys, xs].astype(np.intp) - 1
    px = LabelledPixels(xs.astype(np.float64), ys.astype(np.float64), label, 6)
    rng = np.random.default_rng(3)
    gx, gy = rng.normal(size=len(xs)), rng.normal(size=len(xs))
    frame = principal_frame(px)
    bends = bend(px, frame)
    across = across_gradient(px, gx, gy, frame.along)
    for k in range(6):
        on = label == k
        assert bends[k] == pytest.approx(_plain_bend(xs[on], ys[on]), abs=1e-9)
        assert across[k] == pytest.approx(_plain_across(xs[on], ys[on], gx[on], gy[on]), abs=1e-9)
    assert bends[0] < 0.5 < bends[2]  # a straight line hardly wanders, a zigzag does


def test_a_stroke_on_two_positions_along_its_axis_and_tiny_strokes_are_measured() -> None:
    """Pixels on only two positions along the axis (no curvature to fit) get the straight fit's
    residual, like lstsq; fewer than 4 pixels get bend 0 and fewer than 3 an across of 0.5."""
    xs = np.array([0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 5.0, 6.0])
    ys = np.array([0.0, 4.0, 8.0, 0.0, 4.0, 8.0, 5.0, 5.0])
    px = LabelledPixels(xs, ys, np.array([0, 0, 0, 0, 0, 0, 1, 1]), 2)
    bends = bend(px)
    assert bends[0] == pytest.approx(_plain_bend(xs[:6], ys[:6]), abs=1e-9)
    assert bends[1] == 0.0
    assert across_gradient(px, np.ones(8), np.zeros(8), principal_frame(px).along)[1] == 0.5


def test_shape_measures_of_one_mask_keep_their_meaning() -> None:
    """The one-mask entry point (phone lines, stone seats) returns the plain bend in millimetres."""
    ids = _strokes()
    mask = (ids == 3).astype(np.uint8)
    ys, xs = np.nonzero(mask)
    _, _, bend_mm = shape_measures(mask, (0.2, 0.2), 20.0)
    assert bend_mm == pytest.approx(_plain_bend(xs * 0.2, ys * 0.2), abs=1e-9)
    assert bend(from_mask(mask))[0] == pytest.approx(bend_mm / 0.2, abs=1e-9)


def test_strokes_measured_on_a_crop_keep_their_plain_values() -> None:
    """On a crop with several scratches, every candidate's bend and across-shading equal the plain
    per-stroke computation on its own mask and the shading gradient under it."""
    yy, xx = np.mgrid[0:256, 0:256].astype(np.float32)
    grey = (120 + 50 * np.sin(xx / 40) * np.cos(yy / 55)).astype(np.uint8)
    crop = np.repeat(grey[..., None], 3, axis=2)
    cv2.line(crop, (30, 40), (120, 90), (220, 220, 220), 1)
    cv2.ellipse(crop, (170, 160), (50, 30), 20, 0, 160, (30, 30, 30), 1)
    zigzag = np.array([[40, 200], [60, 180], [80, 210], [100, 185]], np.int32)
    cv2.polylines(crop, [zigzag], False, (230, 230, 230), 1)
    probs = np.zeros((6, 256, 256), np.float32)
    probs[0] = 1.0
    classes = ("background", "scratch", "dent", "missing_stone", "loose_stone", "tarnish")
    lines = surface_lines(crop, probs, classes, (0.1, 0.1))
    assert len(lines) >= 3
    drawn = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY).astype(np.float32)
    shading = cv2.GaussianBlur(drawn, (0, 0), 4)  # the shading under the strokes, as the grader sees it
    gx, gy = cv2.Sobel(shading, cv2.CV_32F, 1, 0), cv2.Sobel(shading, cv2.CV_32F, 0, 1)
    for c in lines:
        f = dict(zip(FEATURES, c.features.tolist(), strict=True))
        ys, xs = np.nonzero(c.part.mask)
        assert f["bend_mm"] == pytest.approx(_plain_bend(xs * 0.1, ys * 0.1), rel=1e-5, abs=1e-6)
        plain = _plain_across(xs, ys, c.part.box(gx)[ys, xs], c.part.box(gy)[ys, xs])
        assert f["across_shading"] == pytest.approx(plain, rel=1e-5, abs=1e-6)


def test_most_likely_defect_breaks_ties_like_argmax() -> None:
    """The class-by-class pass picks the first of equally likely classes, as argmax does."""
    rng = np.random.default_rng(0)
    probs = np.round(rng.random((6, 40, 40)), 1).astype(np.float32)
    probs[4] = probs[2]
    assert np.array_equal(most_likely_defect(probs), probs[1:].argmax(axis=0) + 1)
