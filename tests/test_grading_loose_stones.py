"""Loose stones judged whole: the regions the network marks as a loose stone, their measures, a rule
that keeps only the regions its scorer accepts, the calibration search scoring such rules as the
grader does, and the shipped scorer on rendered station frames."""

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
from inspector.grading.loose_stones import FEATURES, LOOSE_STONES, loose_stones
from models.station_renders import HARD_ROWS, render

MODELS_DIR = Path(__file__).resolve().parents[1] / "models"
CLASSES = ("background", "scratch", "dent", "missing_stone", "loose_stone", "tarnish")
MM = (0.1, 0.1)
LOOSE = CLASSES.index("loose_stone")
SAPPHIRE = np.array((170, 60, 25), np.float32)


def _piece() -> tuple[np.ndarray, np.ndarray]:
    """A gold plate on a grey mat with two sapphires of r = 2 mm, both marked as loose stones by a
    stand-in network: one shifted off its seat and tilted (the dark seat shows beside it), marked over
    the seat and the stone; one intact in its seat, marked on a darker facet only."""
    crop = np.full((256, 256, 3), (90, 90, 90), np.uint8)  # the mat
    cv2.rectangle(crop, (20, 60), (236, 196), (60, 160, 200), -1)  # gold
    loose = np.zeros((256, 256), np.uint8)
    cv2.circle(crop, (80, 128), 20, (15, 15, 18), -1)  # the empty seat
    cv2.circle(loose, (80, 128), 20, 1, -1)
    stone = np.zeros((256, 256), np.uint8)
    cv2.ellipse(stone, (88, 122), (20, 14), 30, 0, 360, 1, -1)  # off the seat, tilted
    crop[stone > 0] = SAPPHIRE * 0.8
    loose |= stone
    cv2.circle(crop, (180, 128), 20, (SAPPHIRE * 0.8).tolist(), -1)  # intact
    facet = np.zeros((256, 256), np.uint8)
    cv2.fillPoly(facet, [np.array([[180, 128], [200, 128], [194, 142]], np.int32)], 1)
    crop[facet > 0] = SAPPHIRE * 0.55
    probs = np.zeros((len(CLASSES), 256, 256), np.float32)
    probs[0] = 1.0
    for mask, p in ((loose, 0.95), (facet, 0.95)):
        on = mask > 0
        probs[0][on], probs[LOOSE][on] = 1 - p, p
    return crop, probs


def test_each_marked_region_is_a_candidate_with_what_tells_them_apart() -> None:
    """Both marked regions are candidates; the stone off its seat has the seat's dark gap in it, the
    blob on the intact stone's facet none, and is even in grey where the loose stone is not."""
    crop, probs = _piece()
    found = sorted(loose_stones(crop, probs, CLASSES, MM), key=lambda c: c.part.x)
    assert len(found) == 2
    shifted, blob = (dict(zip(FEATURES, c.features.tolist(), strict=True)) for c in found)
    assert shifted["gap_in"] > 0.1 > blob["gap_in"] == 0.0
    assert shifted["gap_not_mat"] > 0.05 > blob["gap_not_mat"]
    assert shifted["grey_in_spread"] > 2 * blob["grey_in_spread"]
    assert shifted["mat_like_in"] == blob["mat_like_in"] == 0.0


def _gap_scorer(path: Path) -> Path:
    """A stand-in scorer that accepts regions with a dark gap in them."""
    w = np.zeros(len(FEATURES))
    w[FEATURES.index("gap_in")] = 20.0
    return tiny_scorer(path, list(FEATURES), w, -4.0)  # a fifth of the region dark -> P 0.5


def _jewelry_with_loose_rule(tmp_path: Path, threshold: float) -> Grader:
    model = tmp_path / "jewelry_defects.onnx"
    shutil.copy(MODELS_DIR / "jewelry_defects.onnx", model)
    cal = json.loads(calibration_path(MODELS_DIR / "jewelry_defects.onnx").read_text())
    cal.update(loose_stones={"threshold": threshold}, scratch_lines=None, stone_seats=None)
    calibration_path(model).write_text(json.dumps(cal))
    _gap_scorer(LOOSE_STONES.path(model))
    return Grader.load(models_dir=tmp_path, kinds=("jewelry",))


def test_only_the_regions_the_scorer_accepts_stay_loose_stones(tmp_path: Path) -> None:
    """Under a loose-stone rule the network's loose-stone pixels count only inside an accepted region:
    the stone off its seat stays (the piece is Fair), the blob on the intact stone's facet goes; a
    threshold no region reaches leaves no loose stone at all."""
    crop, probs = _piece()
    loc = Located(crop, np.zeros((4, 2), np.float32), np.eye(3), MM, True)
    for threshold, count in ((0.5, 1), (0.99, 0)):
        d = tmp_path / str(threshold)
        d.mkdir()
        grader = _jewelry_with_loose_rule(d, threshold)
        model, scale = grader.models["jewelry"], grader.scales["jewelry"]
        meas, defects, _, labels = grader._measure(
            probs, loc, model.info.classes, scale, model.calibration, model.scorers
        )
        assert meas["loose_stone"].count == count
        assert not (labels[128:143, 180:201] == LOOSE).any()  # the facet
        if count:
            assert [d.cls for d in defects] == ["loose_stone"]
            assert grader._decide(meas, scale)[0] == len(scale.grades) - 1


def test_calibration_search_scores_loose_rules_as_the_grader_measures_them(tmp_path: Path) -> None:
    """The calibration search keeps the accepted regions per threshold itself; the grade it scores for
    a rule is the grade the grader gives under that rule."""
    from models.calibrate import Item, score

    grader = _jewelry_with_loose_rule(tmp_path, 0.5)
    model, scale = grader.models["jewelry"], grader.scales["jewelry"]
    scorer = CandidateScorer(LOOSE_STONES.path(tmp_path / "jewelry_defects.onnx"), LOOSE_STONES)
    crop, probs = _piece()
    loc = Located(crop, np.zeros((4, 2), np.float32), np.eye(3), MM, True)
    regions = loose_stones(crop, probs, CLASSES, MM)
    item = Item(loc, np.zeros((256, 256), np.uint8), 0, False, probs)
    item.candidates["loose_stones"] = (regions, scorer.scores(regions))
    graded = set()
    for threshold in (0.5, 0.99):
        rule = model.calibration.model_copy(update={"loose_stones": ScoredCandidates(threshold=threshold)})
        meas, *_ = grader._measure(probs, loc, model.info.classes, scale, rule, {"loose_stones": scorer})
        expected = grader._decide(meas, scale)[0]
        graded.add(expected)
        assert score(grader, "jewelry", [item], rule)["grade_accuracy"] == float(expected == 0)
    assert graded == {0, len(scale.grades) - 1}  # Excellent without the loose stone, Fair with it


@pytest.fixture(scope="module")
def grader() -> Grader:
    return Grader.load(kinds=("jewelry",), threads=1)


# Clean station renders (seeds outside the evaluation's 50,000..) of a ring with a sapphire whose dark
# facets the network marks as a loose stone; under the network's own rule they were graded Fair.
CLEAN_DARK_STONES = (70038, 70128)


@pytest.mark.parametrize("seed", CLEAN_DARK_STONES)
def test_a_clean_ring_with_a_dark_stone_is_not_fair(grader: Grader, seed: int) -> None:
    """The network marks a loose stone on an intact sapphire's dark facets, which its own rule grades
    Fair; the loose-stone scorer rejects the mark and the clean ring is not graded D."""
    scene, _ = render(HARD_ROWS[-1], seed)
    assert scene.spec.item["stone"] == "sapphire" and not scene.spec.defects
    res = grader.grade(scene.image, "jewelry")
    model, scale = grader.models["jewelry"], grader.scales["jewelry"]
    assert res.located is not None
    probs = model.predict(res.located.crop)
    network_rule = model.calibration.model_copy(update={"loose_stones": None})
    before, *_ = grader._measure(probs, res.located, model.info.classes, scale, network_rule, model.scorers)
    assert before["loose_stone"].count >= 1
    assert res.measurements["loose_stone"].count == 0
    assert res.grade != "D"
