"""The band of station mat around the phone body in the model crop (ONNX metadata ``margin_px``).

A nick in a phone's rim is a notch in its outline: a crop that ends exactly at the outline cannot show
it. Models since v5 see the body with a margin of mat; the grader must frame the crop exactly as the
model was trained, count only edge defects (chips) on the mat, and refuse a margin it cannot honour."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from damage_model_files import with_damage_model
from onnx_metadata import with_metadata, without_metadata

from inspector.grading import Grader, ModelError
from inspector.grading.calibration import Calibration
from inspector.grading.grader import calibrated_labels, damage_score
from inspector.grading.locate import PHONE_BODY, phone_input, rectify_phone
from models.synth.scene import render_scene

MODELS_DIR = Path(__file__).resolve().parents[1] / "models"
CLASSES = ("background", "crack", "scratch", "chip")


def _shipped_without_margin() -> bytes:
    """The shipped phone model as a model from before the margin (no ``margin_px`` entry)."""
    blob = (MODELS_DIR / "phone_defects.onnx").read_bytes()
    for value in map(str, range(65)):
        if with_metadata(b"", "margin_px", value) in blob:
            return without_metadata(blob, "margin_px", value)
    return blob


def test_margin_puts_the_body_inside_the_crop_at_the_same_scale() -> None:
    """With a margin the body keeps its size and millimetres per pixel; the crop grows by the margin on
    every side, and the mat around the phone is in it."""
    img = np.full((720, 1280, 3), 60, np.uint8)
    quad = np.array([[480, 40], [800, 40], [800, 680], [480, 680]], np.float32)
    cv2.fillPoly(img, [quad.astype(np.int32)], (200, 200, 200))
    plain = rectify_phone(img, quad)
    wide = rectify_phone(img, quad, margin_px=8)
    assert plain.crop.shape[:2] == (PHONE_BODY[1], PHONE_BODY[0]) and plain.inset_px == 0
    assert wide.crop.shape[1::-1] == phone_input(8) == (PHONE_BODY[0] + 16, PHONE_BODY[1] + 16)
    assert wide.mm_per_px == plain.mm_per_px and wide.inset_px == 8
    body = wide.crop[8:-8, 8:-8].astype(int)
    assert np.abs(body[4:-4, 4:-4] - plain.crop[4:-4, 4:-4].astype(int)).max() <= 2
    assert wide.crop[:6].max() < 80 and wide.crop[:, :6].max() < 80  # the mat, not the body
    # the crop maps back onto the frame: the body's corner is where the phone's corner is
    corner = cv2.perspectiveTransform(np.array([[[8.0, 8.0]]], np.float32), wide.to_frame)[0, 0]
    assert np.allclose(corner, quad[0], atol=0.5)
    with pytest.raises(ValueError, match=r"margin must be 0\.\.64"):
        rectify_phone(img, quad, margin_px=65)


def test_on_the_mat_only_a_chip_counts() -> None:
    """A crack-like mark on the mat beside the body (a cable, the mat's own seam) is no defect; a chip
    that reaches out of the outline still is, in the labels and in the damage score."""
    h, w = PHONE_BODY[1] + 16, PHONE_BODY[0] + 16
    probs = np.zeros((4, h, w), np.float32)
    probs[0] = 1.0
    probs[:, 100:160, 3] = np.array([[0.05], [0.95], [0.0], [0.0]])  # a "crack" on the mat
    probs[:, 200:205, 2:12] = np.array([0.02, 0.0, 0.0, 0.98])[:, None, None]  # a chip across the rim
    cal = Calibration(kind="phone", edge_classes=["chip"])
    labels = calibrated_labels(probs, CLASSES, cal, (0.45, 0.45), inset_px=8)
    assert not (labels == 1).any()
    assert (labels[200:205, 2:12] == 3).all()
    plain = calibrated_labels(probs, CLASSES, cal, (0.45, 0.45))  # no margin: the crack would count
    assert (plain[100:160, 3] == 1).all()

    class Loc:
        mm_per_px = (0.45, 0.45)
        inset_px = 8

    probs[:, 200:205, 2:12] = np.array([1.0, 0.0, 0.0, 0.0])[:, None, None]
    assert damage_score(probs, CLASSES, cal, Loc()) < 0.01  # type: ignore[arg-type]
    Loc.inset_px = 0
    assert damage_score(probs, CLASSES, cal, Loc()) > 0.9  # type: ignore[arg-type]


def test_model_metadata_sets_the_margin_and_bad_values_are_refused(tmp_path: Path) -> None:
    """The grader frames a phone with the margin its model states (none for a model without the key),
    and without a fitted rule still counts chips on the mat; a margin out of range, not a number, or
    on a jewelry model is refused at load with a clear message."""
    base = _shipped_without_margin()
    frame = render_scene("phone", seed=3, defects=["crack"], width=960, height=540).image
    path = with_damage_model(tmp_path) / "phone_defects.onnx"
    for blob, margin in ((base, 0), (with_metadata(base, "margin_px", "8"), 8)):
        path.write_bytes(blob)
        g = Grader.load(models_dir=tmp_path, kinds=("phone",))
        assert g.models["phone"].margin_px == margin
        assert g.models["phone"].calibration.edge_classes == ["chip"]  # no fitted rule: chips still count
        res = g.grade(frame, "phone", "screen")
        assert res.located is not None and res.labels is not None
        assert res.located.crop.shape[1::-1] == phone_input(margin) and res.located.inset_px == margin
        assert res.labels.shape == res.located.crop.shape[:2]
    for bad in ("65", "-1", "eight"):
        path.write_bytes(with_metadata(base, "margin_px", bad))
        with pytest.raises(ModelError, match=f"margin_px '{bad}'"):
            Grader.load(models_dir=tmp_path, kinds=("phone",))
    jewelry = (MODELS_DIR / "jewelry_defects.onnx").read_bytes()
    (tmp_path / "jewelry_defects.onnx").write_bytes(with_metadata(jewelry, "margin_px", "8"))
    with pytest.raises(ModelError, match="not a phone crop margin"):
        Grader.load(models_dir=tmp_path, kinds=("jewelry",))
