"""What lies around the station mat in real photos: a textured desk, the mat's edge, and clutter
(pens, cables, paper with text, coins, tape). The mat itself stays the station's plain one.

The phone finder and the damage models must ignore all of it; none of it is labelled.
"""

from __future__ import annotations

import cv2
import numpy as np

Image = np.ndarray


def _wood(rng: np.random.Generator, h: int, w: int) -> Image:
    """Wood grain: bands along one axis, wavy, with fine streaks."""
    base = rng.uniform(40, 150) * np.array([0.55, 0.75, 1.0], np.float32)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    wave = np.sin(xx / rng.uniform(30, 90) + np.sin(yy / rng.uniform(60, 200)) * rng.uniform(1, 4))
    grain = np.sin(yy / rng.uniform(2, 6) + wave * rng.uniform(2, 6))
    tex = base * (1 + 0.12 * grain[..., None] + 0.06 * wave[..., None])
    return np.asarray(tex + rng.normal(0, 2, (h, w, 1)), np.float32)


def _fabric(rng: np.random.Generator, h: int, w: int) -> Image:
    """A woven cloth or a rubber desk pad: a fine regular weave."""
    base = rng.uniform(30, 200, 3).astype(np.float32)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    p = rng.uniform(2.5, 6)
    weave = np.sin(xx * 2 * np.pi / p) * np.sin(yy * 2 * np.pi / p)
    return np.asarray(base * (1 + rng.uniform(0.05, 0.15) * weave[..., None]), np.float32)


def _clutter_item(rng: np.random.Generator, bg: Image, centre: tuple[int, int], scale: float) -> None:
    """One object on the desk: a pen, a cable, a sheet of paper with text, a coin or a tape strip."""
    cx, cy = centre
    kind = int(rng.integers(0, 5))
    col = rng.uniform(0, 255, 3).tolist()
    if kind == 0:  # pen
        ang = rng.uniform(0, np.pi)
        d = np.array([np.cos(ang), np.sin(ang)]) * scale * rng.uniform(0.6, 1.2)
        p0, p1 = (np.array([cx, cy]) - d).astype(int), (np.array([cx, cy]) + d).astype(int)
        cv2.line(bg, tuple(p0), tuple(p1), col, max(3, int(scale * 0.06)), cv2.LINE_AA)
        cv2.line(bg, tuple(p0), tuple(p1), (235, 235, 235), 1, cv2.LINE_AA)
    elif kind == 1:  # cable
        pts = np.cumsum(rng.normal(0, scale * 0.08, (30, 2)), axis=0) + np.array([cx, cy])
        cv2.polylines(bg, [pts.astype(np.int32)], False, col, max(2, int(scale * 0.03)), cv2.LINE_AA)
    elif kind == 2:  # paper with printed lines of text
        w, h = int(scale * rng.uniform(0.7, 1.2)), int(scale * rng.uniform(0.9, 1.4))
        box = cv2.boxPoints(((cx, cy), (w, h), rng.uniform(0, 90))).astype(np.int32)
        cv2.fillPoly(bg, [box], [rng.uniform(200, 250)] * 3, cv2.LINE_AA)
        for i in range(int(rng.integers(4, 14))):
            y = cy - h // 2 + 10 + i * 9
            cv2.putText(
                bg,
                "lorem ipsum dolor 123",
                (cx - w // 2 + 6, y),
                cv2.FONT_HERSHEY_PLAIN,
                0.6,
                (40, 40, 40),
                1,
            )
    elif kind == 3:  # coin
        r = int(scale * rng.uniform(0.08, 0.15))
        cv2.circle(bg, (cx, cy), r, [rng.uniform(90, 200)] * 3, -1, cv2.LINE_AA)
        cv2.circle(bg, (cx, cy), max(1, r - 3), [rng.uniform(60, 180)] * 3, 1, cv2.LINE_AA)
    else:  # tape strip
        strip = cv2.boxPoints(((cx, cy), (scale * rng.uniform(0.4, 1.0), scale * 0.12), rng.uniform(0, 180)))
        cv2.fillPoly(bg, [strip.astype(np.int32)], col, cv2.LINE_AA)


def cluttered_surround(rng: np.random.Generator, bg: Image, keep_clear: np.ndarray) -> Image:
    """``bg`` (the station mat, float BGR) shrunk to a mat on a textured desk with clutter around it;
    ``keep_clear`` (4x2 corners of the item in the frame) stays on the mat, as a streamer would lay it.
    Returns the new background."""
    h, w = bg.shape[:2]
    desk = _wood(rng, h, w) if rng.random() < 0.6 else _fabric(rng, h, w)
    qx0, qy0 = keep_clear.min(axis=0)
    qx1, qy1 = keep_clear.max(axis=0)
    pad = rng.uniform(0.02, 0.15) * w
    mat = (
        int(max(0, min(qx0 - pad, rng.uniform(0, 0.2) * w))),
        int(max(0, min(qy0 - pad, rng.uniform(0, 0.2) * h))),
        int(min(w, max(qx1 + pad, rng.uniform(0.8, 1.0) * w))),
        int(min(h, max(qy1 + pad, rng.uniform(0.8, 1.0) * h))),
    )
    x0, y0, x1, y1 = mat
    desk[y0:y1, x0:x1] = bg[y0:y1, x0:x1]
    out = np.clip(desk, 0, 255).astype(np.uint8)  # OpenCV draws text on 8-bit images only
    scale = min(h, w) * 0.35
    for _ in range(int(rng.integers(2, 8))):
        cx, cy = int(rng.uniform(0, w)), int(rng.uniform(0, h))
        if qx0 - scale * 0.5 < cx < qx1 + scale * 0.5 and qy0 - scale * 0.5 < cy < qy1 + scale * 0.5:
            continue  # nothing is laid on or against the item
        _clutter_item(rng, out, (cx, cy), scale)
    return out.astype(np.float32)
