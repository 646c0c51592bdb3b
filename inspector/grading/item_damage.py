"""Is this item damaged, and roughly where: a frozen pretrained backbone and a linear head.

The backbone (EfficientNet-Lite0, ImageNet weights, Apache-2.0, 8-bit after its first two blocks;
``models/damage_backbone.onnx``) turns the item's view and its tiles (``cols`` x ``rows``), each
squashed to a square of ``size`` pixels, into 1,280 features each; a logistic head
(``models/<kind>_damage_head.json``, plain weights applied by numpy) reads the whole view's features
with the mean and the maximum over the tiles. The head names the tiles and their size it was fitted
on. Features learnt on millions of real photos carry to real photos of phones; a small network
trained on renders does not (it learnt "any thin contrasting line is a crack").
The head's thresholds were chosen on real photos only.

The view is rectified straight to at most ``rows * size`` pixels on its longer side, area-averaged:
what the backbone gets cannot hold more detail, and a 4K frame gives the view a 1280 x 720 frame of the
same scene gives, at the cost of a small warp.

What it answers is item level: the probability, calibrated on real photos, that the item shows the
damage of the lowest grade (a cracked or broken screen), and for each tile the same head's answer if
the whole item looked like that tile: a coarse map of where. Pixel marks of that kind only count
where this flags the item (``inspector.grading.grader``).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path

import cv2
import numpy as np

from inspector.grading.onnx_files import ModelError, open_onnx
from inspector.grading.resample import area_shrink, warp_to_crop

SIZE = 224  # the tile side of heads that do not name one
GRID = 3  # tiles per side of heads that do not name them
VIEW_MARGIN = 0.06  # share of the item's width and height kept around it
VIEW_HALVE_FROM = 2.0  # area-average by halving from 2x down (resample.area_shrink): 4K frames fast
BACKBONE_FILE = "damage_backbone.onnx"
REBUILD = "build it with `make models`"


def views(image_bgr: np.ndarray, grid: int = GRID, size: int = SIZE, rows: int | None = None) -> np.ndarray:
    """The whole image, then its tiles row by row (``grid`` columns, ``rows`` rows, as many as columns
    unless given), each as size x size RGB uint8."""
    rows = grid if rows is None else rows
    rgb = cv2.cvtColor(image_bgr, cv2.COLOR_BGR2RGB)
    h, w = rgb.shape[:2]
    crops = [rgb] + [
        rgb[h * r // rows : h * (r + 1) // rows, w * c // grid : w * (c + 1) // grid]
        for r in range(rows)
        for c in range(grid)
    ]
    return np.stack([cv2.resize(c, (size, size), interpolation=cv2.INTER_AREA) for c in crops])


def item_view(
    image_bgr: np.ndarray, quad: np.ndarray | None, longest: int = GRID * SIZE, margin: float = VIEW_MARGIN
) -> np.ndarray:
    """What the head looks at: the item's box (``quad``, TL TR BR BL in the frame) rectified upright
    with a little of the mat around it, the whole image when no item was found (hand-held photos,
    where the item fills the frame); either shrunk (area-averaged) to at most ``longest`` pixels on
    its longer side, never enlarged, so the same scene gives the same view at any frame size."""
    h0, w0 = image_bgr.shape[:2]
    if quad is not None:
        q = np.asarray(quad, np.float32)
        w = float(max(np.linalg.norm(q[1] - q[0]), np.linalg.norm(q[2] - q[3])))
        h = float(max(np.linalg.norm(q[3] - q[0]), np.linalg.norm(q[2] - q[1])))
        if w >= 16 and h >= 16:
            f = min(1.0, longest / ((1 + 2 * margin) * max(w, h)))
            w, h = f * w, f * h
            mx, my = margin * w, margin * h
            size = (round(w + 2 * mx), round(h + 2 * my))
            dst = np.array([[mx, my], [mx + w, my], [mx + w, my + h], [mx, my + h]], np.float32)
            return warp_to_crop(
                image_bgr,
                cv2.getPerspectiveTransform(q, dst),
                size,
                antialias=True,
                halve_from=VIEW_HALVE_FROM,
            )
    f = min(1.0, longest / max(h0, w0))
    if f == 1.0:
        return image_bgr
    return area_shrink(image_bgr, (max(1, round(w0 * f)), max(1, round(h0 * f))), VIEW_HALVE_FROM)[0]


def lite_input(rgb: np.ndarray) -> np.ndarray:
    """NCHW, RGB scaled by (x - 127) / 128, as the TensorFlow EfficientNet-Lite models were trained."""
    return ((rgb.astype(np.float32) - 127.0) / 128.0).transpose(0, 3, 1, 2)


def head_input(feats: np.ndarray) -> np.ndarray:
    """One photo's (1 + tiles) x dim features -> whole, mean over tiles, max over tiles (3 x dim)."""
    whole, tiles = feats[0], feats[1:]
    return np.concatenate([whole, tiles.mean(axis=0), tiles.max(axis=0)])


def tile_inputs(feats: np.ndarray) -> np.ndarray:
    """Per tile, the head input of an item that looked like that tile everywhere (tiles x 3 x dim)."""
    whole, tiles = feats[0], feats[1:]
    return np.stack([np.concatenate([whole, t, t]) for t in tiles])


@dataclass(frozen=True)
class LinearHead:
    """Standardise, then logistic: P(damaged) = sigmoid(coef . (x - mean) / scale + intercept).

    ``threshold``: at or above it the item makes the lowest grade; below it the grader drops the pixel
    marks of the lowest-grade classes (lenses, logos, text, wallpapers). Chosen on real validation
    photos: at most 3 % of intact phones and 2 % of oil/stain crops at or above it."""

    backbone: str
    mean: list[float]
    scale: list[float]
    coef: list[float]
    intercept: float
    threshold: float
    backbone_sha256: str = ""
    grid: int = GRID  # the views it was fitted on: the whole view and its tiles, grid columns by rows,
    size: int = SIZE  # each squashed to size x size px (rows 0: as many as columns)
    rows: int = 0

    @property
    def longest(self) -> int:
        """Longest side of the upright item view (rows along it): the tiles' pixels, no more."""
        return max(self.grid, self.tile_rows) * self.size

    @property
    def tile_rows(self) -> int:
        return self.rows or self.grid

    def probability(self, x: np.ndarray) -> np.ndarray:
        z = (np.atleast_2d(x) - np.asarray(self.mean)) / np.asarray(self.scale)
        return np.asarray(1.0 / (1.0 + np.exp(-(z @ np.asarray(self.coef) + self.intercept))))

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> LinearHead:
        return cls(**json.loads(text))


@dataclass(frozen=True)
class DamageEstimate:
    probability: float  # calibrated on real photos: P(the item shows lowest-grade damage)
    flagged: bool  # probability >= the head's threshold: the lowest grade, its pixel marks count
    tiles: np.ndarray  # rows x columns, the head's answer per tile (the coarse map)

    def to_dict(self) -> dict[str, object]:
        return {
            "probability": round(self.probability, 4),
            "flagged": self.flagged,
            "tiles": [[round(float(v), 3) for v in row] for row in self.tiles],
        }


def read_head(path: Path) -> LinearHead:
    if not path.is_file():
        raise ModelError(f"damage head not found at {path}: {REBUILD}")
    try:
        head = LinearHead.from_json(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, TypeError) as exc:
        raise ModelError(f"damage head at {path} is unreadable or damaged ({exc}); {REBUILD}") from None
    if not (len(head.mean) == len(head.scale) == len(head.coef)) or not head.coef:
        raise ModelError(f"damage head at {path} has weights of different lengths; {REBUILD}")
    return head


class ItemDamage:
    """The backbone session and one kind's head; thread-compatible per call."""

    def __init__(self, models_dir: Path, kind: str, threads: int = 2) -> None:
        head_path = models_dir / f"{kind}_damage_head.json"
        self.head = read_head(head_path)
        self.head_sha256 = hashlib.sha256(head_path.read_bytes()).hexdigest()
        path = models_dir / BACKBONE_FILE
        self.session, blob = open_onnx(path, "damage backbone", REBUILD, threads)
        self.sha256 = hashlib.sha256(blob).hexdigest()
        if self.head.backbone_sha256 and self.head.backbone_sha256 != self.sha256:
            raise ModelError(
                f"{models_dir / f'{kind}_damage_head.json'} was fitted on backbone "
                f"{self.head.backbone_sha256[:12]}, but {path} is {self.sha256[:12]}; {REBUILD}"
            )
        if len(self.head.coef) != 3 * self.dim:
            raise ModelError(
                f"damage head expects {len(self.head.coef) // 3} features, the backbone gives {self.dim}"
            )
        side = self.session.get_inputs()[0].shape[2:]
        if any(isinstance(d, int) and d != self.head.size for d in side):
            raise ModelError(
                f"damage head was fitted on {self.head.size} px views, but {path} takes "
                f"{side[0]} x {side[1]}; {REBUILD}"
            )
        self.input_name = self.session.get_inputs()[0].name

    @property
    def dim(self) -> int:
        return int(self.session.get_outputs()[0].shape[-1])

    def features(self, view_bgr: np.ndarray) -> np.ndarray:
        """(1 + tiles) x dim backbone features of an item view: the whole view first, then the tiles."""
        x = lite_input(views(view_bgr, self.head.grid, self.head.size, self.head.tile_rows))
        (out,) = self.session.run(None, {self.input_name: x})
        return np.asarray(out, np.float32).reshape(len(x), -1)

    def estimate(self, image_bgr: np.ndarray, quad: np.ndarray | None = None) -> DamageEstimate:
        """``quad``: the item's corners in the frame when it was found (see ``item_view``)."""
        return self.from_features(self.features(item_view(image_bgr, quad, self.head.longest)))

    def from_features(self, feats: np.ndarray) -> DamageEstimate:
        p = float(self.head.probability(head_input(feats))[0])
        tiles = self.head.probability(tile_inputs(feats)).reshape(self.head.tile_rows, self.head.grid)
        return DamageEstimate(p, p >= self.head.threshold, tiles)
