"""Missing stones judged whole: the seats the network marks, their measures, a rule that keeps only
the seats its scorer accepts, and the calibration search scoring such rules as the grader does."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest
from onnx_stub import tiny_scorer

from inspector.grading import Grader
from inspector.grading.calibration import ScoredCandidates, calibration_path
from inspector.grading.candidates import CandidateScorer
from inspector.grading.locate import Located
from inspector.grading.stone_seats import FEATURES, STONE_SEATS, stone_seats

MODELS_DIR = Path(__file__).resolve().parents[1] / "models"
CLASSES = ("background", "scratch", "dent", "missing_stone", "loose_stone", "tarnish")
MM = (0.1, 0.1)
MISSING = CLASSES.index("missing_stone")


def _piece() -> tuple[np.ndarray, np.ndarray]:
    """A metal plate with an empty seat (a dark disc, r = 2 mm) and a dark sliver on a green stone,
    both marked as missing stones by a stand-in network."""
    crop = np.full((256, 256, 3), (60, 160, 200), np.uint8)  # gold-ish metal
    cv2.circle(crop, (80, 128), 20, (20, 20, 22), -1)
    cv2.circle(crop, (180, 128), 25, (40, 140, 30), -1)  # an emerald
    probs = np.zeros((len(CLASSES), 256, 256), np.float32)
    probs[0] = 1.0
    seat = np.zeros((256, 256), np.uint8)
    cv2.circle(seat, (80, 128), 20, 1, -1)
    sliver = np.zeros((256, 256), np.uint8)
    cv2.ellipse(sliver, (180, 140), (14, 4), 0, 0, 360, 1, -1)
    for mask, p in ((seat, 0.95), (sliver, 0.7)):
        on = mask > 0
        probs[0][on], probs[MISSING][on] = 1 - p, p
    return crop, probs


def test_each_marked_seat_is_a_candidate_with_what_tells_them_apart() -> None:
    """Both marked regions are candidates; the empty seat measures round, dark against the metal
    around it and unsaturated inside, the sliver on the stone long, thin and green."""
    crop, probs = _piece()
    found = sorted(stone_seats(crop, probs, CLASSES, MM), key=lambda c: c.part.x)
    assert len(found) == 2
    seat, sliver = (dict(zip(FEATURES, c.features.tolist(), strict=True)) for c in found)
    assert seat["circularity"] > 0.8 > sliver["circularity"]
    assert seat["disc_fill"] > 0.8 > 0.5 > sliver["disc_fill"]
    assert seat["darker_than_around"] > 0.3
    assert sliver["saturation_in"] > 0.5 > 0.2 > seat["saturation_in"]
    assert np.exp(seat["log_area_mm2"]) == pytest.approx(np.pi * 2.0**2, rel=0.1)


def _seat_scorer(path: Path) -> Path:
    """A stand-in scorer that accepts round regions only."""
    w = np.zeros(len(FEATURES))
    w[FEATURES.index("circularity")] = 40.0
    return tiny_scorer(path, list(FEATURES), w, -32.0)  # circularity 0.8 -> P 0.5


def _jewelry_with_seats(tmp_path: Path, threshold: float) -> Grader:
    model = tmp_path / "jewelry_defects.onnx"
    shutil.copy(MODELS_DIR / "jewelry_defects.onnx", model)
    cal = json.loads(calibration_path(MODELS_DIR / "jewelry_defects.onnx").read_text())
    cal["stone_seats"] = {"threshold": threshold}
    cal["scratch_lines"] = cal["loose_stones"] = None
    calibration_path(model).write_text(json.dumps(cal))
    _seat_scorer(STONE_SEATS.path(model))
    return Grader.load(models_dir=tmp_path, kinds=("jewelry",))


def test_only_the_seats_the_scorer_accepts_stay_missing_stones(tmp_path: Path) -> None:
    """Under a seat rule the network's missing-stone pixels count only inside an accepted seat: the
    round empty seat stays (the piece is Fair), the sliver on the stone goes; a threshold no seat
    reaches leaves no missing stone at all."""
    crop, probs = _piece()
    loc = Located(crop, np.zeros((4, 2), np.float32), np.eye(3), MM, True)
    for threshold, count in ((0.5, 1), (0.9999, 0)):
        d = tmp_path / str(threshold)
        d.mkdir()
        grader = _jewelry_with_seats(d, threshold)
        model, scale = grader.models["jewelry"], grader.scales["jewelry"]
        meas, defects, _, labels = grader._measure(
            probs, loc, model.info.classes, scale, model.calibration, model.scorers
        )
        assert meas["missing_stone"].count == count
        assert not (labels[128:150, 166:195] == MISSING).any()  # the sliver
        if count:
            assert [d.cls for d in defects] == ["missing_stone"]
            assert grader._decide(meas, scale)[0] == len(scale.grades) - 1


def test_calibration_search_scores_seat_rules_as_the_grader_measures_them(tmp_path: Path) -> None:
    """The calibration search keeps the accepted seats per threshold itself; the grade it scores for a
    rule is the grade the grader gives under that rule."""
    from models.calibrate import Item, score

    grader = _jewelry_with_seats(tmp_path, 0.5)
    model, scale = grader.models["jewelry"], grader.scales["jewelry"]
    scorer = CandidateScorer(STONE_SEATS.path(tmp_path / "jewelry_defects.onnx"), STONE_SEATS)
    crop, probs = _piece()
    loc = Located(crop, np.zeros((4, 2), np.float32), np.eye(3), MM, True)
    seats = stone_seats(crop, probs, CLASSES, MM)
    item = Item(loc, np.zeros((256, 256), np.uint8), 0, False, probs)
    item.candidates["stone_seats"] = (seats, scorer.scores(seats))
    graded = set()
    for threshold in (0.5, 0.9999):
        rule = model.calibration.model_copy(update={"stone_seats": ScoredCandidates(threshold=threshold)})
        meas, *_ = grader._measure(probs, loc, model.info.classes, scale, rule, {"stone_seats": scorer})
        expected = grader._decide(meas, scale)[0]
        graded.add(expected)
        assert score(grader, "jewelry", [item], rule)["grade_accuracy"] == float(expected == 0)
    assert graded == {0, len(scale.grades) - 1}  # Excellent without the seat, Fair with it
