"""A rebuild keeps the shipped backbone when its own export computes the same features, so the 13.5 MB
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
from inspector.grading.item_damage import BACKBONE_FILE

SHIPPED = Path(backbones.__file__).resolve().parent / BACKBONE_FILE
BACKBONE = backbones.BACKBONES["efficientnet_lite0"]


def _export_with(delta: float, scale: float) -> backbones.Backbone:
    """The shipped backbone as if exported again, its largest weight tensor moved by ``delta`` and
    multiplied by ``scale``."""

    def build(out: Path) -> None:
        model = onnx.load(str(SHIPPED))
        big = max(model.graph.initializer, key=lambda t: int(np.prod(t.dims)))
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
