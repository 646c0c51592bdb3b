"""Parts of a phone's back that are not damage: camera lenses, flash, sensors, the logo.

Their edges are thin, sharp and high in contrast, which is what a crack or a scratch looks like to the
pixel model, so marks on them are dropped before anything is measured. For a model the probe names
and the catalogue (``known_features.json``) knows, the features are placed from its drawing; for any
other phone a generic finder looks for lens-like circles at one end of the back and a compact logo
on the middle line. The rectified crop does not know which end is up, so the catalogue layout is
tried both ways and the one whose outlines lie on edges of the photo wins.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import cv2
import numpy as np

CATALOGUE = Path(__file__).with_name("known_features.json")
SHAPES = ("circle", "rect", "rounded_rect")
PAD_MM = 1.5  # the catalogue is approximate and the crop is found to within about a millimetre
SAME_EDGES = 1.15  # edge scores this close: the two ends cannot be told apart, both are masked


class CatalogueError(ValueError):
    """The feature catalogue is malformed."""


@dataclass(frozen=True)
class Feature:
    kind: str  # lens, flash, sensor, logo, camera_island
    shape: str  # one of SHAPES
    center_mm: tuple[float, float]  # from the back's top-left corner, seen from behind, camera end up
    size_mm: tuple[float, float]  # width, height


@dataclass(frozen=True)
class BackLayout:
    model: str  # as the probe reports it (ro.product.model)
    name: str
    size_mm: tuple[float, float]  # body width, height
    features: tuple[Feature, ...]


def _pair(value: object, where: str) -> tuple[float, float]:
    if not (isinstance(value, list) and len(value) == 2 and all(isinstance(v, int | float) for v in value)):
        raise CatalogueError(f"{where}: expected two numbers in millimetres, got {value!r}")
    return float(value[0]), float(value[1])


def parse_catalogue(data: dict[str, object]) -> dict[str, BackLayout]:
    """The catalogue's JSON -> layouts by model; a clear error for a malformed entry."""
    models = data.get("models")
    if not isinstance(models, dict):
        raise CatalogueError("catalogue: expected a 'models' object")
    out: dict[str, BackLayout] = {}
    for model, entry in models.items():
        feats = []
        for i, f in enumerate(entry.get("features", [])):
            where = f"catalogue {model!r} feature {i}"
            if f.get("shape") not in SHAPES:
                raise CatalogueError(f"{where}: shape must be one of {', '.join(SHAPES)}")
            feats.append(
                Feature(
                    str(f.get("kind", "")),
                    f["shape"],
                    _pair(f.get("center_mm"), where),
                    _pair(f.get("size_mm"), where),
                )
            )
        out[model] = BackLayout(
            model, str(entry.get("name", model)), _pair(entry.get("size_mm"), model), tuple(feats)
        )
    return out


@cache
def catalogue(path: Path = CATALOGUE) -> dict[str, BackLayout]:
    return parse_catalogue(json.loads(path.read_text(encoding="utf-8")))


def layout_for(model: str | None) -> BackLayout | None:
    """The catalogue's layout of ``model`` (the probe's model string), None when unknown."""
    return catalogue().get(model.strip()) if model else None


def draw_layout(
    mask: np.ndarray,
    layout: BackLayout,
    origin: tuple[float, float],
    px_per_mm: tuple[float, float],
    pad_mm: float = 0.0,
    flipped: bool = False,
    thickness: int = -1,
    kinds: tuple[str, ...] | None = None,
) -> None:
    """In place: each feature of ``layout`` drawn at 1 on ``mask`` (grown by ``pad_mm``), the body's
    top-left corner at pixel ``origin``; ``flipped`` turns the back 180 degrees; ``thickness`` > 0
    draws outlines only."""
    sx, sy = px_per_mm
    wmm, hmm = layout.size_mm
    for f in layout.features:
        if kinds is not None and f.kind not in kinds:
            continue
        cx, cy = f.center_mm
        if flipped:
            cx, cy = wmm - cx, hmm - cy
        c = (round(origin[0] + cx * sx), round(origin[1] + cy * sy))
        half = ((f.size_mm[0] / 2 + pad_mm) * sx, (f.size_mm[1] / 2 + pad_mm) * sy)
        if f.shape == "circle":
            cv2.ellipse(mask, c, (round(half[0]), round(half[1])), 0, 0, 360, 1, thickness, cv2.LINE_AA)
        else:
            p0 = (round(c[0] - half[0]), round(c[1] - half[1]))
            p1 = (round(c[0] + half[0]), round(c[1] + half[1]))
            cv2.rectangle(mask, p0, p1, 1, thickness)


def _edges(crop: np.ndarray) -> np.ndarray:
    gray = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY).astype(np.float32)
    return np.asarray(cv2.magnitude(cv2.Sobel(gray, cv2.CV_32F, 1, 0), cv2.Sobel(gray, cv2.CV_32F, 0, 1)))


def catalogue_mask(crop: np.ndarray, inset_px: int, layout: BackLayout) -> np.ndarray:
    """Crop pixels on ``layout``'s features, at the end of the back whose outlines lie on edges."""
    h, w = crop.shape[:2]
    body = (w - 2 * inset_px, h - 2 * inset_px)
    ppm = (body[0] / layout.size_mm[0], body[1] / layout.size_mm[1])
    origin = (float(inset_px), float(inset_px))
    edges = _edges(crop)
    scores = []
    for flipped in (False, True):
        outline = np.zeros((h, w), np.uint8)
        draw_layout(
            outline,
            layout,
            origin,
            ppm,
            flipped=flipped,
            thickness=2,
            kinds=("lens", "flash", "camera_island"),
        )
        scores.append(float(edges[outline > 0].mean()) if outline.any() else 0.0)
    lo, hi = sorted(scores)
    ends = (False, True) if hi < SAME_EDGES * lo else (scores[1] > scores[0],)
    mask = np.zeros((h, w), np.uint8)
    for flipped in ends:
        draw_layout(mask, layout, origin, ppm, pad_mm=PAD_MM, flipped=flipped)
    return mask > 0


def _lens_circles(gray: np.ndarray, px_mm: float) -> np.ndarray:
    """Circles 2-8 mm across... of lens size: (N, 3) x, y, r in crop pixels."""
    found = cv2.HoughCircles(
        cv2.GaussianBlur(gray, (0, 0), 1.0),
        cv2.HOUGH_GRADIENT,
        dp=1,
        minDist=max(2.0, 4 * px_mm),
        param1=80,
        param2=12,
        minRadius=max(2, round(2 * px_mm)),
        maxRadius=max(3, round(7 * px_mm)),
    )
    return np.zeros((0, 3), np.float32) if found is None else found[0]


def generic_mask(crop: np.ndarray, inset_px: int, mm_per_px: tuple[float, float]) -> np.ndarray:
    """For a model the catalogue does not know: lens-like circles in the end band that has most of them
    (with the island around them) and a compact logo on the middle line of the back."""
    h, w = crop.shape[:2]
    px_mm = 1.0 / float(np.mean(mm_per_px))
    gray = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY)
    bw, bh = w - 2 * inset_px, h - 2 * inset_px
    band = 0.3 * bh
    circles = _lens_circles(gray, px_mm)
    inside = (circles[:, 0] > inset_px) & (circles[:, 0] < w - inset_px)
    top = circles[inside & (circles[:, 1] < inset_px + band)]
    bottom = circles[inside & (circles[:, 1] > h - inset_px - band)]
    lenses = top if len(top) >= len(bottom) else bottom
    mask = np.zeros((h, w), np.uint8)
    pad = PAD_MM * px_mm
    for x, y, r in lenses:
        cv2.circle(mask, (round(x), round(y)), round(r + pad), 1, -1)
    if len(lenses):
        grow = 3 * px_mm + lenses[:, 2].max()
        x0, y0 = lenses[:, :2].min(axis=0) - grow
        x1, y1 = lenses[:, :2].max(axis=0) + grow
        cv2.rectangle(mask, (round(x0), round(y0)), (round(x1), round(y1)), 1, -1)
    # logo: the largest compact patch of edges on the middle line, between the ends
    zone = (
        slice(inset_px + round(0.25 * bh), inset_px + round(0.8 * bh)),
        slice(inset_px + round(0.2 * bw), inset_px + round(0.8 * bw)),
    )
    edges = cv2.Canny(cv2.GaussianBlur(gray[zone], (0, 0), 1.0), 40, 100)
    edges = cv2.dilate(edges, np.ones((3, 3), np.uint8))
    n, _, stats, _ = cv2.connectedComponentsWithStats(edges)
    best = None
    for i in range(1, n):
        x, y, bwi, bhi, area = stats[i]
        wmm, hmm = bwi / px_mm, bhi / px_mm
        central = abs(x + bwi / 2 - (zone[1].stop - zone[1].start) / 2) < 0.1 * bw
        if central and 3 <= wmm <= 35 and 3 <= hmm <= 20 and (best is None or area > stats[best][4]):
            best = i
    if best is not None:
        x, y, bwi, bhi, _ = stats[best]
        x0, y0 = x + zone[1].start - pad, y + zone[0].start - pad
        cv2.rectangle(
            mask, (round(x0), round(y0)), (round(x0 + bwi + 2 * pad), round(y0 + bhi + 2 * pad)), 1, -1
        )
    return mask > 0


def known_feature_mask(
    crop: np.ndarray, inset_px: int, mm_per_px: tuple[float, float], model: str | None
) -> np.ndarray:
    """Crop pixels on the back's known features: from the catalogue when it knows ``model``, else found."""
    layout = layout_for(model)
    if layout is not None:
        return catalogue_mask(crop, inset_px, layout)
    return generic_mask(crop, inset_px, mm_per_px)
