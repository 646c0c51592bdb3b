"""Chips and dents on a phone's frame, measured on a side photo from the outline of the frame.

The side camera sees one edge of the phone as a band against a light backdrop, resting on the
table line (the photo is first turned so that the table line is level). A frame edge is straight
along its length, so both rims of the band (next to the glass and next to the back) are straight
lines in the photo; where material is broken off or pressed in the outline dips into the band.
This module finds the band, fits a straight line to each rim with the dips left out, and reports
each stretch that lies deeper than ``MIN_DEPTH_MM`` below its line as a notch with its width, depth
and area in millimetres. No model is involved: every number can be checked on the overlay.

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
SHOULDER_PX = 0.3
"""Its measured width and area run on to where the outline is back within this of the line."""
SUBPIXEL_ROWS = 2
"""Rows each side of the whole-pixel outline whose coverage places the rim to a fraction of a pixel."""
BACKDROP_MARGIN = 0.04
"""Share of the frame width at each side taken as the bare backdrop (the item never reaches it)."""
MAX_ROLL_DEG = 3.0
"""A table line steeper than this is not one: the photo is measured as it is."""
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
    # each rim's fitted line over the measured stretch, as its two end points in frame pixels
    lines: dict[Rim, tuple[tuple[float, float], tuple[float, float]]] = field(default_factory=dict)
    notches: list[Notch] = field(default_factory=list)
    roll_deg: float = 0.0  # how far the photo was turned to make the table line level
    why: str = ""  # when not found


def _backdrop_mask(image: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Pixels that differ from the backdrop (row by row, from the bare margins), how far each one
    differs, the backdrop's noise per row, and the table line."""
    img = cv2.GaussianBlur(image, (3, 3), 0).astype(np.float32)
    _h, w = img.shape[:2]
    m = max(2, int(w * BACKDROP_MARGIN))
    margins = np.concatenate([img[:, :m], img[:, w - m :]], axis=1)
    per_row = np.median(margins, axis=1)  # h x 3: the backdrop (and the table below it)
    table_y = _drop_row(per_row.mean(axis=1))
    spread = np.median(np.abs(margins - per_row[:, None, :]), axis=1).mean(axis=1)  # per-row noise
    tolerance = np.maximum(18.0, 6.0 * spread)[:, None]
    diff = np.abs(img - per_row[:, None, :])
    dist = np.maximum(np.maximum(diff[..., 0], diff[..., 1]), diff[..., 2])  # a channel at a time: fast
    mask = (dist > tolerance).astype(np.uint8)
    mask[table_y:] = 0
    mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
    return mask, dist, 3.0 * spread, table_y


def _coverage(
    dist: np.ndarray, floor: np.ndarray, band: np.ndarray, xs: np.ndarray, table_y: int
) -> np.ndarray:
    """How much of each pixel of the columns ``xs`` the frame covers (0..1): its difference from the
    backdrop against the column's difference inside the band; nothing at or below the table line."""
    d = dist[:, xs]
    rows = np.nonzero(band[:, xs].mean(axis=1) > 0.5)[0]  # the rows the band fills along most of it
    contrast = np.median(d[rows[0] : rows[-1] + 1], axis=0) if rows.size else d.max(axis=0)
    f = floor[:, None]
    cov = np.clip((d - f) / np.maximum(contrast[None, :] - f, 1.0), 0.0, 1.0)
    cov[table_y:] = 0.0
    return cov


def _subpixel_outline(cov: np.ndarray, rows: np.ndarray, below: bool) -> np.ndarray:
    """The rim's position per column to a fraction of a pixel, from the coverage in a few rows around
    the whole-pixel outline ``rows`` (the first band row, or with ``below`` the last)."""
    h, n = cov.shape
    start = rows.astype(int) + (1 - SUBPIXEL_ROWS if below else -SUBPIXEL_ROWS)
    idx = np.clip(start[None, :] + np.arange(2 * SUBPIXEL_ROWS)[:, None], 0, h - 1)
    covered = cov[idx, np.arange(n)[None, :]].sum(axis=0)
    return start + covered if below else start + 2 * SUBPIXEL_ROWS - covered


def _drop_row(brightness: np.ndarray) -> int:
    """Row of the largest drop in brightness down the frame: the table line (backdrop above, table
    below)."""
    drop = brightness[:-4] - brightness[4:]
    return int(np.argmax(drop)) + 2


def _table_row(strip: np.ndarray) -> float:
    """The table line's row in a strip of bare margin."""
    return float(_drop_row(np.median(strip.astype(np.float32).mean(axis=2), axis=1)))


def _levelled(image: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """The photo turned so that the table line is level (a camera is never mounted quite level), the
    turn as a 2x3 matrix, and its angle in degrees."""
    h, w = image.shape[:2]
    m = max(2, int(w * BACKDROP_MARGIN))
    left, right = _table_row(image[:, :m]), _table_row(image[:, w - m :])
    roll = float(np.degrees(np.arctan2(right - left, float(w - m))))
    if abs(roll) > MAX_ROLL_DEG:
        roll = 0.0  # not a table line across the view: measure the photo as it is
    turn = cv2.getRotationMatrix2D((w / 2, (left + right) / 2), roll, 1.0)
    if abs(roll) < 0.02:
        return image, turn, 0.0
    level = cv2.warpAffine(image, turn, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return level, turn, roll


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
    image, turn, roll = _levelled(image)
    back = cv2.invertAffineTransform(turn)
    mask, dist, floor, table_y = _backdrop_mask(image)
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
    sub = band[:, xs] > 0
    top = sub.argmax(axis=0)  # the first band row of each column
    bottom = h - 1 - sub[::-1].argmax(axis=0)  # the last
    empty = ~sub.any(axis=0)  # a column the band does not reach (a notch through it): no outline
    top[empty], bottom[empty] = h - 1, 0
    cov = _coverage(dist, floor, band, xs, table_y)
    top = _subpixel_outline(cov, top, below=False)
    bottom = _subpixel_outline(cov, bottom, below=True)
    xf = xs.astype(np.float64)
    fits = {Rim.UPPER: _robust_line(xf, top, +1), Rim.LOWER: _robust_line(xf, bottom, -1)}
    notches: list[Notch] = []
    min_px = max(2.0, MIN_DEPTH_MM / mm_px)
    for rim, outline, deeper in ((Rim.UPPER, top, +1), (Rim.LOWER, bottom, -1)):
        slope, icpt = fits[rim]
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
            contour = _to_frame(np.array(pts_line + pts_out, np.float64), back)
            notches.append(Notch(rim, shape, (b - a) * mm_px, float(d.max()) * mm_px, area, contour))
    notches.sort(key=lambda n: int(n.contour[:, 0].min()))
    ends = np.array([xs[0], xs[-1] + 1], np.float64)
    lines: dict[Rim, tuple[tuple[float, float], tuple[float, float]]] = {}
    for rim, (slope, icpt) in fits.items():
        (xa, ya), (xb, yb) = _to_frame(np.stack([ends, slope * ends + icpt], 1), back).tolist()
        lines[rim] = ((float(xa), float(ya)), (float(xb), float(yb)))
    top_row = int(np.nonzero(band.any(axis=1))[0][0])
    return EdgeProfile(
        True,
        mm_per_px=mm_px,
        edge_length_mm=edge_mm,
        long_edge=bool(long_edge),
        band_box=(x0, top_row, x1 - x0, int(thick_px)),  # in the levelled photo
        lines=lines,
        notches=notches,
        roll_deg=roll,
    )


def _to_frame(points: np.ndarray, back: np.ndarray) -> np.ndarray:
    """Points of the levelled photo (Nx2) in the photo as taken, as int32 pixels."""
    moved = np.hstack([points, np.ones((len(points), 1))]) @ back.T
    return np.round(moved).astype(np.int32)
