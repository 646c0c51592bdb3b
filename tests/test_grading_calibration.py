"""Calibration files: the per-model decision rule (thresholds, minimum sizes, ignored border) is data,
validated when the model loads, and actually changes what the grader reports."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from inspector.grading import Grader, ModelError
from inspector.grading.calibration import Calibration, calibration_path
from inspector.grading.grader import calibrated_labels

MODELS_DIR = Path(__file__).resolve().parents[1] / "models"
CLASSES = ("background", "crack", "scratch", "chip")


def _copy_phone_model(tmp_path: Path) -> Path:
    shutil.copy(MODELS_DIR / "phone_defects.onnx", tmp_path / "phone_defects.onnx")
    return tmp_path / "phone_defects.onnx"


def test_shipped_calibrations_are_valid() -> None:
    """Every shipped model loads with its calibration, and the calibration names real classes."""
    grader = Grader.load()
    for kind, model in grader.models.items():
        cal = model.calibration
        assert cal.kind == kind
        assert set(cal.thresholds) <= set(model.info.classes[1:])
        if calibration_path(model.info.path).exists():
            assert cal.model_sha256 == model.info.sha256, f"{kind}: calibration fitted for another model"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not readable JSON"),
        (
            json.dumps(
                {"schema": "inspector.grading-calibration/1", "kind": "phone", "thresholds": {"crack": 1.5}}
            ),
            "thresholds.crack",
        ),
        (
            json.dumps(
                {"schema": "inspector.grading-calibration/1", "kind": "phone", "thresholds": {"rust": 0.7}}
            ),
            "unknown class(es) rust",
        ),
        (json.dumps({"schema": "inspector.grading-calibration/1", "kind": "jewelry"}), "expected 'phone'"),
        (
            json.dumps(
                {"schema": "inspector.grading-calibration/1", "kind": "phone", "border_margin_mm": -1}
            ),
            "border_margin_mm",
        ),
    ],
)
def test_bad_calibration_is_a_clear_error(tmp_path: Path, content: str, message: str) -> None:
    """A damaged or wrong calibration file stops the model from loading with a message naming the problem."""
    model = _copy_phone_model(tmp_path)
    calibration_path(model).write_text(content)
    with pytest.raises(ModelError) as err:
        Grader.load(models_dir=tmp_path, kinds=("phone",))
    assert message in str(err.value)
    assert "calibration" in str(err.value)


def test_missing_calibration_uses_plain_rule(tmp_path: Path) -> None:
    """Without a calibration file a model still loads, with the rule it was trained for (P >= 0.5)."""
    _copy_phone_model(tmp_path)
    grader = Grader.load(models_dir=tmp_path, kinds=("phone",))
    cal = grader.models["phone"].calibration
    assert cal.threshold("crack") == 0.5
    assert cal.border_margin_mm == 0


def test_thresholds_and_border_band_suppress_pixels() -> None:
    """A per-class threshold drops weak pixels of that class only; the border band drops edge pixels."""
    probs = np.zeros((4, 40, 20), np.float32)
    probs[0] = 1.0
    probs[:, 20, 10] = [0.3, 0.7, 0.0, 0.0]  # crack at P(defect) 0.7, mid-body
    probs[:, 22, 10] = [0.3, 0.0, 0.7, 0.0]  # scratch at P(defect) 0.7
    probs[:, 0, 0] = [0.0, 1.0, 0.0, 0.0]  # certain crack on the body corner
    plain = calibrated_labels(probs, CLASSES, Calibration(kind="phone"), (0.5, 0.5))
    assert plain[20, 10] == 1 and plain[22, 10] == 2 and plain[0, 0] == 1
    cal = Calibration(kind="phone", thresholds={"crack": 0.8}, border_margin_mm=1.0)
    out = calibrated_labels(probs, CLASSES, cal, (0.5, 0.5))
    assert out[20, 10] == 0  # below the crack threshold
    assert out[22, 10] == 2  # scratch keeps the default threshold
    assert out[0, 0] == 0  # inside the 2-pixel border band
