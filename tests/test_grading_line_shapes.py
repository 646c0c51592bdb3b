"""Crack or scratch by the shape of each thin line: the shape measures, the relabelling, the
classifier's place in the calibration file, and the calibration search that fits it."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest

from inspector.grading import Grader, ModelError
from inspector.grading.calibration import Calibration, LineClassifier
from inspector.grading.grader import calibrated_labels, line_min_area, measure_labels
from inspector.grading.line_shapes import LINE_FEATURES, line_components, reclassify_lines
from models.fit_lines import fit_logistic

CLASSES = ("background", "crack", "scratch", "chip")
MM = (0.45, 0.45)
MODELS_DIR = Path(__file__).resolve().parents[1] / "models"


def _stroke(labels: np.ndarray, x0: int, y0: int, length: int, angle: float) -> None:
    """A smooth scratch-like line, 1 px wide."""
    x1, y1 = round(x0 + math.cos(angle) * length), round(y0 + math.sin(angle) * length)
    cv2.line(labels, (x0, y0), (x1, y1), 1, 1)


def _branching_crack(labels: np.ndarray, cx: int, cy: int, seed: int) -> None:
    """Jagged rays from an impact point, as a shattered screen shows them."""
    rng = np.random.default_rng(seed)
    for k in range(6):
        head = 2 * math.pi * k / 6
        x, y = float(cx), float(cy)
        pts = [(cx, cy)]
        for _ in range(8):
            head += rng.normal(0, 0.5)
            x, y = x + 4 * math.cos(head), y + 4 * math.sin(head)
            pts.append((round(x), round(y)))
        cv2.polylines(labels, [np.array(pts, np.int32)], False, 1, 1)


def _probs_for(labels: np.ndarray, p_defect: float = 0.9) -> np.ndarray:
    probs = np.zeros((4, *labels.shape), np.float32)
    probs[0] = 1.0
    on = labels > 0
    probs[0][on], probs[1][on] = 1 - p_defect, p_defect
    return probs


def _features(labels: np.ndarray) -> dict[str, float]:
    crop = np.full((*labels.shape, 3), 20, np.uint8)
    crop[labels > 0] = 90
    lines = line_components(labels, _probs_for(labels), crop, CLASSES, 0.5, MM)
    assert len(lines) == 1
    return dict(zip(LINE_FEATURES, lines[0].features.tolist(), strict=True))


def test_a_smooth_stroke_measures_straight_and_a_shatter_does_not() -> None:
    """The shape measures separate what a person sees: one smooth stroke is straight, fills its
    convex hull and hardly bends; a shatter pattern branches, fills little of its hull and wanders."""
    stroke = np.zeros((320, 160), np.uint8)
    _stroke(stroke, 30, 60, 60, 0.6)
    crack = np.zeros((320, 160), np.uint8)
    _branching_crack(crack, 80, 160, seed=1)
    s, c = _features(stroke), _features(crack)
    assert s["straightness"] > 0.9 > 0.6 > c["straightness"]
    assert s["solidity"] > 2 * c["solidity"]
    assert s["bend_mm"] < 0.5 < c["bend_mm"]
    assert s["log_length_mm"] == pytest.approx(math.log(60 * 0.45), abs=0.2)


def _toy_classifier(threshold: float = 0.5) -> LineClassifier:
    """P(scratch) rises with straightness only (a hand-made stand-in for a fitted one)."""
    coef = [0.0] * len(LINE_FEATURES)
    coef[LINE_FEATURES.index("straightness")] = 10.0
    return LineClassifier(
        features=list(LINE_FEATURES),
        mean=[0.0] * len(LINE_FEATURES),
        scale=[1.0] * len(LINE_FEATURES),
        coef=coef,
        intercept=-8.0,
        scratch_threshold=threshold,
    )


def test_each_line_is_relabelled_whole() -> None:
    """A line the model split between crack and scratch pixels comes out as one class, decided by
    its shape: the straight stroke a scratch, the shatter a crack; specks and chips are left alone."""
    lines = np.zeros((320, 160), np.uint8)
    _stroke(lines, 20, 40, 60, 0.3)
    _branching_crack(lines, 80, 220, seed=2)
    labels = lines.copy()
    labels[40:50][labels[40:50] == 1] = 2  # the model's split vote on part of the stroke
    labels[300, 5] = 3  # a chip pixel stays a chip
    probs = _probs_for(lines)
    crop = np.full((320, 160, 3), 20, np.uint8)
    out = reclassify_lines(labels, probs, crop, CLASSES, _toy_classifier(), 0.5, MM)
    assert set(np.unique(out[:120])) == {0, 2}  # the whole stroke is a scratch
    assert set(np.unique(out[160:290])) == {0, 1}  # the whole shatter is a crack
    assert out[300, 5] == 3
    strict = reclassify_lines(labels, probs, crop, CLASSES, _toy_classifier(threshold=0.9999), 0.5, MM)
    assert set(np.unique(strict[:120])) == {0, 1}  # not sure enough: a crack, the safe side


def _write_calibration(tmp_path: Path, clf: dict[str, object]) -> Path:
    shutil.copy(MODELS_DIR / "phone_defects.onnx", tmp_path / "phone_defects.onnx")
    cal = {"schema": "inspector.grading-calibration/1", "kind": "phone", "line_classifier": clf}
    (tmp_path / "phone_defects.calibration.json").write_text(json.dumps(cal))
    return tmp_path


def test_a_classifier_for_other_shape_measures_is_refused(tmp_path: Path) -> None:
    """A calibration fitted on other shape measures than this grader computes is refused at load,
    with what to do, instead of silently weighting the wrong numbers."""
    clf = _toy_classifier().model_dump()
    clf["features"] = ["straightness", *LINE_FEATURES[1:]]
    with pytest.raises(ModelError, match=r"re-run `python -m models\.calibrate`"):
        Grader.load(models_dir=_write_calibration(tmp_path, clf), kinds=("phone",))
    clf = _toy_classifier().model_dump()
    clf["coef"] = clf["coef"][:-1]
    with pytest.raises(ModelError, match="coef has"):
        Grader.load(models_dir=_write_calibration(tmp_path, clf), kinds=("phone",))


def test_logistic_fit_recovers_a_separable_rule() -> None:
    """The classifier's fit (ridge logistic regression, Newton steps) learns which measure matters."""
    rng = np.random.default_rng(0)
    x = rng.normal(0, 1, (400, 3))
    y = (x[:, 1] > 0.2).astype(float)
    mean, scale, coef, b = fit_logistic(x, y)
    p = 1 / (1 + np.exp(-(((x - mean) / scale) @ coef + b)))
    assert np.mean((p > 0.5) == (y > 0.5)) > 0.95
    assert abs(coef[1]) > 5 * max(abs(coef[0]), abs(coef[2]))


def test_calibration_search_scores_the_line_rule_as_the_grader_measures_it() -> None:
    """With a line classifier in the rule, the grade the calibration search scores for an item is
    the grade the grader's own relabelling and measurement give, for every scratch threshold."""
    from inspector.grading.locate import locate
    from models.calibrate import Item, score
    from models.fit_lines import with_threshold
    from models.synth.scene import render_scene

    grader = Grader.load(kinds=("phone",))
    model, scale = grader.models["phone"], grader.scales["phone"]
    classes = model.info.classes
    items = []
    for seed in (3, 4):
        scene = render_scene("phone", seed=seed, defects=[], width=640, height=360)
        loc = locate(scene.image, "phone")
        lines = np.zeros(loc.crop.shape[:2], np.uint8)
        _stroke(lines, 30, 60, 40, 0.5)  # an 18 mm straight line
        if seed == 4:
            _branching_crack(lines, 80, 200, seed=seed)
        items.append(Item(loc, np.zeros(lines.shape, np.uint8), 0, False, _probs_for(lines, 0.8)))
    base = Calibration(kind="phone", min_length_mm={"crack": 5.0})
    clf = _toy_classifier()
    seen = set()
    for thr in (0.3, 0.9999):
        for scratch_len in (0.0, 25.0):
            rule = with_threshold(
                base.model_copy(update={"line_classifier": clf}), thr, {"crack": 5.0, "scratch": scratch_len}
            )
            expected = []
            for it in items:
                assert it.probs is not None and rule.line_classifier is not None
                labels = calibrated_labels(it.probs, classes, rule, it.loc.mm_per_px, it.loc.inset_px)
                labels = reclassify_lines(
                    labels,
                    it.probs,
                    it.loc.crop,
                    classes,
                    rule.line_classifier,
                    line_min_area(scale),
                    it.loc.mm_per_px,
                )
                meas, _ = measure_labels(labels, it.loc, classes, scale, rule.min_length_mm)
                expected.append(grader._decide(meas, scale)[0])
            seen.add(tuple(expected))
            got = score(grader, "phone", items, rule)
            assert got["clean_flagged_rate"] == sum(g != 0 for g in expected) / len(items)
    assert len(seen) >= 2  # the threshold and the minimum length do change the grades


def test_a_dashed_line_is_judged_and_measured_as_one() -> None:
    """A faint scratch reaches the model as dashes: bridged, it is one straight line (a scratch of
    its whole length), not several fragments too short to show their shape."""
    labels = np.zeros((320, 160), np.uint8)
    for x0 in range(20, 120, 12):  # 8 px dashes, 4 px gaps
        cv2.line(labels, (x0, 100), (x0 + 7, 100), 1, 1)
    crop = np.full((320, 160, 3), 20, np.uint8)
    lines = line_components(labels, _probs_for(labels), crop, CLASSES, 0.5, MM)
    assert len(lines) == 1
    assert lines[0].part.length_mm == pytest.approx(100 * 0.45, rel=0.1)
    out = reclassify_lines(labels, _probs_for(labels), crop, CLASSES, _toy_classifier(), 0.5, MM)
    assert np.all(out[100, 20:119] == 2)  # the gaps are part of the scratch now
    as_crack = reclassify_lines(
        labels, _probs_for(labels), crop, CLASSES, _toy_classifier(threshold=0.9999), 0.5, MM
    )
    assert np.array_equal(as_crack > 0, labels > 0)  # a crack stays exactly where it was marked
