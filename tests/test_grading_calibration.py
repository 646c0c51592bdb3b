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
from inspector.grading.grader import calibrated_labels, measure_labels

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
    probs[:, 0, 1] = [0.0, 0.0, 0.0, 1.0]  # a chip on the body edge
    edge = Calibration(kind="phone", border_margin_mm=1.0, edge_classes=["chip"])
    out = calibrated_labels(probs, CLASSES, edge, (0.5, 0.5))
    assert out[0, 1] == 3 and out[0, 0] == 0  # the band spares the edge class only


def test_calibration_search_scores_rules_as_the_grader_measures_them() -> None:
    """The calibration search measures each class once per threshold and band (a cache); the grade it
    scores for a rule is the grade the grader's own labelling and measurement give under that rule."""
    from inspector.grading.locate import locate
    from models.calibrate import Item, score
    from models.synth.scene import render_scene

    grader = Grader.load(kinds=("phone",))
    model, scale = grader.models["phone"], grader.scales["phone"]
    items = []
    for seed, defects in ((3, ["crack"]), (4, ["scratch"]), (5, [])):
        scene = render_scene("phone", seed=seed, defects=defects, width=640, height=360)
        loc = locate(scene.image, "phone")
        probs = np.zeros((4, *loc.crop.shape[:2]), np.float32)
        probs[0] = 1.0
        probs[:, 100:160, 60] = np.array([[0.25], [0.6], [0.15], [0.0]])  # a 27 mm line, P(defect) 0.75
        probs[:, 200, 40:52] = np.array([[0.1], [0.1], [0.8], [0.0]])  # a 5 mm scratch, P(defect) 0.9
        probs[:, 1:4, 1:4] = np.array([0.0, 0.0, 0.0, 1.0])[:, None, None]  # a chip in the corner
        items.append(Item(loc, np.zeros(loc.crop.shape[:2], np.uint8), 0, False, probs))
    rules = [
        Calibration(kind="phone"),
        Calibration(kind="phone", thresholds={"crack": 0.8}),
        Calibration(
            kind="phone", thresholds={"crack": 0.8}, min_length_mm={"scratch": 6.0}, border_margin_mm=2.0
        ),
        Calibration(  # as above, but the band spares the corner chip
            kind="phone",
            thresholds={"crack": 0.8},
            min_length_mm={"scratch": 6.0},
            border_margin_mm=2.0,
            edge_classes=["chip"],
        ),
    ]
    seen = set()
    for rule in rules:
        expected = []
        for it in items:
            labels = calibrated_labels(it.probs, model.info.classes, rule, it.loc.mm_per_px, it.loc.inset_px)
            meas, _ = measure_labels(labels, it.loc, model.info.classes, scale, rule.min_length_mm)
            expected.append(grader._decide(meas, scale)[0])
        seen.add(tuple(expected))
        got = score(grader, "phone", items, rule)
        assert got["grade_accuracy"] == sum(g == 0 for g in expected) / len(items)
        assert got["clean_flagged_rate"] == sum(g != 0 for g in expected) / len(items)
    assert len(seen) == 3  # the rules grade these items D, C, A and C
