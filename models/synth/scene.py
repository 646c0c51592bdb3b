"""Procedural renderer of inspection-station scenes with pixel-labelled defects.

No image data set can be downloaded, so the grading models learn from these renders. The same
renderer feeds the simulated station camera, so the demo shows what the models were trained on.

Rendering happens in physical units: a phone is drawn in its own flat frame at ``CANON_PX_PER_MM``
and then placed on the station with a perspective warp (turntable angle + camera tilt); jewelry is
drawn top-down at the station's jewelry zoom (``JEWELRY_PX_PER_MM`` at 1280 px frame width).
Hard negatives (glare, reflections, fingerprints, oil smears, dust, wallpaper lines) are drawn but
never labelled: the model must learn to ignore them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import cv2
import numpy as np

from inspector.grading.known_features import BackLayout, layout_for
from models.synth.back_layouts import draw_back
from models.synth.backgrounds import cluttered_surround
from models.synth.screen_content import draw_screen_content

PHONE_CLASSES: tuple[str, ...] = ("crack", "scratch", "chip")
JEWELRY_CLASSES: tuple[str, ...] = ("scratch", "dent", "missing_stone", "loose_stone", "tarnish")
LANDMARKS: dict[str, tuple[str, ...]] = {"phone": (), "jewelry": ("intact_stone",)}
"""Per kind, the non-defect parts a scene also labels (``RenderedScene.landmarks``)."""
DISTRACTORS: tuple[str, ...] = ("glare", "reflection", "fingerprint", "oil", "dust", "wallpaper_lines")

CANON_PX_PER_MM = 5.0
"""Resolution of the flat phone frame the defects are drawn in."""
JEWELRY_PX_PER_MM = 10.0
"""Station jewelry zoom: pixels per millimetre at a 1280 px wide frame (scales with frame width)."""
DEFAULT_PHONE_MM = (71.5, 147.0)

Image = np.ndarray


@dataclass(frozen=True)
class SceneSpec:
    """What was rendered: enough to reproduce it and to judge a grader against it."""

    kind: str
    seed: int
    side: str
    defects: tuple[str, ...]
    angle_deg: float
    light_level: float
    width: int
    height: int
    distractors: tuple[str, ...]
    px_per_mm: float
    item: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["defects"] = list(self.defects)
        d["distractors"] = list(self.distractors)
        return d


@dataclass(frozen=True)
class RenderedScene:
    image: np.ndarray  # HxWx3 uint8 BGR, as a camera would deliver it
    masks: dict[str, np.ndarray]  # defect class name -> HxW uint8 {0,1} (pixel labels)
    item_quad: np.ndarray  # 4x2 float32 corners (phone: TL,TR,BR,BL of the body; jewelry: bbox)
    spec: SceneSpec
    # thin class -> HxW float32: grey levels the defect adds to the final frame before noise (0 where
    # clipped); crop_labels re-applies the visibility rule at the model crop's resolution with it
    visibility: dict[str, np.ndarray] = field(default_factory=dict)
    # landmark name (LANDMARKS) -> HxW uint8 {0,1}: parts of the item that are not defects but look
    # like one to a model (an intact stone beside a loose one), for training windows centred on them
    landmarks: dict[str, np.ndarray] = field(default_factory=dict)
    # known non-defect parts (phones) -> HxW uint8 {0,1}: lens, flash, sensor, logo, camera_island on
    # the back; display and screen_content on a lit screen. Nothing on them may be marked as damage.
    features: dict[str, np.ndarray] = field(default_factory=dict)


# --------------------------------------------------------------------------- helpers


def _rounded_rect_mask(h: int, w: int, r: int) -> Image:
    m = np.zeros((h, w), np.uint8)
    r = max(1, min(r, h // 2, w // 2))
    cv2.rectangle(m, (r, 0), (w - 1 - r, h - 1), 255, -1)
    cv2.rectangle(m, (0, r), (w - 1, h - 1 - r), 255, -1)
    for cx, cy in ((r, r), (w - 1 - r, r), (r, h - 1 - r), (w - 1 - r, h - 1 - r)):
        cv2.circle(m, (cx, cy), r, 255, -1, cv2.LINE_AA)
    return m


def _blend(img: Image, color: Sequence[float] | Image, alpha: Image) -> None:
    """In place: img = img*(1-a) + color*a, with alpha in 0..1 float HxW.

    Only the bounding box of the non-zero alpha is touched: most layers (a scratch, a dent, a
    fingerprint) cover a small part of the frame, and whole-frame blends were a third of render time."""
    rows = np.flatnonzero(alpha.any(axis=1))
    if not len(rows):
        return
    cols = np.flatnonzero(alpha.any(axis=0))
    ys, xs = slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1)
    a = alpha[ys, xs, None].astype(np.float32)
    col = np.asarray(color, np.float32)
    if col.ndim == 3:
        col = col[ys, xs]
    img[ys, xs] = img[ys, xs] * (1.0 - a) + col * a


def _wide_blur(img: Image, sigma: float) -> Image:
    """Gaussian blur for wide kernels (soft shadows, blobs, light bands): blurred at a reduced size
    and scaled back, which differs from a full-size blur by well under a grey level but skips most of
    the work of a 100+ tap kernel."""
    f = int(sigma // 4)
    if f < 2:
        return np.asarray(cv2.GaussianBlur(img, (0, 0), sigma), np.float32)
    h, w = img.shape[:2]
    small = cv2.resize(img, (max(1, w // f), max(1, h // f)), interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(small, (0, 0), sigma / f)
    return np.asarray(cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR), np.float32)


def _contrast_of(before: Image, after: Image) -> Image:
    """Largest per-channel change a drawing made: how visible a thin defect is before optics."""
    return np.asarray(np.abs(after - before).max(axis=2), np.float32)


VISIBLE_LEVELS = 12.0
"""A thin defect is labelled only where it changes the final frame by at least this many grey levels
(after light level, blur and downscaling): a camera cannot see less, so the model is not taught to."""
THIN_CLASSES = ("crack", "scratch")


def _smooth_noise(rng: np.random.Generator, h: int, w: int, scale: float) -> Image:
    """Low-frequency noise in 0..1, used for textures, tarnish and smears."""
    sh, sw = max(2, int(h / scale)), max(2, int(w / scale))
    n: Image = rng.random((sh, sw)).astype(np.float32)
    n = cv2.resize(n, (w, h), interpolation=cv2.INTER_CUBIC)
    n = _wide_blur(n, max(0.5, scale / 4))
    lo, hi = float(n.min()), float(n.max())
    return (n - lo) / max(1e-6, hi - lo)


def _random_walk(
    rng: np.random.Generator,
    start: tuple[float, float],
    heading: float,
    steps: int,
    step_len: float,
    jitter: float,
) -> list[tuple[int, int]]:
    pts = [start]
    x, y = start
    for _ in range(steps):
        heading += rng.normal(0, jitter)
        x += math.cos(heading) * step_len
        y += math.sin(heading) * step_len
        pts.append((x, y))
    return [(round(px), round(py)) for px, py in pts]


def _poly(img: Image, pts: list[tuple[int, int]], color: Any, thickness: int) -> None:
    cv2.polylines(img, [np.array(pts, np.int32)], False, color, thickness, cv2.LINE_AA)


def _station_background(rng: np.random.Generator, h: int, w: int, dark: bool = False) -> Image:
    if dark:
        base = rng.uniform(15, 55)
        tint = rng.uniform(-8, 8, 3)
    else:
        base = rng.uniform(70, 175)
        tint = rng.uniform(-6, 6, 3)
    bg = np.empty((h, w, 3), np.float32)
    bg[:] = base + tint
    cx, cy = rng.uniform(0.3, 0.7) * w, rng.uniform(0.3, 0.7) * h
    dx = ((np.arange(w, dtype=np.float32) - cx) / w) ** 2  # separable: a row plus a column
    dy = ((np.arange(h, dtype=np.float32) - cy) / h) ** 2
    vign = 1.0 - rng.uniform(0.1, 0.35) * (dy[:, None] + dx[None, :]) * 2
    bg *= vign[..., None].astype(np.float32)
    bg += (_smooth_noise(rng, h, w, 40)[..., None] - 0.5) * rng.uniform(4, 14)
    bg += rng.normal(0, rng.uniform(0.5, 3.0), (h, w, 1)).astype(np.float32)
    return bg


# --------------------------------------------------------------------------- phones

_BODY_COLORS = [  # BGR
    (25, 25, 28),
    (30, 30, 30),
    (235, 235, 235),
    (200, 200, 205),
    (120, 70, 30),
    (70, 140, 200),
    (60, 100, 60),
    (150, 110, 140),
    (40, 40, 170),
    (180, 180, 170),
    (90, 90, 95),
    (170, 200, 225),
]


def _wallpaper(rng: np.random.Generator, h: int, w: int, with_lines: bool) -> Image:
    c1, c2 = rng.uniform(0, 255, 3), rng.uniform(0, 255, 3)
    t = np.linspace(0, 1, h, dtype=np.float32)[:, None, None]
    img = np.broadcast_to(c1 * (1 - t) + c2 * t, (h, w, 3)).astype(np.float32).copy()
    for _ in range(int(rng.integers(2, 7))):  # soft blobs
        blob = np.zeros((h, w), np.float32)
        cv2.circle(
            blob, (int(rng.integers(0, w)), int(rng.integers(0, h))), int(rng.uniform(0.1, 0.5) * w), 1.0, -1
        )
        blob = _wide_blur(blob, w * 0.08)
        _blend(img, rng.uniform(0, 255, 3), blob * rng.uniform(0.3, 0.9))
    if with_lines:  # designs with stripes / geometric lines: hard negatives for cracks and scratches
        col = rng.uniform(0, 255, 3)
        mode = int(rng.integers(0, 3))
        n = int(rng.integers(3, 12))
        for i in range(n):
            th = int(rng.integers(2, 6))
            if mode == 0:
                x = int((i + 0.5) * w / n)
                cv2.line(img, (x, 0), (x + int(rng.integers(-w, w)), h), col.tolist(), th, cv2.LINE_AA)
            elif mode == 1:
                y = int((i + 0.5) * h / n)
                cv2.line(
                    img, (0, y), (w, y + int(rng.integers(-h // 6, h // 6))), col.tolist(), th, cv2.LINE_AA
                )
            else:
                cv2.circle(img, (w // 2, h // 3), int((i + 1) * w / n * 0.6), col.tolist(), th, cv2.LINE_AA)
    if rng.random() < 0.6:  # app icon grid
        cols, rows = 4, int(rng.integers(4, 7))
        s = w / (cols + 1)
        for r in range(rows):
            for c in range(cols):
                if rng.random() < 0.2:
                    continue
                x0, y0 = int((c + 0.5) * s + s * 0.15), int(h * 0.12 + r * s * 1.25)
                cv2.rectangle(
                    img,
                    (x0, y0),
                    (x0 + int(s * 0.7), y0 + int(s * 0.7)),
                    rng.uniform(0, 255, 3).tolist(),
                    -1,
                    cv2.LINE_AA,
                )
    cv2.rectangle(img, (int(w * 0.06), int(h * 0.012)), (int(w * 0.2), int(h * 0.022)), (235, 235, 235), -1)
    return img


def draw_crack(rng: np.random.Generator, img: Image, mask: Image, region: Image, bright: bool) -> None:
    """Branching cracks or a shatter pattern drawn inside ``region`` (the glass)."""
    h, w = mask.shape
    ys, xs = np.nonzero(region)
    k = int(rng.integers(0, len(xs)))
    cx, cy = float(xs[k]), float(ys[k])
    if rng.random() < 0.3:  # impact from the edge / a corner
        cx, cy = float(rng.choice([0.05, 0.95]) * w), float(rng.uniform(0.05, 0.95) * h)
    layer = np.zeros((h, w), np.float32)
    lab = np.zeros((h, w), np.uint8)
    step = CANON_PX_PER_MM * rng.uniform(1.5, 3.0)
    if rng.random() < 0.5:  # shatter: radial rays + concentric links
        n_rays = int(rng.integers(6, 18))
        rays = []
        for i in range(n_rays):
            head = 2 * math.pi * i / n_rays + rng.normal(0, 0.2)
            pts = _random_walk(rng, (cx, cy), head, int(rng.integers(10, 60)), step, 0.18)
            rays.append(pts)
            _poly(layer, pts, 1.0, 1 + int(rng.random() < 0.3))
            _poly(lab, pts, 1, 3)
        for ring in range(int(rng.integers(1, 5))):
            idx = 2 + ring * int(rng.integers(2, 5))
            for a, b in zip(rays, rays[1:] + rays[:1], strict=True):
                if idx < len(a) and idx < len(b) and rng.random() < 0.7:
                    seg = [a[idx], b[idx]]
                    _poly(layer, seg, 1.0, 1)
                    _poly(lab, seg, 1, 3)
        cv2.circle(layer, (int(cx), int(cy)), int(rng.uniform(2, 6)), 1.0, -1, cv2.LINE_AA)
        cv2.circle(lab, (int(cx), int(cy)), 7, 1, -1)
    else:  # a few long branching cracks
        for _ in range(int(rng.integers(1, 4))):
            stack = [((cx, cy), rng.uniform(0, 2 * math.pi), int(rng.integers(20, 70)))]
            while stack:
                (sx, sy), head, n = stack.pop()
                pts = _random_walk(rng, (sx, sy), head, n, step, 0.25)
                _poly(layer, pts, 1.0, 1 + int(rng.random() < 0.3))
                _poly(lab, pts, 1, 3)
                if n > 8 and len(stack) < 12:
                    for _b in range(int(rng.integers(0, 3))):
                        j = int(rng.integers(1, len(pts)))
                        stack.append((pts[j], head + rng.choice([-1, 1]) * rng.uniform(0.4, 1.2), n // 2))
    inside = region > 0
    layer *= inside
    lab &= inside.astype(np.uint8)
    color = (rng.uniform(215, 255),) * 3 if bright else (rng.uniform(10, 60),) * 3
    layer = np.maximum(layer, cv2.GaussianBlur(layer, (0, 0), 1.5) * 0.6)  # light scattered at the edge
    _blend(img, color, np.clip(layer * rng.uniform(0.75, 1.0), 0, 1))
    if bright and rng.random() < 0.5:  # a faint dark shadow beside the bright line
        _blend(img, (0, 0, 0), np.roll(layer, 1, axis=1) * 0.3)
    mask |= lab


def _draw_scratches(
    rng: np.random.Generator,
    img: Image,
    mask: Image,
    region: Image,
    px_mm: float,
    light_on_dark: bool,
    glass: bool = False,
) -> None:
    """Smooth strokes of 5-40 mm. On glass (``glass``) a scratch is drawn as it shows under the
    station's light box: the groove scatters light into a soft halo around a bright core, its
    brightness comes and goes along the stroke, and a third of them come as a family of near-parallel
    strokes (a key in a pocket). Without the halo a rendered scratch shrank to a fifth of a crop pixel
    and sat at the crop's noise floor, while real scratches that cost a grade are plainly visible."""
    h, w = mask.shape
    ys, xs = np.nonzero(region)
    inside = region > 0
    n_strokes = int(rng.integers(1, 5))
    strokes: list[tuple[float, float, float, float, float]] = []  # x0, y0, length, heading, bend
    while len(strokes) < n_strokes:
        k = int(rng.integers(0, len(xs)))
        x0, y0 = float(xs[k]), float(ys[k])
        length = rng.uniform(5, 40) * px_mm
        head = rng.uniform(0, 2 * math.pi)
        bend = rng.normal(0, 0.15)
        strokes.append((x0, y0, length, head, bend))
        if glass and rng.random() < 0.33:  # a family: near-parallel strokes a few mm apart
            for _ in range(min(int(rng.integers(1, 4)), n_strokes - len(strokes))):
                off = rng.uniform(0.6, 3.0) * px_mm * rng.choice([-1, 1])
                strokes.append(
                    (
                        x0 - math.sin(head) * off + rng.normal(0, 2) * px_mm,
                        y0 + math.cos(head) * off,
                        length * rng.uniform(0.5, 1.2),
                        head + rng.normal(0, 0.05),
                        bend + rng.normal(0, 0.03),
                    )
                )
    for x0, y0, length, head, bend in strokes:
        pts = []
        for i in range(24):
            t = i / 23
            hh = head + bend * t
            pts.append((round(x0 + math.cos(hh) * length * t), round(y0 + math.sin(hh) * length * t)))
        layer = np.zeros((h, w), np.float32)
        _poly(layer, pts, 1.0, 1 if px_mm < 8 else 2)
        lab = np.zeros((h, w), np.uint8)
        _poly(lab, pts, 1, 3)
        if glass:
            halo = cv2.GaussianBlur(layer, (0, 0), rng.uniform(0.9, 1.6))
            layer = np.maximum(layer, halo * (rng.uniform(0.4, 0.8) / max(float(halo.max()), 1e-6)))
            ys_l, xs_l = np.nonzero(layer)
            if len(xs_l):  # brightness comes and goes along the stroke
                along = (xs_l - x0) * math.cos(head) + (ys_l - y0) * math.sin(head)
                phase = rng.uniform(0, 2 * math.pi)
                wave = 0.65 + 0.35 * np.sin(along / max(length, 1.0) * rng.uniform(2, 7) + phase)
                layer[ys_l, xs_l] *= wave.astype(np.float32)
        layer *= inside
        iy, ix = int(np.clip(y0, 0, h - 1)), int(np.clip(x0, 0, w - 1))
        under = float(np.mean(img[iy, ix]))
        if light_on_dark or under < 120:
            col: tuple[float, ...] = (min(255.0, under + rng.uniform(60, 130)),) * 3
        else:
            col = (max(0.0, under - rng.uniform(50, 100)),) * 3
        _blend(img, col, np.clip(layer * rng.uniform(0.5, 0.9), 0, 1))
        mask |= lab & inside.astype(np.uint8)


def _draw_chips(rng: np.random.Generator, img: Image, alpha: Image, mask: Image, body: Image) -> None:
    """Edge nicks (material missing) and dents (dark dimple with highlight) on the body rim."""
    h, w = mask.shape
    edge = cv2.morphologyEx(body, cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8))
    ys, xs = np.nonzero(edge)
    for _ in range(int(rng.integers(1, 4))):
        k = int(rng.integers(0, len(xs)))
        cx, cy = int(xs[k]), int(ys[k])
        r = rng.uniform(0.8, 2.5) * CANON_PX_PER_MM
        n = int(rng.integers(5, 9))
        angs = np.sort(rng.uniform(0, 2 * math.pi, n))
        poly = np.array(
            [
                [cx + math.cos(a) * r * rng.uniform(0.5, 1.0), cy + math.sin(a) * r * rng.uniform(0.5, 1.0)]
                for a in angs
            ],
            np.int32,
        )
        reg = np.zeros((h, w), np.uint8)
        cv2.fillPoly(reg, [poly], 1)
        reg &= (body > 0).astype(np.uint8)
        if rng.random() < 0.5:  # nick: material gone, rim exposed
            inner = cv2.erode(reg, np.ones((3, 3), np.uint8))
            alpha[inner > 0] *= rng.uniform(0.0, 0.3)
            rim = (reg > 0) & ~(inner > 0)
            img[rim] = rng.uniform(150, 230)
        else:  # dent: dark dimple with a bright crescent
            f = cv2.GaussianBlur(reg.astype(np.float32), (0, 0), 1.0)
            _blend(img, (20, 20, 20), f * rng.uniform(0.5, 0.8))
            cres = np.roll(reg, 2, axis=0).astype(np.float32) * (1 - reg)
            _blend(img, (235, 235, 235), cres * 0.6)
        mask |= reg


def _fingerprints(rng: np.random.Generator, img: Image, region: Image, px_mm: float) -> None:
    h, w = region.shape
    for _ in range(int(rng.integers(1, 4))):
        cx, cy = rng.uniform(0.1, 0.9) * w, rng.uniform(0.1, 0.9) * h
        rx, ry = rng.uniform(6, 10) * px_mm, rng.uniform(8, 13) * px_mm
        # only the print's bounding box: outside the ellipse its envelope is zero
        x0, x1 = max(0, int(cx - rx) - 1), min(w, int(cx + rx) + 2)
        y0, y1 = max(0, int(cy - ry) - 1), min(h, int(cy + ry) + 2)
        yy, xx = np.mgrid[y0:y1, x0:x1].astype(np.float32)
        d = np.sqrt(((xx - cx) / rx) ** 2 + ((yy - cy) / ry) ** 2)
        ridges = 0.5 + 0.5 * np.sin(d * rng.uniform(25, 40))
        env = np.clip(1.0 - d, 0, 1) ** 0.5
        strength = rng.uniform(0.05, 0.16)
        _blend(img[y0:y1, x0:x1], (200, 200, 200), ridges * env * strength * (region[y0:y1, x0:x1] > 0))


def _oil(rng: np.random.Generator, img: Image, region: Image) -> None:
    h, w = region.shape
    n = _smooth_noise(rng, h, w, rng.uniform(20, 60))
    blob = np.clip((n - rng.uniform(0.55, 0.75)) * 4, 0, 1)
    tint = rng.uniform(120, 230, 3)
    _blend(img, tint, blob * rng.uniform(0.08, 0.25) * (region > 0))


def _dust(rng: np.random.Generator, img: Image, region: Image) -> None:
    ys, xs = np.nonzero(region)
    for _ in range(int(rng.integers(5, 50))):
        k = int(rng.integers(0, len(xs)))
        v = rng.uniform(150, 255)
        cv2.circle(img, (int(xs[k]), int(ys[k])), int(rng.integers(0, 2)), (v, v, v), -1, cv2.LINE_AA)


def _reflection(rng: np.random.Generator, img: Image, region: Image) -> None:
    h, w = region.shape
    band = np.zeros((h, w), np.float32)
    x0 = rng.uniform(-0.5, 1.0) * w
    pts = np.array(
        [
            [x0, 0],
            [x0 + rng.uniform(0.1, 0.4) * w, 0],
            [x0 + rng.uniform(0.3, 1.0) * w, h],
            [x0 + rng.uniform(0.1, 0.5) * w, h],
        ],
        np.int32,
    )
    cv2.fillPoly(band, [pts], 1.0)
    band = _wide_blur(band, rng.uniform(5, 25))
    _blend(img, (235, 235, 235), band * rng.uniform(0.05, 0.22) * (region > 0))


def _dark_glass(rng: np.random.Generator, h: int, w: int) -> Image:
    """A switched-off display under the light box: a near-black mirror with the box's soft reflection
    across it and a faint coating tint; nothing drawn on it, so a line on it is on the glass."""
    img = np.empty((h, w, 3), np.float32)
    img[:] = rng.uniform(6, 16) + rng.uniform(-2, 3, 3)  # anti-reflective coating: a cold tint
    band = np.zeros((h, w), np.float32)
    x0, slope = rng.uniform(-0.3, 0.9) * w, rng.uniform(-0.6, 0.6) * w
    cv2.fillPoly(
        band,
        [
            np.array(
                [[x0, 0], [x0 + rng.uniform(0.3, 0.7) * w, 0], [x0 + slope + 0.5 * w, h], [x0 + slope, h]],
                np.int32,
            )
        ],
        1.0,
    )
    img += _wide_blur(band, rng.uniform(0.15, 0.35) * w)[..., None] * rng.uniform(6, 22)
    img += np.linspace(0, 1, h, dtype=np.float32)[:, None, None] * rng.uniform(-4, 6)
    return img


def _render_phone_flat(
    rng: np.random.Generator,
    side: str,
    defects: Sequence[str],
    distract: list[str],
    item: dict[str, Any],
    screen_off: np.random.Generator | None = None,
    harder: np.random.Generator | None = None,
    layout: BackLayout | None = None,
    features: dict[str, Image] | None = None,
) -> tuple[Image, Image, dict[str, Image], dict[str, Image]]:
    """The phone in its flat frame. ``screen_off`` (a generator of its own, so the rest of the scene
    draws exactly what it draws with the screen on) turns the display into dark glass; ``harder`` (its
    own generator too) puts text, icons, keypads, photos and art on a lit screen; ``layout`` draws a
    catalogued model's back. ``features`` receives the masks of the known non-defect parts."""
    feats: dict[str, Image] = {} if features is None else features
    wmm, hmm = rng.uniform(66, 78), rng.uniform(138, 162)
    if layout is not None:
        wmm, hmm = layout.size_mm
    item["size_mm"] = [round(wmm, 1), round(hmm, 1)]
    W, H = int(wmm * CANON_PX_PER_MM), int(hmm * CANON_PX_PER_MM)
    body = _rounded_rect_mask(H, W, int(rng.uniform(5, 11) * CANON_PX_PER_MM))
    img = np.zeros((H, W, 3), np.float32)
    color = np.array(_BODY_COLORS[int(rng.integers(0, len(_BODY_COLORS)))], np.float32)
    masks = {c: np.zeros((H, W), np.uint8) for c in PHONE_CLASSES}
    glass = body.copy()
    if side == "screen":
        bezel = (
            np.array((20, 20, 22), np.float32)
            if rng.random() < 0.7
            else np.array((235, 235, 235), np.float32)
        )
        img[:] = bezel
        # metal frame rim
        rim = cv2.morphologyEx(body, cv2.MORPH_GRADIENT, np.ones((5, 5), np.uint8))
        img[rim > 0] = color * 0.6 + 60
        mx = int(rng.uniform(1.2, 4.0) * CANON_PX_PER_MM)
        my_t, my_b = int(rng.uniform(1.5, 9) * CANON_PX_PER_MM), int(rng.uniform(1.5, 9) * CANON_PX_PER_MM)
        dh, dw = H - my_t - my_b, W - 2 * mx
        screen_mode = "dark" if rng.random() < 0.45 else "wallpaper"
        item.update(color="black" if bezel[0] < 100 else "white", screen=screen_mode)
        if screen_mode == "dark":
            disp = np.full((dh, dw, 3), rng.uniform(5, 30), np.float32)
            disp += np.linspace(0, 1, dh, dtype=np.float32)[:, None, None] * rng.uniform(-8, 12)
        else:
            lines = "wallpaper_lines" in distract and rng.random() < 0.6
            disp = _wallpaper(rng, dh, dw, lines)
            disp *= rng.uniform(0.5, 1.0)
        content = draw_screen_content(harder, disp) if harder is not None else None
        if screen_off is not None:
            disp, content = _dark_glass(screen_off, dh, dw), None
            item["screen"] = "off"
        dmask = _rounded_rect_mask(dh, dw, int(rng.uniform(2, 8) * CANON_PX_PER_MM)) > 0
        region = img[my_t : my_t + dh, mx : mx + dw]
        region[dmask] = disp[dmask]
        feats["display"] = np.zeros((H, W), np.uint8)
        feats["display"][my_t : my_t + dh, mx : mx + dw] = dmask
        if content is not None:
            feats["screen_content"] = np.zeros((H, W), np.uint8)
            feats["screen_content"][my_t : my_t + dh, mx : mx + dw] = content & dmask
        if rng.random() < 0.7:  # punch hole / notch
            cxn = W // 2 if rng.random() < 0.8 else mx + int(4 * CANON_PX_PER_MM)
            cyn = my_t + int(3 * CANON_PX_PER_MM)
            if rng.random() < 0.5:
                cv2.circle(img, (cxn, cyn), int(1.6 * CANON_PX_PER_MM), (5, 5, 5), -1, cv2.LINE_AA)
            else:
                cv2.rectangle(
                    img,
                    (cxn - int(12 * CANON_PX_PER_MM), my_t),
                    (cxn + int(12 * CANON_PX_PER_MM), my_t + int(5 * CANON_PX_PER_MM)),
                    bezel.tolist(),
                    -1,
                )
        else:  # earpiece slot
            cv2.rectangle(
                img,
                (W // 2 - 40, max(2, my_t // 2 - 3)),
                (W // 2 + 40, max(4, my_t // 2 + 3)),
                (50, 50, 50),
                -1,
            )
        base_dark = screen_mode == "dark" or bezel[0] < 100
        glass_dark = base_dark or screen_off is not None  # cracks and scratches show bright on it
    else:
        img[:] = color
        item.update(color=color.astype(int).tolist())
        if rng.random() < 0.6:  # glossy glass: vertical gradient highlight
            g = np.linspace(rng.uniform(-30, 0), rng.uniform(0, 40), W, dtype=np.float32)[None, :, None]
            img += g
        else:  # matte texture
            img += (rng.normal(0, 3, (H, W, 1))).astype(np.float32)
        if layout is not None:
            feats.update(draw_back(rng, img, color, layout, CANON_PX_PER_MM))
    if side != "screen" and layout is None:
        cx0, cy0 = int(rng.uniform(4, 10) * CANON_PX_PER_MM), int(rng.uniform(4, 10) * CANON_PX_PER_MM)
        bw, bh = int(rng.uniform(18, 35) * CANON_PX_PER_MM), int(rng.uniform(18, 35) * CANON_PX_PER_MM)
        if rng.random() < 0.3:
            cx0, bw = (W - bw) // 2, bw
        bump = _rounded_rect_mask(bh, bw, int(5 * CANON_PX_PER_MM)) > 0
        sub = img[cy0 : cy0 + bh, cx0 : cx0 + bw]
        sub[bump] = sub[bump] * 0.8 + 20
        feats["camera_island"] = np.zeros((H, W), np.uint8)
        feats["camera_island"][cy0 : cy0 + bh, cx0 : cx0 + bw] = bump[: H - cy0, : W - cx0]
        feats["lens"] = np.zeros((H, W), np.uint8)
        for _ in range(int(rng.integers(2, 5))):
            lx, ly = int(rng.uniform(0.25, 0.75) * bw) + cx0, int(rng.uniform(0.25, 0.75) * bh) + cy0
            rr = int(rng.uniform(3, 6) * CANON_PX_PER_MM)
            cv2.circle(feats["lens"], (lx, ly), rr, 1, -1)
            cv2.circle(img, (lx, ly), rr, (70, 70, 70), -1, cv2.LINE_AA)
            cv2.circle(img, (lx, ly), int(rr * 0.75), (10, 10, 12), -1, cv2.LINE_AA)
            cv2.circle(img, (lx - rr // 3, ly - rr // 3), max(1, rr // 6), (200, 200, 200), -1, cv2.LINE_AA)
        cv2.circle(
            img,
            (W // 2, int(H * 0.55)),
            int(6 * CANON_PX_PER_MM),
            (color * 0.85 + 30).tolist(),
            2,
            cv2.LINE_AA,
        )
        feats["logo"] = np.zeros((H, W), np.uint8)
        cv2.circle(feats["logo"], (W // 2, int(H * 0.55)), int(6 * CANON_PX_PER_MM) + 2, 1, -1)
    if side != "screen":
        base_dark = float(color.mean()) < 110
        glass_dark = base_dark
    alpha = body.astype(np.float32) / 255.0
    contrast = {c: np.zeros((H, W), np.float32) for c in THIN_CLASSES}
    for d in defects:
        before = img.copy()
        if d == "crack":
            # the draw happens whenever it did with the screen on, so the rest of the scene is the same
            bright = base_dark or rng.random() < 0.4
            draw_crack(rng, img, masks["crack"], glass, bright=bright or glass_dark)
            contrast["crack"] = _contrast_of(before, img)
        elif d == "scratch":
            _draw_scratches(
                rng,
                img,
                masks["scratch"],
                cv2.erode(glass, np.ones((9, 9), np.uint8)),
                CANON_PX_PER_MM,
                glass_dark,
                glass=True,
            )
            contrast["scratch"] = _contrast_of(before, img)
        elif d == "chip":
            _draw_chips(rng, img, alpha, masks["chip"], body)
    if "fingerprint" in distract:
        _fingerprints(rng, img, glass, CANON_PX_PER_MM)
    if "oil" in distract:
        _oil(rng, img, glass)
    if "dust" in distract:
        _dust(rng, img, glass)
    if "reflection" in distract:
        _reflection(rng, img, glass)
    return np.clip(img, 0, 255), alpha, masks, contrast


def _render_phone(
    rng: np.random.Generator,
    spec_kw: dict[str, Any],
    defects: Sequence[str],
    distract: list[str],
    screen_off: np.random.Generator | None = None,
    harder: np.random.Generator | None = None,
    layout: BackLayout | None = None,
    features: dict[str, Image] | None = None,
) -> tuple[Image, dict[str, Image], np.ndarray, Image, dict[str, Image]]:
    w, h = spec_kw["width"], spec_kw["height"]
    item: dict[str, Any] = spec_kw["item"]
    ffeats: dict[str, Image] = {}
    flat, alpha, fmasks, fcontrast = _render_phone_flat(
        rng, spec_kw["side"], defects, distract, item, screen_off, harder, layout, ffeats
    )
    fh, fw = alpha.shape
    scale = rng.uniform(0.62, 0.9) * h / fh
    spec_kw["px_per_mm"] = round(scale * CANON_PX_PER_MM, 3)
    ang = math.radians(spec_kw["angle_deg"] + rng.normal(0, 2))
    cx, cy = w / 2 + rng.uniform(-0.12, 0.12) * w, h / 2 + rng.uniform(-0.06, 0.06) * h
    corners = np.array(
        [[-fw / 2, -fh / 2], [fw / 2, -fh / 2], [fw / 2, fh / 2], [-fw / 2, fh / 2]], np.float32
    )
    rot = np.array([[math.cos(ang), -math.sin(ang)], [math.sin(ang), math.cos(ang)]], np.float32)
    dst = (corners * scale) @ rot.T + np.array([cx, cy], np.float32)
    tilt = rng.uniform(0.0, 0.05) * fh * scale
    dst += rng.uniform(-tilt, tilt, dst.shape).astype(np.float32)
    src = np.array([[0, 0], [fw, 0], [fw, fh], [0, fh]], np.float32)
    H = cv2.getPerspectiveTransform(src, dst)
    bg = _station_background(rng, h, w, dark=False)  # the phone station uses a mid-grey mat
    if harder is not None:
        bg = cluttered_surround(harder, bg, dst)
    warped = cv2.warpPerspective(flat, H, (w, h), flags=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    a = cv2.warpPerspective(alpha, H, (w, h), flags=cv2.INTER_LINEAR)
    # soft drop shadow under the item
    sh = _wide_blur(np.roll(a, (int(rng.integers(2, 12)), int(rng.integers(-8, 8))), (0, 1)), 8)
    bg *= (1 - 0.2 * sh)[..., None]
    out = bg * (1 - a[..., None]) + warped * a[..., None]
    masks = {
        c: (cv2.warpPerspective(m.astype(np.float32), H, (w, h), flags=cv2.INTER_LINEAR) > 0.4).astype(
            np.uint8
        )
        for c, m in fmasks.items()
    }
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    contrast = {c: cv2.warpPerspective(m, H, (w, h), flags=interp) for c, m in fcontrast.items()}
    if features is not None:
        for name, m in ffeats.items():
            warped_m = cv2.warpPerspective(m.astype(np.float32), H, (w, h), flags=cv2.INTER_LINEAR)
            features[name] = (warped_m > 0.4).astype(np.uint8)
    return out, masks, dst, a, contrast


# --------------------------------------------------------------------------- jewelry

_METALS = {"gold": (60, 175, 215), "silver": (205, 205, 210), "rose": (135, 150, 215)}
_STONES = {
    "diamond": (245, 240, 235),
    "ruby": (50, 30, 190),
    "sapphire": (170, 60, 25),
    "emerald": (80, 150, 40),
}


def _metal_shade(shape: Image, rng: np.random.Generator) -> Image:
    """Bevel-like brightness from the distance to the shape edge: metal looks rounded."""
    d = cv2.distanceTransform((shape > 0).astype(np.uint8), cv2.DIST_L2, 5)
    mx = float(d.max()) or 1.0
    t = d / mx
    shade = 0.55 + 0.55 * np.sin(np.clip(t, 0, 1) * math.pi / 2) ** 2
    shade = shade * (0.85 + 0.3 * _smooth_noise(rng, shape.shape[0], shape.shape[1], 25))
    return shade.astype(np.float32)


def _stone(
    img: Image,
    rng: np.random.Generator,
    c: tuple[int, int],
    r: int,
    color: Any,
    squash: float = 1.0,
    ang: float = 0.0,
) -> Image:
    h, w = img.shape[:2]
    m = np.zeros((h, w), np.uint8)
    cv2.ellipse(m, c, (r, max(1, int(r * squash))), ang, 0, 360, 1, -1, cv2.LINE_AA)
    col = np.array(color, np.float32)
    img[m > 0] = col * 0.7
    n = 8
    for i in range(n):  # facets
        a0, a1 = 2 * math.pi * i / n, 2 * math.pi * (i + 1) / n
        tri = np.array(
            [
                c,
                (c[0] + int(r * math.cos(a0)), c[1] + int(r * squash * math.sin(a0))),
                (c[0] + int(r * math.cos(a1)), c[1] + int(r * squash * math.sin(a1))),
            ],
            np.int32,
        )
        f = np.zeros((h, w), np.uint8)
        cv2.fillPoly(f, [tri], 1)
        f &= m
        img[f > 0] = np.clip(col * rng.uniform(0.5, 1.25), 0, 255)
    cv2.circle(img, (c[0] - r // 3, c[1] - r // 3), max(1, r // 5), (255, 255, 255), -1, cv2.LINE_AA)
    return m


def _render_jewelry(
    rng: np.random.Generator,
    spec_kw: dict[str, Any],
    defects: Sequence[str],
    distract: list[str],
    landmarks: dict[str, Image],
) -> tuple[Image, dict[str, Image], np.ndarray, Image, dict[str, Image]]:
    """Fills ``landmarks`` (intact stones) beside the masks; drawing them takes nothing from ``rng``, so
    a seed's pixels do not depend on them."""
    w, h = spec_kw["width"], spec_kw["height"]
    item: dict[str, Any] = spec_kw["item"]
    ppm = JEWELRY_PX_PER_MM * w / 1280.0
    spec_kw["px_per_mm"] = round(ppm, 3)
    bg = _station_background(rng, h, w, dark=rng.random() < 0.5)
    S = int(min(h, w) * 0.98) // 2 * 2
    canvas = np.zeros((S, S, 3), np.float32)
    metal = np.zeros((S, S), np.uint8)
    c = S // 2
    kind = str(rng.choice(["ring", "pendant", "bracelet"]))
    metal_name = str(rng.choice(list(_METALS)))
    stone_name = str(rng.choice(list(_STONES)))
    item.update(type=kind, metal=metal_name, stone=stone_name)
    settings: list[tuple[tuple[int, int], int]] = []
    if kind == "ring":
        ro = int(rng.uniform(9, 12) * ppm)
        bw = int(rng.uniform(1.8, 3.5) * ppm)
        cv2.circle(metal, (c, c), ro, 255, -1, cv2.LINE_AA)
        cv2.circle(metal, (c, c), ro - bw, 0, -1, cv2.LINE_AA)
        sr = int(rng.uniform(2.5, 4.5) * ppm)
        sc = (c, c - ro + bw // 2)
        cv2.circle(metal, sc, sr + int(0.8 * ppm), 255, -1, cv2.LINE_AA)
        settings.append((sc, sr))
        for a in np.linspace(-0.6, 0.6, int(rng.integers(0, 4))):  # side stones
            p = (int(c + math.sin(a) * (ro - bw / 2)), int(c - math.cos(a) * (ro - bw / 2)))
            if abs(a) > 0.2:
                settings.append((p, max(2, int(bw * 0.4))))
        item["size_mm"] = round(2 * ro / ppm, 1)
    elif kind == "pendant":
        r = int(rng.uniform(7, 13) * ppm)
        shape = int(rng.integers(0, 3))
        if shape == 0:
            cv2.circle(metal, (c, c), r, 255, -1, cv2.LINE_AA)
        elif shape == 1:  # heart
            cv2.circle(metal, (c - r // 2, c - r // 3), r // 2 + 2, 255, -1, cv2.LINE_AA)
            cv2.circle(metal, (c + r // 2, c - r // 3), r // 2 + 2, 255, -1, cv2.LINE_AA)
            cv2.fillPoly(
                metal, [np.array([[c - r, c - r // 4], [c + r, c - r // 4], [c, c + r]], np.int32)], 255
            )
        else:  # teardrop
            cv2.circle(metal, (c, c + r // 3), int(r * 0.7), 255, -1, cv2.LINE_AA)
            cv2.fillPoly(
                metal,
                [
                    np.array(
                        [[c - int(r * 0.68), c + r // 3], [c + int(r * 0.68), c + r // 3], [c, c - r]],
                        np.int32,
                    )
                ],
                255,
            )
        if rng.random() < 0.6:  # cut-out
            cv2.circle(metal, (c, c), int(r * 0.35), 0, -1, cv2.LINE_AA)
            settings.append(((c, c + int(r * 0.55)), max(3, int(r * 0.22))))
        else:
            settings.append(((c, c), int(r * rng.uniform(0.3, 0.5))))
        # bail and chain
        cv2.circle(metal, (c, c - r - int(1.5 * ppm)), int(1.5 * ppm), 255, 2, cv2.LINE_AA)
        y = c - r - int(3 * ppm)
        x = float(c)
        while y > 4:
            cv2.ellipse(
                metal,
                (int(x), y),
                (max(2, int(0.6 * ppm)), max(3, int(1.0 * ppm))),
                0,
                0,
                360,
                255,
                2,
                cv2.LINE_AA,
            )
            y -= int(1.6 * ppm)
            x += rng.normal(0, 0.8)
        item["size_mm"] = round(2 * r / ppm, 1)
    else:
        ro = int(min(rng.uniform(22, 30) * ppm, S / 2 * 0.85))
        bw = int(rng.uniform(3, 7) * ppm)
        cv2.ellipse(metal, (c, c), (ro, int(ro * rng.uniform(0.8, 1.0))), 0, 0, 360, 255, bw, cv2.LINE_AA)
        n = int(rng.integers(1 if {"missing_stone", "loose_stone"} & set(defects) else 0, 7))
        for i in range(n):
            a = 2 * math.pi * i / max(1, n) + rng.uniform(0, 0.3)
            p = (int(c + math.cos(a) * ro), int(c + math.sin(a) * ro * 0.9))
            settings.append((p, max(3, int(bw * 0.35))))
        item["size_mm"] = round(2 * ro / ppm, 1)
    shade = _metal_shade(metal, rng)
    mcol = np.array(_METALS[metal_name], np.float32)
    canvas[:] = mcol * shade[..., None]
    alpha = metal.astype(np.float32) / 255.0
    masks = {k: np.zeros((S, S), np.uint8) for k in JEWELRY_CLASSES}
    intact = np.zeros((S, S), np.uint8)
    metal_only = metal.copy()
    stone_defect = None
    if settings and ("missing_stone" in defects or "loose_stone" in defects):
        stone_defect = int(rng.integers(0, len(settings)))
    for i, (p, r) in enumerate(settings):
        cv2.circle(canvas, p, r + max(1, int(0.5 * ppm)), (mcol * 0.8).tolist(), -1, cv2.LINE_AA)  # bezel cup
        cv2.circle(alpha, p, r + max(1, int(0.5 * ppm)), 1.0, -1, cv2.LINE_AA)
        cv2.circle(metal_only, p, r + max(1, int(0.5 * ppm)), 0, -1)
        for k in range(4):  # prongs
            a = math.pi / 4 + k * math.pi / 2
            q = (int(p[0] + math.cos(a) * r), int(p[1] + math.sin(a) * r))
            cv2.circle(canvas, q, max(1, r // 5), (mcol * 1.15).clip(0, 255).tolist(), -1, cv2.LINE_AA)
        if i == stone_defect and "missing_stone" in defects:
            cv2.circle(canvas, p, r, (15, 15, 18), -1, cv2.LINE_AA)  # empty seat
            cv2.circle(canvas, p, max(1, r // 2), (40, 40, 45), 1, cv2.LINE_AA)
            cv2.circle(masks["missing_stone"], p, r, 1, -1)
        elif i == stone_defect and "loose_stone" in defects:
            off = rng.uniform(0.25, 0.5) * r
            ang = rng.uniform(0, 2 * math.pi)
            q = (int(p[0] + math.cos(ang) * off), int(p[1] + math.sin(ang) * off))
            cv2.circle(canvas, p, r, (15, 15, 18), -1, cv2.LINE_AA)  # gap shows
            m = _stone(
                canvas, rng, q, r, _STONES[stone_name], squash=rng.uniform(0.6, 0.85), ang=rng.uniform(0, 180)
            )
            reg = np.zeros((S, S), np.uint8)
            cv2.circle(reg, p, r, 1, -1)
            masks["loose_stone"] |= reg | m
        else:
            intact |= _stone(canvas, rng, p, r, _STONES[stone_name])
    metal_region = cv2.erode(metal_only, np.ones((3, 3), np.uint8))
    contrast: dict[str, Image] = {}
    if "scratch" in defects:
        before = canvas.copy()
        _draw_scratches(rng, canvas, masks["scratch"], metal_region, ppm, light_on_dark=False)
        contrast["scratch"] = _contrast_of(before, canvas)
    if "dent" in defects:
        ys, xs = np.nonzero(metal_region)
        for _ in range(int(rng.integers(1, 3))):
            k = int(rng.integers(0, len(xs)))
            reg = np.zeros((S, S), np.uint8)
            ax = (max(2, int(rng.uniform(0.8, 2.0) * ppm)), max(2, int(rng.uniform(0.6, 1.5) * ppm)))
            cv2.ellipse(reg, (int(xs[k]), int(ys[k])), ax, rng.uniform(0, 180), 0, 360, 1, -1)
            reg &= (metal_only > 0).astype(np.uint8)
            f = cv2.GaussianBlur(reg.astype(np.float32), (0, 0), 1.2)
            _blend(canvas, (mcol * 0.25).tolist(), f * rng.uniform(0.5, 0.8))
            cres = np.roll(reg, -2, axis=0).astype(np.float32) * (1 - reg)
            _blend(canvas, (250, 250, 250), cres * 0.7)
            masks["dent"] |= reg
    if "tarnish" in defects:
        tn = _smooth_noise(rng, S, S, rng.uniform(8, 20) * ppm / 10)
        patch = (tn > rng.uniform(0.45, 0.65)) & (metal_only > 0)
        soft = cv2.GaussianBlur(patch.astype(np.float32), (0, 0), 1.5)
        _blend(canvas, (25, 35, 45), soft * rng.uniform(0.55, 0.8))
        masks["tarnish"] |= patch.astype(np.uint8)
    if "fingerprint" in distract:
        _fingerprints(rng, canvas, metal_only, ppm * 0.6)
    if "dust" in distract:
        _dust(rng, canvas, metal)
    if "reflection" in distract:
        _reflection(rng, canvas, metal_only)
    # specular glints: metal is shiny, glints are not defects
    ys, xs = np.nonzero(metal_region)
    if len(xs):
        for _ in range(int(rng.integers(2, 8))):
            k = int(rng.integers(0, len(xs)))
            cv2.circle(
                canvas, (int(xs[k]), int(ys[k])), int(rng.integers(1, 4)), (255, 255, 255), -1, cv2.LINE_AA
            )
    # rotate (turntable) and place
    ang = spec_kw["angle_deg"] + rng.normal(0, 2)
    pos = (w / 2 + rng.uniform(-0.1, 0.1) * w, h / 2 + rng.uniform(-0.05, 0.05) * h)
    M: Image = np.asarray(cv2.getRotationMatrix2D((S / 2, S / 2), -ang, 1.0), np.float64)
    M[:, 2] = M[:, 2] + np.array(pos, np.float64) - S / 2
    can = cv2.warpAffine(canvas, M, (w, h), flags=cv2.INTER_LINEAR)
    a = cv2.warpAffine(alpha, M, (w, h), flags=cv2.INTER_LINEAR)
    sh = cv2.GaussianBlur(np.roll(a, (4, 3), (0, 1)), (0, 0), 4)
    bg *= (1 - 0.4 * sh)[..., None]
    out = bg * (1 - a[..., None]) + can * a[..., None]
    masks_out = {
        k: (cv2.warpAffine(m.astype(np.float32), M, (w, h)) > 0.4).astype(np.uint8) for k, m in masks.items()
    }
    contrast_out = {k: cv2.warpAffine(m, M, (w, h), flags=cv2.INTER_LINEAR) for k, m in contrast.items()}
    landmarks["intact_stone"] = (cv2.warpAffine(intact.astype(np.float32), M, (w, h)) > 0.4).astype(np.uint8)
    ys, xs = np.nonzero(a > 0.5)
    x0, x1, y0, y1 = float(xs.min()), float(xs.max()), float(ys.min()), float(ys.max())
    quad = np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], np.float32)
    return out, masks_out, quad, a, contrast_out


# --------------------------------------------------------------------------- scene-level effects


def _glare(rng: np.random.Generator, img: Image, quad: np.ndarray, item_alpha: Image) -> None:
    """Specular hotspots of the light box, mirrored by the glossy item (the mat itself is matte)."""
    h, w = img.shape[:2]
    layer = np.zeros((h, w), np.float32)
    x0, y0 = quad.min(axis=0)
    x1, y1 = quad.max(axis=0)
    for _ in range(int(rng.integers(1, 3))):
        c = (int(rng.uniform(x0, x1)), int(rng.uniform(y0, y1)))
        ax = (int(rng.uniform(0.02, 0.12) * w), int(rng.uniform(0.01, 0.06) * w))
        cv2.ellipse(layer, c, ax, rng.uniform(0, 180), 0, 360, 1.0, -1, cv2.LINE_AA)
    layer = _wide_blur(layer, rng.uniform(3, 15))
    layer = layer / max(1e-6, float(layer.max()))
    img += (layer * item_alpha)[..., None] * rng.uniform(80, 250)


def _visible_only(
    masks: dict[str, Image], contrast: dict[str, Image], gain: float, sigma: float, saturated: Image
) -> tuple[dict[str, Image], dict[str, Image]]:
    """Keep a thin-defect label only where the line survives light, blur, clipping and downscaling.
    Also returns the visibility maps (grey levels per pixel) for the same rule in the model crop."""
    out = dict(masks)
    vis: dict[str, Image] = {}
    for name, c in contrast.items():
        c = c * gain
        if sigma > 0.3:
            c = cv2.GaussianBlur(c, (0, 0), sigma)
        c[saturated] = 0.0
        vis[name] = np.asarray(c, np.float32)
        seen = cv2.dilate((c >= VISIBLE_LEVELS).astype(np.uint8), np.ones((3, 3), np.uint8))
        out[name] = masks[name] & seen
    return out, vis


def known_phone_model(model: str | None) -> bool:
    """Can ``render_scene`` draw this phone model's back (is it in the feature catalogue)?"""
    return layout_for(model) is not None


def render_scene(
    kind: str,
    *,
    seed: int,
    defects: Sequence[str] = (),
    side: str = "screen",
    angle_deg: float = 0.0,
    light_level: float = 1.0,
    width: int = 1280,
    height: int = 720,
    distractors: bool = True,
    only_distractors: Sequence[str] | None = None,
    screen_on: bool = True,
    harder: bool = False,
    phone_model: str | None = None,
) -> RenderedScene:
    """Render one camera frame of ``kind`` ("phone"/"jewelry") on the station, deterministic in ``seed``.

    ``defects`` are class names from PHONE_CLASSES / JEWELRY_CLASSES; ``masks`` has one entry per
    class of the kind (all zero when absent). ``light_level`` is the light box 0..1; with
    ``distractors`` a random subset of glare/reflections/fingerprints/oil/dust/wallpaper lines is drawn;
    ``only_distractors`` draws exactly the named ones instead (for tests of the hard negatives).
    ``screen_on=False`` photographs a phone's screen side with the display switched off (dark glass
    under the light box); everything else in the scene is what the same seed renders with it on.
    ``harder`` adds what real photos have (screen text, icons, keypads, photos, sharp art; a textured,
    cluttered desk around the mat) from a generator of its own; ``phone_model`` (a model the feature
    catalogue knows) draws that model's back. ``features`` of the result masks the known parts.
    """
    classes = {"phone": PHONE_CLASSES, "jewelry": JEWELRY_CLASSES}.get(kind)
    if classes is None:
        raise ValueError(f"unknown kind {kind!r}: expected 'phone' or 'jewelry'")
    bad = [d for d in defects if d not in classes]
    if bad:
        raise ValueError(f"unknown {kind} defect(s) {bad}: expected some of {list(classes)}")
    if side not in ("screen", "back"):
        raise ValueError(f"unknown side {side!r}: expected 'screen' or 'back'")
    if width < 64 or height < 64:
        raise ValueError("frame must be at least 64x64 pixels")
    layout = layout_for(phone_model)
    if phone_model is not None and layout is None:
        raise ValueError(f"unknown phone model {phone_model!r}: the feature catalogue has no such model")
    rng = np.random.default_rng(seed)
    distract = [d for d in DISTRACTORS if distractors and rng.random() < 0.45]
    if only_distractors is not None:
        unknown = [d for d in only_distractors if d not in DISTRACTORS]
        if unknown:
            raise ValueError(f"unknown distractor(s) {unknown}: expected some of {list(DISTRACTORS)}")
        distract = [d for d in DISTRACTORS if d in only_distractors]
    kw: dict[str, Any] = {
        "width": width,
        "height": height,
        "side": side,
        "angle_deg": float(angle_deg),
        "item": {},
        "px_per_mm": 0.0,
    }
    defects = tuple(dict.fromkeys(defects))
    landmarks: dict[str, np.ndarray] = {}
    features: dict[str, np.ndarray] = {}
    if kind == "phone":
        # own generators: the screen-on, plain scene of this seed stays what it always was
        screen_off = None if screen_on else np.random.default_rng([int(seed), 0x0FF])
        hard = np.random.default_rng([int(seed), 0x4A2D]) if harder else None
        if layout is not None:
            kw["item"]["model"] = layout.model
        img, masks, quad, alpha, contrast = _render_phone(
            rng, kw, defects, distract, screen_off, hard, layout, features
        )
    else:
        img, masks, quad, alpha, contrast = _render_jewelry(rng, kw, defects, distract, landmarks)
    if "glare" in distract:
        _glare(rng, img, np.asarray(quad, np.float32), alpha)
    light = float(np.clip(light_level, 0.0, 1.0))
    gain = (0.25 + 0.75 * light) * rng.uniform(0.85, 1.15)
    img *= gain
    img *= rng.uniform(0.92, 1.08, 3).astype(np.float32)  # white balance
    sigma = rng.uniform(0, 1.2)
    if sigma > 0.3:
        img = cv2.GaussianBlur(img, (0, 0), sigma)
    masks, visibility = _visible_only(masks, contrast, gain, sigma, saturated=img.max(axis=2) >= 255)
    img += rng.normal(0, rng.uniform(0.5, 4.0) + 4 * (1 - light), img.shape).astype(np.float32)
    out = np.clip(img, 0, 255).astype(np.uint8)
    ok, enc = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(60, 96))])
    if ok:
        out = cv2.imdecode(enc, cv2.IMREAD_COLOR)
    spec = SceneSpec(
        kind=kind,
        seed=int(seed),
        side=side if kind == "phone" else "top",
        defects=defects,
        angle_deg=float(angle_deg),
        light_level=light,
        width=width,
        height=height,
        distractors=tuple(distract),
        px_per_mm=float(kw["px_per_mm"]),
        item=kw["item"],
    )
    return RenderedScene(
        image=out,
        masks=masks,
        item_quad=np.asarray(quad, np.float32),
        spec=spec,
        visibility=visibility,
        landmarks=landmarks,
        features=features,
    )
