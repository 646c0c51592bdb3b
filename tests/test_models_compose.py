"""A base model and a part model joined into one ONNX file (models/compose.py): the grader loads it like
any model, its per-pixel output is a distribution over the base's classes, and it equals the mix of
the two models run one by one."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")

from onnx_stub import tiny_model  # noqa: E402

from models.compose import ComposeError, compose, mix  # noqa: E402

JEWELRY = ["background", "scratch", "dent", "missing_stone", "loose_stone", "tarnish"]


def run(path: Path, x: np.ndarray) -> np.ndarray:
    import onnxruntime as ort

    s = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return np.asarray(s.run(None, {s.get_inputs()[0].name: x})[0])


def test_joined_model_gives_the_part_its_classes_and_keeps_the_rest(tmp_path: Path) -> None:
    """Proves: surface classes come from the part, stone classes stay the base's own numbers, each
    pixel's probabilities sum to 1, and the result is the documented mix of the two models."""
    base = tiny_model(tmp_path / "base.onnx", JEWELRY, 1)
    part = tiny_model(tmp_path / "part.onnx", ["background", "scratch", "dent"], 2)
    out = tmp_path / "joined.onnx"
    compose(base, part, out)
    x = np.random.default_rng(3).random((2, 3, 40, 56), dtype=np.float32)
    got = run(out, x)
    b, p = run(base, x), run(part, x)
    assert got.shape == (2, 6, 40, 56)
    np.testing.assert_allclose(got.sum(axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(got[:, 3:], b[:, 3:], atol=1e-6)  # stones and tarnish: the base's
    free = b[:, :3].sum(axis=1)
    np.testing.assert_allclose(got[:, 2], free * p[:, 2], atol=1e-6)  # dent: the part's share
    np.testing.assert_allclose(got, mix(b, p, JEWELRY, ["background", "scratch", "dent"]), atol=1e-6)


def test_a_part_trained_with_class_weights_is_unweighted_before_the_join(tmp_path: Path) -> None:
    """Proves: a part whose metadata records its loss weights (dent 32) gives the join its posterior,
    p / w summed to 1, not its skewed output: a pixel the part puts at P(dent) 0.9 (odds 9, a
    posterior odds of 9 / 32) adds far less than 0.9 x free to the dent, and so to P(any defect)."""
    base = tiny_model(tmp_path / "base.onnx", JEWELRY, 1)
    part_classes = ["background", "scratch", "dent"]
    part = tiny_model(tmp_path / "part.onnx", part_classes, 2, class_weights="[1.0, 32.0, 32.0]")
    out = tmp_path / "joined.onnx"
    meta = compose(base, part, out)
    x = np.random.default_rng(4).random((1, 3, 24, 24), dtype=np.float32)
    got, b, p = run(out, x), run(base, x), run(part, x)
    np.testing.assert_allclose(got.sum(axis=1), 1.0, atol=1e-5)
    posterior = p / np.array([1.0, 32.0, 32.0], np.float32).reshape(1, 3, 1, 1)
    posterior /= posterior.sum(axis=1, keepdims=True)
    free = b[:, :3].sum(axis=1)
    np.testing.assert_allclose(got[:, 2], free * posterior[:, 2], atol=1e-6)
    np.testing.assert_allclose(got, mix(b, p, JEWELRY, part_classes, [1.0, 32.0, 32.0]), atol=1e-6)
    assert json.loads(meta["parts"])["part"]["unweighted_by"] == [1.0, 32.0, 32.0]


@pytest.mark.parametrize("weights", ["[1.0, 32.0]", "[1.0, 0.0, 32.0]", '"heavy"'])
def test_part_weights_that_do_not_fit_are_refused(tmp_path: Path, weights: str) -> None:
    """Proves: loss weights of the wrong length, a zero weight or a non-list in the part's metadata
    are a clear ComposeError and nothing is written."""
    base = tiny_model(tmp_path / "base.onnx", JEWELRY, 1)
    part = tiny_model(tmp_path / "part.onnx", ["background", "scratch", "dent"], 2, class_weights=weights)
    with pytest.raises(ComposeError, match="class_weights"):
        compose(base, part, tmp_path / "joined.onnx")
    assert not (tmp_path / "joined.onnx").exists()


def test_grader_loads_the_joined_model_and_reads_where_its_parts_came_from(tmp_path: Path) -> None:
    """Proves: the station's model wrapper accepts the joined file (classes, kind, framing intact) and
    the file records both parts by hash."""
    from inspector.grading.model import SegModel

    base = tiny_model(tmp_path / "base.onnx", JEWELRY, 1)
    part = tiny_model(tmp_path / "part.onnx", ["background", "dent"], 2)
    out = tmp_path / "jewelry_defects.onnx"
    meta = compose(base, part, out)
    m = SegModel(out, "jewelry")
    assert m.info.classes == tuple(JEWELRY)
    probs = m.predict(np.full((256, 256, 3), 120, np.uint8))
    assert probs.shape == (6, 256, 256)
    parts = json.loads(meta["parts"])
    assert parts["part"]["classes"] == ["dent"]
    assert len(parts["base"]["sha256"]) == 64


def test_models_that_see_different_crops_or_classes_are_refused(tmp_path: Path) -> None:
    """Proves: joining a part that sees another crop, has a class the base lacks, or is not an ONNX
    file is a clear error, and nothing is written."""
    base = tiny_model(tmp_path / "base.onnx", JEWELRY, 1)
    other = tiny_model(tmp_path / "other.onnx", ["background", "dent"], 2, resample="linear")
    with pytest.raises(ComposeError, match="resample"):
        compose(base, other, tmp_path / "x.onnx")
    alien = tiny_model(tmp_path / "alien.onnx", ["background", "crack"], 2)
    with pytest.raises(ComposeError, match="crack"):
        compose(base, alien, tmp_path / "x.onnx")
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"not a model")
    with pytest.raises(ComposeError, match="cannot read"):
        compose(base, junk, tmp_path / "x.onnx")
    assert not (tmp_path / "x.onnx").exists()


def test_a_part_model_trains_on_its_classes_only() -> None:
    """Proves: for a part model's training labels, its classes are renumbered 1..k in its order and
    every other class (an empty stone seat, tarnish) counts as background, so the part learns that
    they are not dents."""
    from models.train import subset_labels

    labels = np.array([[0, 1, 2, 3], [4, 5, 2, 1]], np.uint8)  # ids of JEWELRY
    got = subset_labels(labels, tuple(JEWELRY[1:]), ("scratch", "dent"))
    np.testing.assert_array_equal(got, [[0, 1, 2, 0], [0, 0, 2, 1]])
