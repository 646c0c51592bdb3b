"""The model-building tools that run without torch: training windows, the evaluation's rules and report."""

from __future__ import annotations

import numpy as np
import pytest

from inspector.grading import Grader
from models.evaluate import eval_synthetic, found_where_labelled, lowest_graded_best_had, markdown
from models.synth.scene import JEWELRY_CLASSES
from models.train import class_weights, sample_windows


def test_training_windows_mostly_show_the_defect() -> None:
    """A thin defect on a large item still lands in most training windows, so training steps are
    not spent on empty background; items without defects still give uniform windows."""
    rng = np.random.default_rng(0)
    n = 64
    x = np.zeros((n, 320, 160, 3), np.uint8)
    y = np.zeros((n, 320, 160), np.uint8)
    y[: n // 2, 300, 20:30] = 1  # a short scratch near the bottom of half the items
    xs, ys = sample_windows(x, y, rng, on_defect_p=0.8, crop=96)
    assert xs.shape == (n, 96, 96, 3) and ys.shape == (n, 96, 96)
    assert xs.dtype == np.float32 and float(xs.max()) <= 1.0
    with_defect = ys[: n // 2].reshape(n // 2, -1).any(axis=1).mean()
    assert with_defect >= 0.6  # uniform windows would show it about 1 time in 8
    assert not ys[n // 2 :].any()


def test_crack_counts_as_found_only_where_it_is() -> None:
    """A false alarm elsewhere on a cracked phone does not count as finding the crack."""
    gt = np.zeros((100, 50), np.uint8)
    gt[10:60, 20] = 1
    on_it = np.zeros_like(gt)
    on_it[12:40, 21] = 1  # one pixel beside the true crack: found
    elsewhere = np.zeros_like(gt)
    elsewhere[80:95, 5] = 1
    assert found_where_labelled(on_it, gt, 1)
    assert not found_where_labelled(elsewhere, gt, 1)
    assert not found_where_labelled(np.zeros_like(gt), gt, 1)


def test_defect_windows_visit_rare_classes_as_often_as_common_ones() -> None:
    """On an item with a long crack and one small chip, defect-centred windows land on the chip about
    as often as on the crack (drawing a defect pixel at random would almost never pick the chip)."""
    rng = np.random.default_rng(1)
    n = 400
    x = np.zeros((n, 320, 160, 3), np.uint8)
    y = np.zeros((n, 320, 160), np.uint8)
    y[:, 10:300, 80] = 1  # crack: 290 pixels down the middle
    y[:, 200:203, 0:3] = 3  # chip: 9 pixels on the left edge, 77 px from the crack
    _, ys = sample_windows(x, y, rng, on_defect_p=1.0, crop=64)
    with_chip = (ys == 3).reshape(n, -1).any(axis=1).mean()
    assert 0.35 <= with_chip <= 0.65


def test_rare_classes_get_larger_loss_weights() -> None:
    """A class with fewer pixels than the commonest defect weighs more, within ``rare_boost`` x the cap;
    without the boost every class shares one cap (the old rule)."""
    y = np.zeros((1, 200, 200), np.uint8)
    y[0, :100, :8] = 1  # 800 crack pixels
    y[0, :100, 10] = 2  # 100 scratch pixels
    y[0, 0, 20:30] = 3  # 10 chip pixels
    flat = class_weights(y, 3, max_weight=4.0)
    assert flat.tolist() == [1.0, 4.0, 4.0, 4.0]
    boosted = class_weights(y, 3, max_weight=4.0, rare_boost=3.0)
    assert boosted[0] == 1.0 and boosted[1] == 4.0
    assert 4.0 < boosted[2] < boosted[3] <= 12.0


def test_training_crops_are_framed_with_the_margin_the_model_will_declare(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With ``--phone-margin-px`` the training crop is the body plus that much mat, exactly as
    ``locate`` frames it for a model declaring that margin, and its labels line up with the crop."""
    from inspector.grading.locate import phone_input
    from models import train

    monkeypatch.setitem(train.MARGIN_PX, "phone", 8)
    x, y, _, _ = train.make_sample("phone", 2)
    assert x.shape[1::-1] == phone_input(8) and y.shape == x.shape[:2]
    monkeypatch.setitem(train.MARGIN_PX, "phone", 0)
    x0, _, _, _ = train.make_sample("phone", 2)
    assert x0.shape[1::-1] == phone_input(0)
    # same scene, same body: the margin crop holds the plain crop in its middle
    assert np.abs(x[8:-8, 8:-8, :].astype(int)[4:-4, 4:-4] - x0.astype(int)[4:-4, 4:-4]).mean() < 3


def test_a_scene_mix_photographs_phones_as_the_station_and_hand_held_photos_do() -> None:
    """Proves: a recipe's scene mix draws screens with the display off, screen content on a cluttered
    desk and catalogued backs in the shares it names (here all), so the phone network trains on what
    the station photographs; with no mix the scenes are the plain renders exactly, so recipes and
    caches without one keep their pixels."""
    from inspector.grading.known_features import catalogue
    from models import train
    from models.synth.scene_mix import SceneMix

    assert SceneMix().draw(5, "screen") == {}
    every = SceneMix(screen_off=1.0, harder=1.0, catalogued=1.0)
    screen, back = every.draw(5, "screen"), every.draw(6, "back")
    assert screen["screen_on"] is False and screen["harder"] is True and screen["phone_model"] is None
    assert back["screen_on"] is True and back["phone_model"] in catalogue()
    plain = train.make_sample("phone", 3)
    again = train.make_sample("phone", 3, SceneMix())
    assert all(np.array_equal(a, b) for a, b in zip(plain, again, strict=True))
    mixed = train.make_sample("phone", 3, every)
    assert mixed[0].shape == plain[0].shape and not np.array_equal(mixed[0], plain[0])
    with pytest.raises(ValueError, match=r"0\.\.1"):
        SceneMix.parse({"screen_off": 1.5})


def test_evaluation_says_which_defects_clean_items_were_marked_with() -> None:
    """Proves: the evaluation report breaks the clean items that lost their grade down by the class
    marked on them (the figure that showed v11's intact stones marked loose), in the JSON and the
    printed summary, for the shipped jewelry model."""
    grader = Grader.load(kinds=("jewelry",))
    r = eval_synthetic(grader, "jewelry", 8)
    marked = r["clean_items_marked"]
    assert set(marked) == set(JEWELRY_CLASSES)
    assert r["clean_graded_a_rate"] is not None  # the first 8 held-out pieces include clean ones
    assert all(v is not None and 0.0 <= v <= 1.0 for v in marked.values())
    assert set(r) >= {"lowest_graded_lowest", "lowest_graded_best"}  # the promotion gate reads them
    assert "clean items graded A " in markdown({"jewelry": r}) and "(marked: scratch " in markdown(
        {"jewelry": r}
    )


def test_evaluation_says_what_the_fair_pieces_graded_excellent_had() -> None:
    """Proves: of the Fair pieces graded Excellent, the report counts each class they had (a piece with
    a loose stone and tarnish counts for both); Fair pieces graded Fair and clean pieces graded
    Excellent do not count, and the summary line names the classes."""
    graded = [
        ("D", "A", {"loose_stone", "tarnish"}),
        ("D", "A", {"loose_stone"}),
        ("D", "D", {"missing_stone"}),
        ("A", "A", set()),
        ("D", "B", {"missing_stone"}),
    ]
    had = lowest_graded_best_had(graded, "D", "A")
    assert had == {"loose_stone": 2, "tarnish": 1}
    grader = Grader.load(kinds=("jewelry",))
    r = eval_synthetic(grader, "jewelry", 4)
    assert isinstance(r["lowest_graded_best_had"], dict)
    r["lowest_graded_best_had"] = had
    assert "graded best " in markdown({"jewelry": r}) and "(they had: loose_stone 2, tarnish 1)" in markdown(
        {"jewelry": r}
    )


def test_one_thread_measures_what_two_threads_measure() -> None:
    """Proves: `--threads 1` (how `make models` runs two evaluations side by side) changes how fast
    the evaluation runs, not a figure it reports: 8 held-out jewelry pieces give the same report."""
    one = eval_synthetic(Grader.load(kinds=("jewelry",), threads=1), "jewelry", 8)
    two = eval_synthetic(Grader.load(kinds=("jewelry",), threads=2), "jewelry", 8)
    assert one.keys() == two.keys()
    for key in ("grade_accuracy", "confusion_true_to_pred", "clean_items_marked", "item_recall_located"):
        assert one[key] == two[key]


@pytest.mark.parametrize("tool", ["models.evaluate", "models.calibrate"])
def test_batch_tools_refuse_zero_threads(tool: str) -> None:
    """Proves: `--threads 0` is a usage error that says what is wrong, before any rendering."""
    import subprocess
    import sys

    r = subprocess.run([sys.executable, "-m", tool, "--threads", "0"], capture_output=True, text=True)
    assert r.returncode == 2 and "--threads must be 1 or more, not 0" in r.stderr


def test_the_phone_networks_real_negatives_are_the_train_part_of_the_split() -> None:
    """Proves: the real photos the phone network trains on, and that its rule is fitted on as clean
    phones, are the fixed split's train part, intact phones and oil/stain crops only: no validation
    or test photo (the test figures stay unseen) and no damaged phone."""
    from models.real_split import Label, Split, read_csv
    from models.train import real_negative_photos

    photos = real_negative_photos()
    wanted = {p.file for p in read_csv() if p.split is Split.TRAIN and p.label is not Label.DAMAGED}
    assert photos and {p.file for p in photos} == wanted
    assert {p.folder for p in photos} >= {"phones-collected", "screen-surface"}  # hand-held photos too
