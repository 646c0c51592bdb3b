"""Mosaics of small windows centred on the rarest defect classes, mixed into every training batch.

Jewelry dents and scratches are a few hundred crop pixels in a quarter of the scenes. In uniform
windows a step sees almost none of them, and windows of the full training size centred on them cost a
whole slot each (v5/v6, jewelry card history: ~4,400 dent windows in a full run, P(dent) 0.11
on its own training crops). A dent-only run that put ~18,000 windows on dents did learn them. Four
half-size windows tiled into one slot give a step four times the rare examples for the price of one
window, and the tile keeps the batch's shape and its BatchNorm statistics close to whole crops'.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class RarePool:
    """Where each rare class is labelled in the training set: per class, (sample, y, x) of its pixels."""

    classes: tuple[int, ...]
    where: tuple[np.ndarray, ...]

    @classmethod
    def build(cls, labels: np.ndarray, classes: tuple[int, ...]) -> RarePool:
        """``labels`` N x H x W class ids; a class with no labelled pixel is left out (it cannot be
        centred on), so a pool can be empty."""
        kept, where = [], []
        for c in classes:
            idx = np.argwhere(labels == c).astype(np.int32)
            if len(idx):
                kept.append(c)
                where.append(idx)
        return cls(tuple(kept), tuple(where))

    def __len__(self) -> int:
        return len(self.classes)


def rare_mosaics(
    x: np.ndarray,
    y: np.ndarray,
    pool: RarePool,
    rng: np.random.Generator,
    n: int,
    crop: int,
) -> tuple[np.ndarray, np.ndarray]:
    """``n`` mosaics of ``crop`` x ``crop`` (uint8 BGR, labels), each four ``crop``/2 windows centred
    (with jitter of a quarter window) on a pixel of a rare class drawn uniformly, then a pixel of it.

    ``x`` and ``y`` are the whole training set (N x H x W x 3, N x H x W)."""
    if not len(pool):
        raise ValueError("no rare-class pixels to centre windows on")
    half = crop // 2
    _, h, w = y.shape
    xs = np.empty((n, crop, crop, 3), x.dtype)
    ys = np.empty((n, crop, crop), y.dtype)
    jitter = half // 4
    for i in range(n):
        for ty in (0, half):
            for tx in (0, half):
                where = pool.where[int(rng.integers(0, len(pool)))]
                s, py, px = where[int(rng.integers(0, len(where)))]
                cy = int(np.clip(py - half // 2 + rng.integers(-jitter, jitter + 1), 0, h - half))
                cx = int(np.clip(px - half // 2 + rng.integers(-jitter, jitter + 1), 0, w - half))
                xs[i, ty : ty + half, tx : tx + half] = x[s, cy : cy + half, cx : cx + half]
                ys[i, ty : ty + half, tx : tx + half] = y[s, cy : cy + half, cx : cx + half]
    return xs, ys
