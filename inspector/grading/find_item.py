"""Where the item lies in a camera frame: its outline, told from the station mat.

The search runs on the frame shrunk to ``FIND_SIDE``. The mat's colour comes from the frame border;
a mat lying on a desk, a border half desk and half mat, and clutter beside the phone are handled by
looking again inside the mat, with a robust spread and away from the frame's edge. A phone the colour
of the mat is found by its outline. ``phone_quad`` turns a phone's outline into its four corners.
"""

from __future__ import annotations

import cv2
import numpy as np

from inspector.grading.resample import area_shrink


def order_quad(pts: np.ndarray, portrait: bool = True) -> np.ndarray:
    """Order 4 points clockwise from top-left; with ``portrait`` the first edge is a short edge."""
    pts = np.asarray(pts, np.float32).reshape(4, 2)
    c = pts.mean(axis=0)
    ang = np.arctan2(pts[:, 1] - c[1], pts[:, 0] - c[0])
    pts = pts[np.argsort(ang)]  # clockwise in image coordinates (y down)
    start = int(np.argmin(pts.sum(axis=1)))
    pts = np.roll(pts, -start, axis=0)
    if portrait:
        top = np.linalg.norm(pts[1] - pts[0])
        side = np.linalg.norm(pts[2] - pts[1])
        if top > side:
            pts = np.roll(pts, -1, axis=0)
    return pts


FIND_SIDE = 320
"""Longest side of the downscaled frame the item is searched in."""


def _search_image(image: np.ndarray) -> tuple[np.ndarray, float]:
    """The frame shrunk to ``FIND_SIDE`` and smoothed, and the scale from frame to it."""
    h, w = image.shape[:2]
    scale = FIND_SIDE / max(h, w)
    small, _ = area_shrink(image, (max(8, round(w * scale)), max(8, round(h * scale))))
    return cv2.GaussianBlur(small, (5, 5), 0), scale


def find_item(image: np.ndarray, kind: str = "phone") -> np.ndarray | None:
    """Region that differs from the station mat, as points in frame pixels (or None).

    Phones: the largest such region. Jewelry: every sizeable region (a chain may be cut off from its
    pendant by a thin link), so the box covers the whole piece.

    The mat colour is estimated from the frame border, so it works for any mat colour and lighting.
    A phone too close to the mat in colour for that (a grey back on a grey mat) is then looked for by
    its outline (``_phone_by_outline``).
    """
    small, scale = _search_image(image)
    pts = _item_by_colour(small, kind)
    if pts is None and kind == "phone":
        pts = _phone_by_outline(small)
    return None if pts is None else (pts.astype(np.float32) + 0.5) / scale - 0.5


def _max_abs_difference(values: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """max over the last axis of |values - ref|, a channel at a time (a reduction over a short last
    axis is numpy's slow case: 2.1 ms on the 320x180 search image, against 0.1)."""
    out = np.abs(values[..., 0] - ref[0])
    for c in range(1, values.shape[-1]):
        np.maximum(out, np.abs(values[..., c] - ref[c]), out=out)
    return out


MAT_FROM = 0.45
"""A region from the frame border that covers this share of the search image may be the station mat
itself, lying on a desk that fills the border: the phone is then looked for inside it."""
ITEM_IN_MAT = (0.03, 0.6)
"""Share of the mat's area a phone inside it covers. A phone filling a hand-held photo is not taken for
a mat: its screen covers far more of it than ``ITEM_IN_MAT[1]``."""
PIECE_GAP = 0.05
"""Pieces of one item lie within this share of the search image's short side of its largest piece;
clutter lies further off (nothing is laid against the item)."""
PHONE_FILL = 0.85
PHONE_ASPECT = (1.5, 2.8)


def _mat_lab(small: np.ndarray) -> np.ndarray:
    """Lab weighted for telling an item from the mat: a soft shadow on the mat changes lightness only,
    an item differs in colour or strongly in lightness, so lightness counts less than colour."""
    lab = cv2.cvtColor(small, cv2.COLOR_BGR2LAB).astype(np.float32)
    return np.asarray(lab * np.array([0.4, 1.6, 1.6], np.float32))


def _border(lab: np.ndarray, b: int) -> np.ndarray:
    """The pixels of the frame's border band, ``b`` wide (the corners twice)."""
    bands = (lab[:b], lab[-b:], lab[:, :b], lab[:, -b:])
    return np.concatenate([band.reshape(-1, 3) for band in bands])


def _regions(
    lab: np.ndarray, samples: np.ndarray, inside: np.ndarray | None, robust: bool = False
) -> list[np.ndarray]:
    """Outlines of what differs from the background ``samples`` (Nx3), only where ``inside`` is set
    (everywhere when None). ``robust``: the spread is taken over the samples like their median only, so
    a border that is half desk, half mat is not one wide spread of mat colours."""
    sh, sw = lab.shape[:2]
    bg = np.median(samples, axis=0)
    d = _max_abs_difference(samples, bg)
    if robust:
        d = d[d <= 3.0 * float(np.median(d)) + 4.0]
    fg: np.ndarray = (_max_abs_difference(lab, bg) > max(14.0, float(np.percentile(d, 95)) * 1.5)).astype(
        np.uint8
    ) * 255
    if inside is not None:
        fg[~inside] = 0
    k = max(3, int(min(sh, sw) * 0.02) | 1)
    fg = cv2.morphologyEx(fg, cv2.MORPH_CLOSE, np.ones((k, k), np.uint8))
    fg = cv2.morphologyEx(fg, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
    contours, _ = cv2.findContours(fg, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    return list(contours)


def _inside_mat(small: np.ndarray, lab: np.ndarray, mat: np.ndarray, b: int) -> list[np.ndarray] | None:
    """The phone's pieces inside ``mat`` (an outline): what differs from the mat's own rim, near the
    largest such region when that is item-sized for a mat (``ITEM_IN_MAT``) and phone-shaped; None
    when ``mat`` does not look like a mat with a phone on it."""
    shape = (lab.shape[0], lab.shape[1])
    filled = np.zeros(shape, np.uint8)
    cv2.drawContours(filled, [mat], -1, 1, -1)
    kernel = np.ones((2 * b + 1, 2 * b + 1), np.uint8)
    inner = cv2.erode(filled, kernel)  # the mat's edge and the desk's shading along it are left out
    core = cv2.erode(inner, kernel)
    rim = (inner > 0) & (core == 0)
    if not rim.any() or not core.any():
        return None
    # the phone may reach into the rim: the spread is that of the rim's mat-like samples
    contours = _regions(lab, lab[rim], inner > 0, robust=True)
    mat_area = float(filled.sum())
    if contours:
        best = max(contours, key=cv2.contourArea)
        area = cv2.contourArea(best)
        if ITEM_IN_MAT[0] * mat_area <= area <= ITEM_IN_MAT[1] * mat_area:
            # a phone filling the photo, taken for a mat, holds a strip of its bezel or part of its screen
            pieces = _near(best, [c for c in contours if cv2.contourArea(c) >= 0.1 * area], shape)
            if _phone_shaped(np.concatenate(pieces).reshape(-1, 2), shape):
                return pieces
    hull = _phone_by_outline(small, inner > 0)  # a dark phone on a dark mat: its outline still shows
    if hull is None or not ITEM_IN_MAT[0] * mat_area <= cv2.contourArea(hull) <= ITEM_IN_MAT[1] * mat_area:
        return None
    return [hull.reshape(-1, 1, 2).astype(np.int32)]


def _near(best: np.ndarray, pieces: list[np.ndarray], shape: tuple[int, int]) -> list[np.ndarray]:
    """The ``pieces`` within ``PIECE_GAP`` of ``best``."""
    best_mask = np.zeros(shape, np.uint8)
    cv2.drawContours(best_mask, [best], -1, 1, -1)
    gap = max(3, int(min(shape) * PIECE_GAP) | 1)
    near_best = np.asarray(cv2.dilate(best_mask, np.ones((gap, gap), np.uint8)))
    return [c for c in pieces if near_best[c[:, 0, 1], c[:, 0, 0]].any()]


def _touches_border(c: np.ndarray, shape: tuple[int, int]) -> bool:
    x, y, w, h = cv2.boundingRect(c)
    return x <= 0 or y <= 0 or x + w >= shape[1] or y + h >= shape[0]


def _phone_shaped(pts: np.ndarray, shape: tuple[int, int]) -> bool:
    """Its hull fills at least ``PHONE_FILL`` of its minimum-area rectangle, whose sides are in
    ``PHONE_ASPECT``, and it covers 2-80 % of the frame."""
    area = cv2.contourArea(cv2.convexHull(pts.reshape(-1, 1, 2).astype(np.int32)))
    if not 0.02 * shape[0] * shape[1] <= area <= 0.8 * shape[0] * shape[1]:
        return False
    _, (rw, rh), _ = cv2.minAreaRect(pts.reshape(-1, 1, 2).astype(np.int32))
    aspect = max(rw, rh) / max(1.0, min(rw, rh))
    return bool(area >= PHONE_FILL * rw * rh and PHONE_ASPECT[0] <= aspect <= PHONE_ASPECT[1])


def _item_by_colour(small: np.ndarray, kind: str) -> np.ndarray | None:
    """The mat colour is the median of the frame border. A phone missed that way or found in a shape no
    phone has (a border half desk, half mat; a pen laid beside the phone) is looked for again with the
    desk and what touches the frame's edge set aside (``_colour_pass`` with ``station``)."""
    found = _colour_pass(small, kind, station=False)
    if kind == "phone" and (found is None or not _phone_shaped(found, small.shape[:2])):
        again = _colour_pass(small, kind, station=True)
        if again is not None and _phone_shaped(again, small.shape[:2]):
            return again
    return found


def _colour_pass(small: np.ndarray, kind: str, station: bool) -> np.ndarray | None:
    """Points of the item's outline, told from the mat by colour; with ``station`` as a phone lies on
    the station: on the mat, clear of the frame's edge and of clutter (``_near``)."""
    sh, sw = small.shape[:2]
    b = max(2, int(min(sh, sw) * 0.04))
    lab = _mat_lab(small)
    contours = _regions(lab, _border(lab, b), None, robust=station)
    if not contours:
        return None
    best = max(contours, key=cv2.contourArea)
    on_mat = None
    if kind == "phone" and cv2.contourArea(best) >= MAT_FROM * sh * sw:
        on_mat = _inside_mat(small, lab, best, b)
        if on_mat is not None:
            contours = on_mat
    if station:
        contours = [c for c in contours if not _touches_border(c, (sh, sw))]
        if not contours:
            return None
    best = max(contours, key=cv2.contourArea)
    area = cv2.contourArea(best)
    if area < (0.02 if kind == "phone" else 0.002) * sh * sw:
        return None
    # An item whose colour is close to the mat falls apart into pieces: keep every sizeable piece (on a
    # mat with clutter around the phone, only those near the largest one). For phones only the points on
    # the outer hull are kept, they carry the body's straight sides.
    pieces = [c for c in contours if cv2.contourArea(c) >= 0.1 * area]
    if on_mat is not None or station:
        pieces = _near(best, pieces, (sh, sw))
    pts = np.concatenate(pieces).reshape(-1, 2)
    if kind == "phone":
        hull = cv2.convexHull(pts)
        near = np.array([cv2.pointPolygonTest(hull, (float(x), float(y)), True) > -2.0 for x, y in pts])
        pts = pts[near]
    return np.asarray(pts)


def _phone_by_outline(small: np.ndarray, inside: np.ndarray | None = None) -> np.ndarray | None:
    """The largest closed outline that is phone-shaped: its hull fills at least ``PHONE_FILL`` of its
    minimum-area rectangle, whose sides are in ``PHONE_ASPECT``, and it covers 2-80 % of the frame
    (a close-up of a screen, filling the frame, stays unframed). A body's edge shows as a line even
    where its colour matches the mat's."""
    sh, sw = small.shape[:2]
    edges = cv2.Canny(cv2.cvtColor(small, cv2.COLOR_BGR2GRAY), 10, 30)
    if inside is not None:
        edges[~inside] = 0
    k = max(3, int(min(sh, sw) * 0.02) | 1)
    edges = cv2.morphologyEx(edges, cv2.MORPH_CLOSE, np.ones((k, k), np.uint8))
    contours, _ = cv2.findContours(edges, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    best, best_area = None, 0.0
    for c in contours:
        hull = cv2.convexHull(c)
        area = cv2.contourArea(hull)
        if area > best_area and _phone_shaped(c, (sh, sw)):
            best, best_area = hull.reshape(-1, 2), area
    return best


def phone_quad(contour: np.ndarray) -> np.ndarray:
    """Four corners of a phone body from its outline.

    Start from the minimum-area rectangle, then fit a straight line to the middle part of each side
    and intersect neighbouring lines: that follows perspective and is not fooled by rounded corners.
    """
    pts = contour.reshape(-1, 2).astype(np.float32)
    box = order_quad(cv2.boxPoints(cv2.minAreaRect(pts)))
    short = min(float(np.linalg.norm(box[1] - box[0])), float(np.linalg.norm(box[2] - box[1])))
    lines = []
    for i in range(4):
        a, b = box[i], box[(i + 1) % 4]
        d = b - a
        length = float(np.linalg.norm(d))
        u = d / max(length, 1e-6)
        n = np.array([-u[1], u[0]], np.float32)
        rel = pts - a
        t = rel @ u / max(length, 1e-6)
        sel = (t > 0.2) & (t < 0.8) & (np.abs(rel @ n) < 0.08 * short)
        if sel.sum() < 5:
            return box
        vx, vy, x0, y0 = cv2.fitLine(pts[sel], cv2.DIST_HUBER, 0, 0.01, 0.01).reshape(4)
        lines.append((np.array([x0, y0], np.float64), np.array([vx, vy], np.float64)))
    corners = []
    for i in range(4):
        (p1, d1), (p2, d2) = lines[i - 1], lines[i]
        m = np.array([d1, -d2]).T
        if abs(np.linalg.det(m)) < 1e-6:
            return box
        s_, _ = np.linalg.solve(m, p2 - p1)
        corners.append(p1 + s_ * d1)
    quad = np.array(corners, np.float32)
    if float(np.abs(quad - box).max()) > 0.15 * short:
        return box
    return order_quad(quad)
