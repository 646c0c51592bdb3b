"""Rare-class mosaics for training: every tile shows the rare defect, the batch keeps its shape."""

from __future__ import annotations

import numpy as np
import pytest

from models.rare_windows import RarePool, rare_mosaics
from models.train import LANDMARK_ID0, RareTiles, prepare_batch, rare_pool


def _dented_set(n: int = 20) -> tuple[np.ndarray, np.ndarray]:
    """Items 256 x 256 with one small dent (class 2) each, at a different place; half also have a long
    scratch (class 1) far from the dent."""
    rng = np.random.default_rng(3)
    x = rng.integers(0, 255, (n, 256, 256, 3), dtype=np.uint8)
    y = np.zeros((n, 256, 256), np.uint8)
    for i in range(n):
        cy, cx = (int(v) for v in rng.integers(10, 246, 2))
        y[i, cy - 3 : cy + 3, cx - 3 : cx + 3] = 2
        if i % 2:
            y[i, 5, 20:240] = 1
    return x, y


def test_every_mosaic_tile_shows_a_rare_defect_with_its_own_pixels() -> None:
    """Each quarter of a mosaic is a window centred (with jitter) on a rare class, so every tile holds
    some of it, and the image under a labelled pixel is the training image under that label."""
    x, y = _dented_set()
    pool = RarePool.build(y, (1, 2))
    assert pool.classes == (1, 2)
    xs, ys = rare_mosaics(x, y, pool, np.random.default_rng(0), 50, 160)
    assert xs.shape == (50, 160, 160, 3) and ys.shape == (50, 160, 160)
    tiles = ys.reshape(50, 2, 80, 2, 80).transpose(0, 1, 3, 2, 4).reshape(200, -1)
    assert (tiles > 0).any(axis=1).all()
    # the two classes are drawn about equally often although the scratch has ~4x the pixels
    dent_tiles = (tiles == 2).any(axis=1).mean()
    assert 0.35 <= dent_tiles <= 0.75


def test_a_class_absent_from_the_labels_is_left_out_and_an_empty_pool_is_refused() -> None:
    """Asking for a class nobody labelled does not crash training; asking for mosaics from nothing does."""
    x, y = _dented_set()
    pool = RarePool.build(y, (2, 4))
    assert pool.classes == (2,)
    empty = RarePool.build(np.zeros_like(y), (1, 2))
    with pytest.raises(ValueError, match="no rare-class pixels"):
        rare_mosaics(x, y, empty, np.random.default_rng(0), 1, 160)


def test_rare_tiles_take_the_last_slots_of_the_batch() -> None:
    """With rare tiles the batch keeps its size and shape; the tiles are the last slots and carry the
    rare class, the uniform windows and the negatives come first."""
    x, y = _dented_set()
    negs = [(np.zeros((4, 256, 256, 3), np.uint8), np.zeros((4, 256, 256), np.uint8))]
    rare = RareTiles(x, y, RarePool.build(y, (2,)), tiles=3)
    xb, yb = prepare_batch(x[:18], y[:18], negs, np.random.default_rng(1), 0.0, 160, rare)
    assert xb.shape == (18, 3, 160, 160) and yb.shape == (18, 160, 160)
    assert xb.dtype == np.float32 and yb.dtype == np.int64
    assert all((yb[i] == 2).any() for i in range(15, 18))
    assert not yb[11:15].any()  # the four negatives


def test_landmark_windows_centre_on_unlabelled_landmarks_and_keep_their_labels() -> None:
    """Proves: with intact stones in the pool, mosaics also show stones labelled as background (so the
    model is not taught that every stone in a mosaic is a defect), and a landmark pixel that carries a
    defect label is not taken as a landmark centre."""
    x, y = _dented_set()
    landmarks = np.zeros_like(y)
    landmarks[:, 100:140, 100:140] = 1  # a stone in the middle of every item
    y[0, 100:140, 100:140] = 3  # ...which is loose on the first one
    pool = rare_pool(y, landmarks, (2,), ("intact_stone",), "jewelry")
    assert pool.classes == (2, LANDMARK_ID0)
    stone = pool.where[1]
    assert len(stone) == 19 * 40 * 40 and not (stone[:, 0] == 0).any()
    only_stones = type(pool)((LANDMARK_ID0,), (stone,))
    _, ys = rare_mosaics(x, y, only_stones, np.random.default_rng(0), 10, 160)
    assert not (ys == 3).any()  # the loose stone of item 0 is never a centre
    assert (ys == 0).mean() > 0.95  # intact stones come as background (a dent may be in the window)
    assert set(np.unique(ys)) <= {0, 1, 2}  # the pool's ids never leak into the labels


def test_an_unknown_landmark_is_refused() -> None:
    """Proves: a typo in a landmark name stops training with the names it knows."""
    _, y = _dented_set()
    with pytest.raises(ValueError, match=r"unknown phone landmark\(s\) \['intact_stone'\]"):
        rare_pool(y, np.zeros_like(y), (2,), ("intact_stone",), "phone")
