"""A rebuild keeps the shipped backbone when its own export computes the same features, so the 3.8 MB
file changes in git only when the features do."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import numpy_helper

import models.backbones as backbones
from inspector.grading.item_damage import BACKBONE_FILE, lite_input
from models.quantize import quantize

SHIPPED = Path(backbones.__file__).resolve().parent / BACKBONE_FILE
BACKBONE = backbones.BACKBONES["efficientnet_lite0_int8"]  # what ships


def _export_with(delta: float, scale: float) -> backbones.Backbone:
    """The shipped backbone as if exported again, its largest float weight tensor (the first blocks
    stay float) moved by ``delta`` and multiplied by ``scale``."""

    def build(out: Path) -> None:
        model = onnx.load(str(SHIPPED))
        floats = (t for t in model.graph.initializer if t.data_type == onnx.TensorProto.FLOAT)
        big = max(floats, key=lambda t: int(np.prod(t.dims)))
        w = numpy_helper.to_array(big).astype(np.float32)
        big.CopyFrom(numpy_helper.from_array((w + np.float32(delta)) * np.float32(scale), big.name))
        onnx.save(model, str(out))

    return replace(BACKBONE, build=build)


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(backbones, "BACKBONE_DIR", tmp_path / "backbones")
    return tmp_path


def test_an_export_that_differs_by_rounding_ships_the_shipped_bytes(work: Path) -> None:
    """Proves: weights 1e-7 apart (what BatchNorm folding on another machine gives) are the same
    backbone; the rebuild then trains and ships on the shipped file, byte for byte."""
    backbone = _export_with(1e-7, 1.0)
    assert backbones.ensure_built(backbone, SHIPPED)
    assert _sha(backbone.path) == _sha(SHIPPED)


def test_an_export_with_other_features_is_kept(work: Path) -> None:
    """Proves: a backbone whose features really changed (weights scaled by 1.5) is not replaced by the
    shipped file, so the head is fitted on what the export computes."""
    backbone = _export_with(0.0, 1.5)
    assert not backbones.ensure_built(backbone, SHIPPED)
    assert _sha(backbone.path) != _sha(SHIPPED)
    x = backbones.probe_batch(backbone)
    assert not np.allclose(backbones.features_at(backbone.path, x), backbones.features_at(SHIPPED, x))


def test_without_a_shipped_file_the_export_stands(work: Path) -> None:
    """Proves: a first build (nothing shipped yet) keeps its own export."""
    backbone = _export_with(1e-7, 1.0)
    assert not backbones.ensure_built(backbone, work / "nothing.onnx")
    assert backbone.path.is_file() and _sha(backbone.path) != _sha(SHIPPED)


def _tiny_float_net(path: Path, bias: float = 0.0) -> None:
    """A float conv net of the backbone's shape (image in, pooled features out), small enough to
    quantise in a moment; ``bias`` moves its conv weights as another export would."""
    rng = np.random.default_rng(1)
    w = (rng.normal(0, 0.3, (8, 3, 3, 3)) + bias).astype(np.float32)
    nodes = [
        onnx.helper.make_node("Conv", ["image", "w"], ["c"], pads=[1, 1, 1, 1]),
        onnx.helper.make_node("Relu", ["c"], ["r"]),
        onnx.helper.make_node("GlobalAveragePool", ["r"], ["p"]),
        onnx.helper.make_node("Flatten", ["p"], ["features"]),
    ]
    graph = onnx.helper.make_graph(
        nodes,
        "tiny",
        [onnx.helper.make_tensor_value_info("image", onnx.TensorProto.FLOAT, ["n", 3, "h", "w"])],
        [onnx.helper.make_tensor_value_info("features", onnx.TensorProto.FLOAT, ["n", 8])],
        [numpy_helper.from_array(w, "w")],
    )
    onnx.save(onnx.helper.make_model(graph, opset_imports=[onnx.helper.make_opsetid("", 17)]), str(path))


def _quantised(work: Path, name: str, bias: float) -> Path:
    src, out = work / f"{name}_float.onnx", work / f"{name}_int8.onnx"
    _tiny_float_net(src, bias)
    images = [np.random.default_rng(i).integers(0, 256, (32, 32, 3), np.uint8) for i in range(4)]
    quantize(src, out, images, lambda im: lite_input(im[None]))
    return out


def test_an_8_bit_rebuild_from_a_rounding_apart_export_is_the_same_backbone(work: Path) -> None:
    """Proves: two 8-bit builds whose float exports differ by rounding (1e-7) count as one backbone,
    so a rebuild of the quantised backbone ships the shipped bytes too."""
    int8 = backbones.BACKBONES["efficientnet_lite0_int8"]
    a, b = _quantised(work, "a", 0.0), _quantised(work, "b", 1e-7)
    assert backbones.same_features(int8, a, b)


def test_a_float_backbone_is_never_taken_for_its_8_bit_build(work: Path) -> None:
    """Proves: the float file and its quantised build are different backbones even where their
    features lie within the 8-bit tolerance, so a rebuild never ships the float file under the
    quantised head (or the other way round)."""
    int8 = replace(backbones.BACKBONES["efficientnet_lite0_int8"], same_atol=1.0)
    q = _quantised(work, "a", 0.0)
    assert not backbones.same_features(int8, work / "a_float.onnx", q)
