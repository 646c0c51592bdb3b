"""Jewelry scratches from thin lines in the crop: the candidate strokes, the scorer file beside the
model (and its clear errors), the lines becoming measured scratches, and the shipped scorer on
rendered pieces."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest
from onnx_stub import tiny_scorer

from inspector.grading import Grader, ModelError
from inspector.grading.calibration import ScoredCandidates, calibration_path
from inspector.grading.candidates import CandidateScorer, mark
from inspector.grading.grader import measure_labels
from inspector.grading.locate import Located
from inspector.grading.surface_lines import FEATURES, SCRATCH_LINES, surface_lines
from models.synth.scene import render_scene

MODELS_DIR = Path(__file__).resolve().parents[1] / "models"
CLASSES = ("background", "scratch", "dent", "missing_stone", "loose_stone", "tarnish")
MM = (0.1, 0.1)


def _metal(line: bool) -> np.ndarray:
    """A shaded metal disc on a dark mat, optionally with a 1 px bright stroke across it."""
    yy, xx = np.mgrid[0:256, 0:256].astype(np.float32)
    r = np.hypot(xx - 128, yy - 128)
    grey = np.where(r < 100, 150 + 60 * np.cos(r / 100 * np.pi / 2), 30).astype(np.float32)
    crop = np.repeat(grey[..., None], 3, axis=2).astype(np.uint8)
    if line:
        cv2.line(crop, (90, 100), (150, 130), (235, 235, 235), 1)
    return crop


def _probs() -> np.ndarray:
    probs = np.zeros((len(CLASSES), 256, 256), np.float32)
    probs[0] = 1.0
    return probs


def test_a_stroke_on_shaded_metal_is_the_one_candidate() -> None:
    """A thin stroke is a candidate, measured as the straight 6.7 mm line it is; the smooth shading
    and the disc's own edge are not candidates at all."""
    assert surface_lines(_metal(False), _probs(), CLASSES, MM) == []
    lines = surface_lines(_metal(True), _probs(), CLASSES, MM)
    assert len(lines) == 1
    f = dict(zip(FEATURES, lines[0].features.tolist(), strict=True))
    assert np.exp(f["log_length_mm"]) == pytest.approx(np.hypot(60, 30) * 0.1, rel=0.15)
    assert f["straightness"] > 0.9
    assert f["polarity"] > 0.9  # brighter than the metal around it
    assert f["width_px"] < 2.0


def test_strokes_shorter_than_the_rule_allows_are_not_measured() -> None:
    """The grader passes the rule's minimum scratch length: a 6 mm stroke is measured for a 5 mm rule
    and skipped for a 10 mm one (it could not count), with the same measures either way."""
    all_lines = surface_lines(_metal(True), _probs(), CLASSES, MM)
    assert surface_lines(_metal(True), _probs(), CLASSES, MM, min_length_mm=10.0) == []
    (kept,) = surface_lines(_metal(True), _probs(), CLASSES, MM, min_length_mm=5.0)
    assert np.array_equal(kept.features, all_lines[0].features)


def _scorer(tmp_path: Path, accept_contrast: bool = True) -> Path:
    """A stand-in scorer that accepts lines by their contrast (or rejects everything)."""
    w = np.zeros(len(FEATURES))
    w[FEATURES.index("log_contrast")] = 10.0 if accept_contrast else 0.0
    return tiny_scorer(tmp_path / "jewelry_scratch_lines.onnx", list(FEATURES), w, -20.0)


def test_accepted_lines_become_scratches_the_grader_measures(tmp_path: Path) -> None:
    """A line the scorer accepts at the threshold is marked as a scratch over the pixel rule's labels,
    and measured like any other defect; below the threshold nothing changes."""
    scorer = CandidateScorer(_scorer(tmp_path), SCRATCH_LINES)
    lines = surface_lines(_metal(True), _probs(), CLASSES, MM)
    p = scorer.scores(lines)
    assert p.shape == (1,) and p[0] > 0.99  # contrast ~80 levels: log 4.4 * 10 - 20 > 20
    empty = np.zeros((256, 256), np.int64)
    marked = mark(empty, lines, p, 0.5, CLASSES.index("scratch"))
    assert not mark(empty, lines, p, float(p[0]) + 1e-6, 1).any()
    grader = Grader.load(kinds=("jewelry",))
    loc = Located(_metal(True), np.zeros((4, 2), np.float32), np.eye(3), MM, True)
    meas, defects = measure_labels(marked, loc, CLASSES, grader.scales["jewelry"])
    assert meas["scratch"].count == 1
    assert meas["scratch"].total_length_mm == pytest.approx(6.7, rel=0.2)
    assert [d.cls for d in defects] == ["scratch"]


def _copy_jewelry(tmp_path: Path, rule: dict[str, object] | None) -> Path:
    """The shipped jewelry model and rule with ``rule`` for the scratch lines (no stone scorers)."""
    model = tmp_path / "jewelry_defects.onnx"
    shutil.copy(MODELS_DIR / "jewelry_defects.onnx", model)
    cal = json.loads(calibration_path(MODELS_DIR / "jewelry_defects.onnx").read_text())
    cal["scratch_lines"] = rule
    cal["stone_seats"] = cal["loose_stones"] = None
    calibration_path(model).write_text(json.dumps(cal))
    return model


def test_a_calibration_that_uses_lines_needs_its_scorer(tmp_path: Path) -> None:
    """The rule names scratch lines: without the scorer file beside the model, loading says which file
    is missing and how to rebuild it; a damaged file or one trained on other measures is refused."""
    model = _copy_jewelry(tmp_path, {"threshold": 0.5})
    with pytest.raises(
        ModelError, match=r"jewelry_scratch_lines\.onnx.*models\.fit_candidates --target scratch_lines"
    ):
        Grader.load(models_dir=tmp_path, kinds=("jewelry",))
    SCRATCH_LINES.path(model).write_bytes(b"not an onnx file")
    with pytest.raises(ModelError, match="corrupt or not an ONNX model"):
        Grader.load(models_dir=tmp_path, kinds=("jewelry",))
    tiny_scorer(SCRATCH_LINES.path(model), ["length", "contrast"], np.ones(2))
    with pytest.raises(ModelError, match="trained on features length, contrast"):
        Grader.load(models_dir=tmp_path, kinds=("jewelry",))


def test_a_scorer_trained_for_another_model_is_flagged(tmp_path: Path) -> None:
    """The scorer reads one network's probabilities: beside another network the grader warns, and the
    calibration refuses to fit a rule on it, saying how to retrain it."""
    import subprocess
    import sys

    model = _copy_jewelry(tmp_path, {"threshold": 0.5})
    w = np.zeros(len(FEATURES))
    tiny_scorer(SCRATCH_LINES.path(model), list(FEATURES), w, segmentation_sha256="0" * 64)
    with pytest.warns(UserWarning, match="trained on the probabilities of model 000000000000"):
        Grader.load(models_dir=tmp_path, kinds=("jewelry",))
    run = subprocess.run(
        [sys.executable, "-m", "models.calibrate", "--models-dir", str(tmp_path), "--kind", "jewelry"],
        cwd=MODELS_DIR.parent,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode != 0
    assert "trained on another model's probabilities" in run.stderr
    assert "models.fit_candidates --target scratch_lines" in run.stderr


def test_a_calibration_without_lines_grades_without_a_scorer(tmp_path: Path) -> None:
    """A jewelry rule with no scratch lines loads and grades with no scorer file at all."""
    _copy_jewelry(tmp_path, None)
    grader = Grader.load(models_dir=tmp_path, kinds=("jewelry",))
    assert grader.models["jewelry"].scorers == {}
    scene = render_scene("jewelry", seed=5, defects=["scratch"], width=640, height=360)
    assert grader.grade(scene.image, "jewelry").grade in {s.grade for s in grader.scales["jewelry"].grades}


def test_the_threshold_decides_which_lines_are_scratches(tmp_path: Path) -> None:
    """The same piece graded under a scorer that accepts its stroke and one that accepts nothing:
    only the first reports a scratch, so the rule's threshold and the scorer really drive the grade."""
    for accept, expected in ((True, 1), (False, 0)):
        d = tmp_path / str(accept)
        d.mkdir()
        _copy_jewelry(d, {"threshold": 0.5})
        _scorer(d, accept)
        grader = Grader.load(models_dir=d, kinds=("jewelry",))
        loc = Located(_metal(True), np.zeros((4, 2), np.float32), np.eye(3), MM, True)
        model = grader.models["jewelry"]
        meas, *_ = grader._measure(
            _probs(), loc, model.info.classes, grader.scales["jewelry"], model.calibration, model.scorers
        )
        assert meas["scratch"].count == expected


def test_calibration_search_scores_line_rules_as_the_grader_measures_them(tmp_path: Path) -> None:
    """The calibration search adds the scored lines to the scratch pixels itself (cached per
    threshold pair); the grade it scores for a rule is the grade the grader gives under that rule."""
    from models.calibrate import Item, score

    grader = Grader.load(kinds=("jewelry",))
    model, scale = grader.models["jewelry"], grader.scales["jewelry"]
    scorer = CandidateScorer(_scorer(tmp_path), SCRATCH_LINES)
    items = []
    for crop in (_metal(True), _metal(False)):
        loc = Located(crop, np.zeros((4, 2), np.float32), np.eye(3), MM, True)
        probs = _probs()
        probs[0, 20:24, 20:60], probs[1, 20:24, 20:60] = 0.3, 0.7  # a 4 mm scratch the network marks
        lines = surface_lines(crop, probs, CLASSES, MM)
        items.append(
            Item(
                loc,
                np.zeros((256, 256), np.uint8),
                0,
                False,
                probs,
                candidates={"scratch_lines": (lines, scorer.scores(lines))},
            )
        )
    seen = set()
    for threshold, scratch_p, min_len in (
        (0.5, 0.5, 0.0),
        (0.5, 0.8, 0.0),
        (0.5, 0.8, 5.0),
        (0.5, 0.5, 8.0),
    ):
        rule = grader.models["jewelry"].calibration.model_copy(
            update={
                "thresholds": {"scratch": scratch_p},
                "min_length_mm": {"scratch": min_len},
                "scratch_lines": ScoredCandidates(threshold=threshold),
                "stone_seats": None,
                "loose_stones": None,
            }
        )
        expected = []
        for it in items:
            meas, *_ = grader._measure(
                it.probs, it.loc, model.info.classes, scale, rule, {"scratch_lines": scorer}
            )
            expected.append(grader._decide(meas, scale)[0])
        seen.add(tuple(expected))
        assert score(grader, "jewelry", items, rule)["grade_accuracy"] == sum(g == 0 for g in expected) / 2
    assert seen == {(1, 1), (1, 0), (0, 0)}  # B and B, B and A (the line alone), A and A
