"""Chips and dents on a phone's frame, measured on a side photo from the outline of the frame.

The side camera sees one edge of the phone as a band against a light backdrop, resting on the
table line. A frame edge is straight along its length, so both rims of the band (next to the glass
and next to the back) are straight lines in the photo; where material is broken off or pressed in
the outline dips into the band. This module finds the band, fits a straight line to each rim with
the dips left out, and reports each stretch that lies deeper than ``MIN_DEPTH_MM`` below its line
as a notch with its width, depth and area in millimetres. No model is involved: every number can be
checked on the overlay.

Millimetres come from the edge's own length: the band's length in pixels against the phone's
width (a short edge) or height (a long edge); which one it is follows from the band's proportions
when the phone's size is not given. What this cannot see: a dent in the middle of the frame face
that leaves both rims straight, and the last ``END_MARGIN_MM`` at each end (the rounded corners).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

import cv2
import numpy as np

TYPICAL_PHONE_MM = (71.5, 147.0)
TYPICAL_THICKNESS_MM = 7.8
END_MARGIN_MM = 3.0
MIN_DEPTH_MM = 0.25
"""A notch must reach this deep below its rim's line (and at least 2 pixels) to be one."""
SHOULDER_PX = 0.75
"""Its measured width and area run on to where the outline is back within this of the line."""
BACKDROP_MARGIN = 0.04
"""Share of the frame width at each side taken as the bare backdrop (the item never reaches it)."""
MIN_BAND_SHARE = 0.15
"""A band shorter than this share of the frame width is not a phone's edge: no item found."""
CHIP_WALL_SLOPE = 2.0
"""A notch whose wall drops faster than this (depth per length, pixels per pixel) is a chip, else a dent."""


class Rim(StrEnum):
    UPPER = "upper"  # next to the glass (the phone lies on its back) or the back
    LOWER = "lower"  # on the table


class NotchShape(StrEnum):
    CHIP = "chip"
    DENT = "dent"


@dataclass(frozen=True)
class Notch:
    """One place where the outline dips below its fitted line."""

    rim: Rim
    shape: NotchShape
    width_mm: float
    depth_mm: float
    area_mm2: float
    contour: np.ndarray  # Nx2 int32 outline of the missing area, frame pixels


@dataclass
class EdgeProfile:
    """What the outline of one side photo says."""

    found: bool
    mm_per_px: float = 0.0
    edge_length_mm: float = 0.0
    long_edge: bool = False
    band_box: tuple[int, int, int, int] = (0, 0, 0, 0)  # x, y, w, h
    # each rim's fitted line as (slope, intercept) over frame x, and the columns measured
    lines: dict[Rim, tuple[float, float]] = field(default_factory=dict)
    span: tuple[int, int] = (0, 0)
    notches: list[Notch] = field(default_factory=list)
    why: str = ""  # when not found


def _backdrop_mask(image: np.ndarray) -> tuple[np.ndarray, int]:
    """Pixels that differ from the backdrop (row by row, from the bare margins), and the table line."""
    img = cv2.GaussianBlur(image, (3, 3), 0).astype(np.float32)
    _h, w = img.shape[:2]
    m = max(2, int(w * BACKDROP_MARGIN))
    margins = np.concatenate([img[:, :m], img[:, w - m :]], axis=1)
    per_row = np.median(margins, axis=1)  # h x 3: the backdrop (and the table below it)
    brightness = per_row.mean(axis=1)
    # the table line: the largest drop in the margins' brightness down the frame
    drop = brightness[:-4] - brightness[4:]
    table_y = int(np.argmax(drop)) + 2
    spread = np.median(np.abs(margins - per_row[:, None, :]), axis=1).mean(axis=1)  # per-row noise
    tolerance = np.maximum(18.0, 6.0 * spread)[:, None]
    dist = np.abs(img - per_row[:, None, :]).max(axis=2)
    mask = (dist > tolerance).astype(np.uint8)
    mask[table_y:] = 0
    mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
    return mask, table_y


def _largest(mask: np.ndarray) -> np.ndarray | None:
    n, comp, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    if n <= 1:
        return None
    j = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    return (comp == j).astype(np.uint8)


def _robust_line(xs: np.ndarray, ys: np.ndarray, deeper: int) -> tuple[float, float]:
    """A straight line through the rim, fitted again without the points far on the ``deeper`` side
    (+1: larger y is deeper into the band) so that notches do not pull it."""
    keep = np.ones(xs.size, bool)
    slope, icpt = 0.0, float(np.median(ys))
    for _ in range(4):
        if keep.sum() < 2:
            break
        slope, icpt = (float(v) for v in np.polyfit(xs[keep], ys[keep], 1))
        resid = (ys - (slope * xs + icpt)) * deeper
        scale = max(0.75, 1.4826 * float(np.median(np.abs(resid[keep]))))
        keep = resid < 2.5 * scale
    return slope, icpt


def _runs(flags: np.ndarray, gap: int) -> list[tuple[int, int]]:
    """[start, end) of the runs of True, bridging gaps of up to ``gap`` False values."""
    idx = np.nonzero(flags)[0]
    if idx.size == 0:
        return []
    out, start, prev = [], int(idx[0]), int(idx[0])
    for i in idx[1:]:
        if i - prev > gap + 1:
            out.append((start, prev + 1))
            start = int(i)
        prev = int(i)
    out.append((start, prev + 1))
    return out


def measure_edge(
    image: np.ndarray, *, phone_size_mm: tuple[float, float] | None = None, min_area_mm2: float = 0.8
) -> EdgeProfile:
    """The frame's outline on a side photo (BGR) and its notches of at least ``min_area_mm2``.
    ``phone_size_mm`` (width, height) makes the millimetres exact when the phone is known."""
    if image.ndim != 3 or image.shape[2] != 3 or image.shape[0] < 64 or image.shape[1] < 64:
        raise ValueError("a side photo must be a BGR image of at least 64x64 pixels")
    h, w = image.shape[:2]
    mask, _table_y = _backdrop_mask(image)
    band = _largest(mask)
    if band is None:
        return EdgeProfile(False, why="nothing stands out from the backdrop")
    cols = np.nonzero(band.any(axis=0))[0]
    x0, x1 = int(cols[0]), int(cols[-1]) + 1
    if (x1 - x0) < MIN_BAND_SHARE * w:
        return EdgeProfile(False, why="no phone edge in view: the only object is too short")
    counts = band[:, x0:x1].sum(axis=0)
    thick_px = float(np.median(counts))
    if thick_px < 4:
        return EdgeProfile(False, why="no phone edge in view: the object is too thin")
    length_px = float(x1 - x0)
    width_mm, height_mm = phone_size_mm or TYPICAL_PHONE_MM
    ratio = length_px / thick_px  # about 9 for a short edge, 19 for a long one
    long_edge = abs(ratio - height_mm / TYPICAL_THICKNESS_MM) < abs(ratio - width_mm / TYPICAL_THICKNESS_MM)
    edge_mm = height_mm if long_edge else width_mm
    mm_px = edge_mm / length_px
    margin = int(np.ceil(END_MARGIN_MM / mm_px))
    xs = np.arange(x0 + margin, x1 - margin)
    if xs.size < 10:
        return EdgeProfile(False, why="the edge is too short to measure")
    sub = band[:, xs]
    rows = np.arange(h)[:, None]
    top = np.where(sub.any(axis=0), np.where(sub > 0, rows, h).min(axis=0), h).astype(np.float64)
    bottom = np.where(sub.any(axis=0), np.where(sub > 0, rows, -1).max(axis=0), -1).astype(np.float64)
    xf = xs.astype(np.float64)
    lines = {Rim.UPPER: _robust_line(xf, top, +1), Rim.LOWER: _robust_line(xf, bottom, -1)}
    notches: list[Notch] = []
    min_px = max(2.0, MIN_DEPTH_MM / mm_px)
    for rim, outline, deeper in ((Rim.UPPER, top, +1), (Rim.LOWER, bottom, -1)):
        slope, icpt = lines[rim]
        fitted = slope * xf + icpt
        depth = (outline - fitted) * deeper  # px into the band
        for a, b in _runs(depth >= min_px, gap=1):
            # take in the shallow shoulders, down to a pixel's rounding below the line
            while a > 0 and depth[a - 1] >= SHOULDER_PX:
                a -= 1
            while b < xs.size and depth[b] >= SHOULDER_PX:
                b += 1
            d = np.clip(depth[a:b], 0, None)
            area = float(d.sum()) * mm_px * mm_px
            if area < min_area_mm2:
                continue
            walls = np.abs(np.diff(np.concatenate([[0.0], d, [0.0]])))
            shape = NotchShape.CHIP if float(walls.max()) >= CHIP_WALL_SLOPE else NotchShape.DENT
            pts_line = [(int(xs[i]), round(fitted[i])) for i in range(a, b)]
            pts_out = [(int(xs[i]), round(outline[i])) for i in range(b - 1, a - 1, -1)]
            contour = np.array(pts_line + pts_out, np.int32)
            notches.append(Notch(rim, shape, (b - a) * mm_px, float(d.max()) * mm_px, area, contour))
    notches.sort(key=lambda n: int(n.contour[:, 0].min()))
    return EdgeProfile(
        True,
        mm_per_px=mm_px,
        edge_length_mm=edge_mm,
        long_edge=bool(long_edge),
        band_box=(x0, int(np.nonzero(band.any(axis=1))[0][0]), x1 - x0, int(thick_px)),
        lines=lines,
        span=(int(xs[0]), int(xs[-1]) + 1),
        notches=notches,
    )
