"""Calibration files: the per-model decision rule (thresholds, minimum sizes, ignored border) is data,
validated when the model loads, and actually changes what the grader reports."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest
from damage_model_files import with_damage_model

from inspector.grading import Grader, ModelError
from inspector.grading.calibration import Calibration, calibration_path
from inspector.grading.grader import calibrated_labels, measure_labels

if TYPE_CHECKING:
    from models.calibrate import Item

MODELS_DIR = Path(__file__).resolve().parents[1] / "models"
CLASSES = ("background", "crack", "scratch", "chip")


def _copy_phone_model(tmp_path: Path) -> Path:
    shutil.copy(MODELS_DIR / "phone_defects.onnx", tmp_path / "phone_defects.onnx")
    with_damage_model(tmp_path)
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


def _calibration(kind: str = "phone", **fields: object) -> str:
    """A calibration file's text: the schema line, the kind and ``fields``."""
    return json.dumps({"schema": "inspector.grading-calibration/1", "kind": kind, **fields})


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not readable JSON"),
        (_calibration(thresholds={"crack": 1.5}), "thresholds.crack"),
        (_calibration(thresholds={"rust": 0.7}), "unknown class(es) rust"),
        (_calibration("jewelry"), "expected 'phone'"),
        (_calibration(border_margin_mm=-1), "border_margin_mm"),
        (_calibration(weak_classes={"chip": 0.8}), "weak_classes.chip"),
        (_calibration(weak_classes={"dent": 0.0}), "unknown class(es) dent"),
        (_calibration(scratch_lines={"threshold": 0}), "scratch_lines.threshold"),
        (_calibration(scratch_lines={"threshold": 0.5, "rule": "x"}), "scratch_lines.rule"),
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


def test_weak_classes_are_said_with_every_grade(tmp_path: Path) -> None:
    """A class the calibration found the model rarely finds is named in the reasons of every grade,
    a clean one included, so "no defects found" does not read as "checked for chips"; a model without
    weak classes adds nothing."""
    from models.synth.scene import render_scene

    model = _copy_phone_model(tmp_path)
    frame = render_scene("phone", seed=7, defects=[], side="screen", width=960, height=540).image
    calibration_path(model).write_text(_calibration(weak_classes={}))
    plain = Grader.load(models_dir=tmp_path, kinds=("phone",)).grade(frame, "phone")
    assert plain.caveats == []
    assert not any("not reliably detected" in r for r in plain.reasons)

    calibration_path(model).write_text(_calibration(weak_classes={"chip": 0.04}))
    res = Grader.load(models_dir=tmp_path, kinds=("phone",)).grade(frame, "phone")
    caveat = "not reliably detected by this model (share found in tests): chips/dents 4 %"
    assert res.caveats == [caveat]
    assert res.reasons[-1] == caveat and res.reasons[0] == plain.reasons[0]
    assert res.to_dict()["caveats"] == [caveat]


def test_classes_the_rule_misses_become_weak_classes() -> None:
    """The calibration measures, per class, how often its rule finds a defect where it is on items
    that have one: a class found on no item is weak (named with every grade), one found on every item
    is not, and a class no item has is not judged at all."""
    from inspector.grading.locate import locate
    from models.calibrate import Item, found_rates, weak_classes
    from models.synth.scene import render_scene

    grader = Grader.load(kinds=("phone",))
    grader.models["phone"].calibration = Calibration(kind="phone")  # the plain rule, P >= 0.5
    items = []
    for seed in (3, 4):
        loc = locate(render_scene("phone", seed=seed, width=640, height=360).image, "phone")
        gt = np.zeros(loc.crop.shape[:2], np.uint8)
        gt[100:160, 59:62] = 1  # a 27 mm crack
        gt[200:203, 40:70] = 2  # a 13 mm scratch
        probs = np.zeros((4, *gt.shape), np.float32)
        probs[0] = 1.0
        probs[:, 100:160, 59:62] = np.array([0.05, 0.95, 0.0, 0.0])[:, None, None]  # the crack is seen
        items.append(Item(loc, gt, 2, True, probs))
    found = found_rates(grader, "phone", items, grader.models["phone"].calibration)
    assert found == {"crack": 1.0, "scratch": 0.0}
    assert weak_classes(found) == {"scratch": 0.0}


def _jewelry_items_with_two_false_marks() -> list[Item]:
    """Clean pieces on which a dent and a tarnish patch are both marked at P 0.6, and dented pieces
    whose dent is marked at P 0.9: either false mark alone keeps a clean piece off Excellent."""
    from inspector.grading.locate import locate
    from models.calibrate import Item
    from models.synth.scene import render_scene

    scene = render_scene("jewelry", seed=8, defects=[], width=1280, height=720)
    loc = locate(scene.image, "jewelry")
    h, w = loc.crop.shape[:2]
    items = []
    for i in range(6):
        probs = np.zeros((6, h, w), np.float32)
        probs[0] = 1.0
        dented = i % 2 == 1
        p = 0.9 if dented else 0.6
        probs[:, 100:108, 100:108] = np.array([1 - p, 0, p, 0, 0, 0], np.float32)[:, None, None]
        if not dented:
            probs[:, 150:170, 60:80] = np.array([0.4, 0, 0, 0, 0, 0.6], np.float32)[:, None, None]
        gt = np.zeros((h, w), np.uint8)
        if dented:
            gt[100:108, 100:108] = 2
        items.append(
            Item(loc, gt, 2 if dented else 0, False, probs, gt_present=frozenset({"dent"} if dented else ()))
        )
    return items


def test_calibration_cleans_up_a_class_even_when_no_grade_changes_yet(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """When two classes both mark clean pieces falsely, raising either threshold alone changes no grade;
    the search still takes that step (fewer false marks per class) and then the next one, so clean
    pieces end Excellent and dented ones keep their dent. Scored on grade accuracy alone, it stalls."""
    from models import calibrate

    grader = Grader.load(kinds=("jewelry",))
    items = _jewelry_items_with_two_false_marks()
    cal, figures = calibrate.fit(grader, "jewelry", items)
    assert figures["calibrated"]["grade_accuracy"] == 1.0
    assert cal.threshold("dent") > 0.6
    monkeypatch.setattr(calibrate, "AGREEMENT_WEIGHT", 0.0)
    _, stalled = calibrate.fit(grader, "jewelry", _jewelry_items_with_two_false_marks())
    assert stalled["calibrated"]["grade_accuracy"] == 0.5


def test_a_search_of_some_knobs_keeps_the_rest_of_the_rule_it_starts_from() -> None:
    """Proves: `models.calibrate --only` searches just the named knobs from the fitted rule it starts
    from and keeps the rest as it was: with only the border band searched, the dent threshold that a
    whole fit raises on the same pieces stays where the starting rule had it."""
    from models import calibrate

    grader = Grader.load(kinds=("jewelry",))
    start = calibrate.plain_rule("jewelry", grader.models["jewelry"].info.classes)
    kept, _ = calibrate.fit(
        grader, "jewelry", _jewelry_items_with_two_false_marks(), start=start, only=("border_margin_mm",)
    )
    assert kept.thresholds == start.thresholds and kept.min_length_mm == start.min_length_mm
    whole, _ = calibrate.fit(grader, "jewelry", _jewelry_items_with_two_false_marks(), start=start)
    assert whole.threshold("dent") > kept.threshold("dent")


def _jewelry_items_with_an_unsure_loose_stone() -> list[Item]:
    """Two pieces with a loose stone and three clean ones, all marked loose at P 0.6: one rule cannot
    keep the loose stones without marking the clean pieces too."""
    from inspector.grading.locate import locate
    from models.calibrate import Item
    from models.synth.scene import render_scene

    scene = render_scene("jewelry", seed=8, defects=[], width=1280, height=720)
    loc = locate(scene.image, "jewelry")
    h, w = loc.crop.shape[:2]
    items = []
    for i in range(5):
        loose = i < 2
        probs = np.zeros((6, h, w), np.float32)
        probs[0] = 1.0
        probs[:, 100:112, 100:112] = np.array([0.4, 0, 0, 0, 0.6, 0], np.float32)[:, None, None]
        gt = np.zeros((h, w), np.uint8)
        if loose:
            gt[100:112, 100:112] = 4
        items.append(
            Item(
                loc,
                gt,
                3 if loose else 0,
                False,
                probs,
                gt_present=frozenset({"loose_stone"} if loose else ()),
            )
        )
    return items


def test_calibration_pays_for_each_fair_piece_it_would_certify_excellent() -> None:
    """Proves: when keeping two loose stones costs three clean pieces their Excellent, grade accuracy
    alone picks the rule that certifies both loose-stone pieces Excellent (3 of 5 right). With the
    default cost of a Fair piece graded Excellent, the fit keeps the stones and grades the clean
    pieces down instead, and the figures say how many Fair pieces each rule grades Excellent."""
    from models import calibrate

    grader = Grader.load(kinds=("jewelry",))
    _, blind = calibrate.fit(grader, "jewelry", _jewelry_items_with_an_unsure_loose_stone(), 3, 0.0, 0.0)
    assert blind["calibrated"]["grade_accuracy"] == 0.6
    assert blind["calibrated"]["lowest_graded_best"] == 1.0
    _, costed = calibrate.fit(grader, "jewelry", _jewelry_items_with_an_unsure_loose_stone(), 3, 0.0)
    assert costed["calibrated"]["lowest_graded_best"] == 0.0
    assert costed["calibrated"]["lowest_grade_recall"] == 1.0
    assert costed["calibrated"]["grade_accuracy"] == 0.4


def test_calibrate_cli_refuses_a_negative_cost() -> None:
    """Proves: `--best-cost -1` (which would reward certifying a Fair piece Excellent) is a usage error."""
    import subprocess
    import sys

    r = subprocess.run(
        [sys.executable, "-m", "models.calibrate", "--kind", "jewelry", "--best-cost", "-1"],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 2 and "--best-cost must be 0 or more" in r.stderr


def test_calibrate_cli_refuses_a_floor_that_is_not_a_share() -> None:
    """Proves: `python -m models.calibrate --lowest-floor 85` (a percentage typed for a share) is a
    usage error before a minute of validation rendering, not a rule fitted to an impossible floor."""
    import subprocess
    import sys

    r = subprocess.run(
        [sys.executable, "-m", "models.calibrate", "--kind", "jewelry", "--lowest-floor", "85"],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 2 and "--lowest-floor must be a share between 0 and 1, not 85.0" in r.stderr


def test_calibration_counts_no_mark_on_a_catalogued_backs_lenses_as_the_grader_does() -> None:
    """Proves: the rule is fitted on what the grader will count. A line marked across a catalogued
    back's camera lens is not a crack to the grader (known features are masked), and the calibration
    search scores that phone A too; without the mask it would score the same phone D, so the fit
    would pay for marks the grader never reports."""
    from inspector.grading.known_features import catalogue
    from models.calibrate import Item, score
    from models.synth.scene import render_scene

    grader = Grader.load(kinds=("phone",))
    model, scale = grader.models["phone"], grader.scales["phone"]
    phone_model = sorted(catalogue())[0]
    scene = render_scene(
        "phone", seed=11, defects=[], side="back", phone_model=phone_model, width=1280, height=720
    )
    loc = grader.locate(scene.image, "phone", phone_model=phone_model)
    known = grader.known_features(loc, "back", phone_model)
    assert known is not None and known.any()
    ys, xs = np.nonzero(known)
    row = int(np.median(ys))
    on_row = xs[ys == row]
    probs = np.zeros((len(model.info.classes), *loc.crop.shape[:2]), np.float32)
    probs[0] = 1.0
    crack = model.info.classes.index("crack")
    probs[0, row, on_row.min() : on_row.max() + 1] = 0.0
    probs[crack, row, on_row.min() : on_row.max() + 1] = 1.0  # a line across the lens, inside it
    rule = Calibration(kind="phone")
    masked = Item(loc, np.zeros(loc.crop.shape[:2], np.uint8), 0, False, probs, known=known)
    bare = Item(loc, np.zeros(loc.crop.shape[:2], np.uint8), 0, False, probs)
    graded, _, _, _ = grader._measure(probs, loc, model.info.classes, scale, rule, None, known)
    assert grader._decide(graded, scale)[0] == 0
    assert score(grader, "phone", [masked], rule)["grade_accuracy"] == 1.0
    assert score(grader, "phone", [bare], rule)["grade_accuracy"] == 0.0
