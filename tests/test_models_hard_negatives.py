"""Hard-negative mining (models/hard_negatives.py): a second training stage puts windows exactly where
the first stage's model marks a defect that is not there, and nowhere it is right."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from models.hard_negatives import MinedWindows, false_marks, mine_windows
from models.train import HardSlots, mine_false_marks, prepare_batch

PART = ["background", "scratch", "dent"]


def test_a_false_mark_is_found_but_spill_around_a_labelled_dent_and_specks_are_not() -> None:
    """Proves: a 3 x 3 scratch mark on unlabelled metal is one false mark (its centre is returned); a
    mark spilling one pixel past a labelled dent and a single-pixel speck are not false marks."""
    probs = np.zeros((3, 64, 64), np.float32)
    probs[0] = 1.0
    labels = np.zeros((64, 64), np.uint8)
    labels[18:23, 18:23] = 2  # a labelled dent ...
    probs[2, 17:24, 17:24], probs[0, 17:24, 17:24] = 1.0, 0.0  # ... marked one pixel too wide
    probs[1, 40:43, 50:53], probs[0, 40:43, 50:53] = 1.0, 0.0  # a false scratch mark
    probs[2, 10, 50], probs[0, 10, 50] = 1.0, 0.0  # a speck
    assert false_marks(probs, labels, (1, 2), threshold=0.5, min_px=3) == [(41, 51)]


def dark_spot_crops() -> tuple[np.ndarray, np.ndarray]:
    """Two grey 96 x 96 crops: the first has an unlabelled dark spot at (30, 60) and a dark spot
    labelled as a dent at (70, 20); the second is clean."""
    x = np.full((2, 96, 96, 3), 200, np.uint8)
    y = np.zeros((2, 96, 96), np.uint8)
    x[0, 28:33, 58:63] = 10
    x[0, 68:73, 18:23] = 10
    y[0, 68:73, 18:23] = 2
    return x, y


def dark_is_dent(tmp_path: Path, classes: list[str] = PART) -> Path:
    """An ONNX model that calls every dark pixel a dent and everything else background."""
    from onnx_stub import tiny_model

    weights = np.zeros((len(classes), 3))
    weights[0] = 20 / 3
    bias = np.zeros(len(classes))
    bias[0], bias[1] = -5.0, -10.0
    return tiny_model(tmp_path / "part.onnx", classes, 0, weights=weights, bias=bias)


def test_mined_windows_are_centred_on_the_models_false_marks_only(tmp_path: Path) -> None:
    """Proves: run through a real ONNX model, mining cuts one window, centred on the unlabelled dark
    spot it marked (not on the real dent, not on the clean crop), with that window's labels."""
    pytest.importorskip("onnx")
    x, y = dark_spot_crops()
    mined = mine_false_marks(dark_is_dent(tmp_path), ("scratch", "dent"), [(x, y)], crop=32, threads=1)
    assert (mined.marks, mined.crops_marked) == (1, 1)
    window = mined.x[0]
    assert window.shape == (32, 32, 3)
    dark = np.argwhere(window[..., 0] < 50)
    assert len(dark) == 25 and np.all(np.abs(dark.mean(axis=0) - 16) <= 8 + 1)
    assert not mined.y.any()


def test_mining_refuses_a_model_of_other_classes(tmp_path: Path) -> None:
    """Proves: a model that does not output exactly the part's classes is a clear error, not windows
    mined on the wrong class channels."""
    pytest.importorskip("onnx")
    x, y = dark_spot_crops()
    model = dark_is_dent(tmp_path, ["background", "scratch", "dent", "tarnish"])
    with pytest.raises(ValueError, match="not background"):
        mine_false_marks(model, ("scratch", "dent"), [(x, y)], crop=32, threads=1)


def test_a_clean_model_mines_nothing() -> None:
    """Proves: a model that marks nothing yields no windows (the stage then trains without hard slots)."""
    x, y = dark_spot_crops()

    def nothing(batch: np.ndarray) -> np.ndarray:
        out = np.zeros((len(batch), 3, *batch.shape[1:3]), np.float32)
        out[:, 0] = 1.0
        return out

    mined = mine_windows(nothing, x, y, (1, 2), 32, np.random.default_rng(0))
    assert mined.marks == 0 and mined.x.shape == (0, 32, 32, 3)


def test_a_batch_with_hard_slots_ends_with_mined_windows() -> None:
    """Proves: the batch keeps its size and its last slots are mined windows (here flat black ones,
    which stay flat through the photometric jitter), the rest windows of the scenes."""
    rng = np.random.default_rng(0)
    scenes = rng.integers(0, 256, (8, 64, 64, 3), dtype=np.uint8)
    labels = np.zeros((8, 64, 64), np.uint8)
    mined_x = np.zeros((5, 32, 32, 3), np.uint8)
    hard = HardSlots(MinedWindows(mined_x, np.zeros((5, 32, 32), np.uint8), 5, 2), 3)
    x, y = prepare_batch(scenes, labels, [], rng, 0.0, crop=32, hard=hard)
    assert x.shape == (8, 3, 32, 32) and y.shape == (8, 32, 32)
    spread = x.reshape(8, 3, -1).std(axis=2)
    assert np.all(spread[-3:] < 1e-6) and np.all(spread[:-3] > 0.01)
