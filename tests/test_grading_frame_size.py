"""The station's top camera is 3840 x 2160; the models were trained at the 1280 x 720 scale. The same
scene must grade the same at either size: the item is brought to the models' scale (area-averaged)
before anything looks at it, so a 4K frame gives the pixels a 1280 x 720 camera would.

"The same scene at 1280 x 720" is the 4K render area-averaged 3x: what a camera of a third of the
resolution sees (the renderer draws a different scene for another frame size and seed)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from inspector.grading import Grader
from inspector.grading.grader import Defect
from inspector.grading.item_damage import VIEW_HALVE_FROM, item_view
from inspector.grading.locate import rectify_phone
from inspector.grading.resample import area_shrink
from models.synth.scene import render_scene


@pytest.fixture(scope="module")
def grader() -> Grader:
    return Grader.load(kinds=("phone",))


def _at_720p(image: np.ndarray) -> np.ndarray:
    return np.asarray(cv2.resize(image, (1280, 720), interpolation=cv2.INTER_AREA))


def _outlined_on(defects: list[Defect], mask: np.ndarray) -> float:
    """Share of the outlined crack pixels that lie on the (dilated) true crack."""
    drawn = np.zeros(mask.shape, np.uint8)
    cv2.fillPoly(drawn, [d.contour_frame for d in defects], 1)
    truth = np.asarray(cv2.dilate(mask.astype(np.uint8), np.ones((9, 9), np.uint8)), np.uint8)
    return float((drawn & truth).sum()) / max(1, int(drawn.sum()))


@pytest.mark.parametrize("seed", [501, 505])
def test_a_rendered_crack_is_found_at_4k_as_at_720p(grader: Grader, seed: int) -> None:
    """A cracked screen photographed at 3840 x 2160 and at 1280 x 720: graded D both times, the item
    model's probability about the same, and the crack outlined where it is in each frame."""
    scene = render_scene(
        "phone", seed=seed, defects=["crack"], angle_deg=37.0 * seed % 360, width=3840, height=2160
    )
    big = grader.grade(scene.image, "phone", "screen")
    small = grader.grade(_at_720p(scene.image), "phone", "screen")
    assert big.grade == small.grade == "D"
    assert big.damage is not None and small.damage is not None
    assert abs(big.damage.probability - small.damage.probability) < 0.05
    small_mask = cv2.resize(scene.masks["crack"], (1280, 720), interpolation=cv2.INTER_AREA) > 0
    for res, mask in ((big, scene.masks["crack"] > 0), (small, small_mask)):
        cracks = [d for d in res.defects if d.cls == "crack"]
        assert cracks and _outlined_on(cracks, mask) >= 0.3
    # millimetres come from the phone's body, not from the pixels: the same crack measures the same
    big_mm, small_mm = big.measurements["crack"].total_length_mm, small.measurements["crack"].total_length_mm
    assert big_mm == pytest.approx(small_mm, rel=0.35)


@pytest.mark.parametrize(("seed", "side"), [(500, "screen"), (502, "back")])
def test_a_clean_phone_grades_the_same_at_4k_and_720p(grader: Grader, seed: int, side: str) -> None:
    """A clean phone (screen, or back with its lenses and logo) is not flagged at either frame size."""
    scene = render_scene("phone", seed=seed, side=side, angle_deg=37.0 * seed % 360, width=3840, height=2160)
    big = grader.grade(scene.image, "phone", side)
    small = grader.grade(_at_720p(scene.image), "phone", side)
    assert big.grade == small.grade != "D"
    assert big.damage is not None and small.damage is not None
    assert not big.damage.flagged and not small.damage.flagged


def test_item_view_is_the_same_at_any_frame_size() -> None:
    """The head's view of an item is rectified straight to its own size: a 4K frame and the same frame
    at 1280 x 720 give views of the same size and nearly the same pixels (a phone at the station is
    about 670 px long at 1280 x 720, more than the view keeps); a small item is not enlarged."""
    rng = np.random.default_rng(3)
    big = cv2.resize(rng.integers(0, 255, (216, 384, 3), dtype=np.uint8), (3840, 2160))
    quad = np.array([[1500, 100], [2450, 100], [2450, 2060], [1500, 2060]], np.float32)  # 147 mm long
    v_big = item_view(big, quad, 672)
    v_small = item_view(_at_720p(big), quad / 3, 672)
    assert v_big.shape == v_small.shape and max(v_big.shape[:2]) == 672
    assert np.abs(v_big.astype(int) - v_small.astype(int)).mean() < 4
    tiny = np.array([[10, 10], [110, 10], [110, 210], [10, 210]], np.float32)
    assert item_view(big, tiny, 672).shape[:2] == (224, 112)  # 200 x 100 plus 6 % each side


def test_area_shrink_gives_block_means() -> None:
    """Shrinking by halves first (OpenCV's fast path) still gives each output pixel the mean of its
    block, and says the scale it shrank by."""
    rng = np.random.default_rng(0)
    img = rng.integers(0, 255, (2160, 3840, 3), dtype=np.uint8)
    small, scale = area_shrink(img, (320, 180))
    means = img.reshape(180, 12, 320, 12, 3).mean(axis=(1, 3))
    assert small.shape == (180, 320, 3) and scale == pytest.approx((1 / 12, 1 / 12))
    assert np.abs(small - means).max() <= 1.5  # rounding at each halving


def test_area_shrink_by_an_odd_factor_matches_one_area_resize() -> None:
    """A phone's view of a 4K frame shrinks about 3.3x: halved first for speed, it still matches what
    one area resize gives (a rendered phone, within a grey level on average)."""
    scene = render_scene("phone", seed=508, defects=["crack"], width=3840, height=2160)
    size = (1152, 648)  # 3.33x
    fast, _ = area_shrink(scene.image, size)
    one = cv2.resize(scene.image, size, interpolation=cv2.INTER_AREA)
    assert np.abs(fast.astype(int) - one.astype(int)).mean() < 1.0


def test_the_item_views_halving_from_2x_matches_one_area_resize() -> None:
    """The damage head's view of a phone in a 4K frame shrinks about 2.4x; halved first (a quarter of
    the time), it still matches one area resize within a grey level on average."""
    scene = render_scene("phone", seed=508, defects=["crack"], width=3840, height=2160)
    size = (1600, 900)  # 2.4x
    fast, _ = area_shrink(scene.image, size, halve_from=VIEW_HALVE_FROM)
    one = cv2.resize(scene.image, size, interpolation=cv2.INTER_AREA)
    assert np.abs(fast.astype(int) - one.astype(int)).mean() < 1.0


def test_antialiased_phone_crop_of_a_4k_frame_matches_the_720p_one() -> None:
    """The segmentation model's crop of the same phone at 4K and at 1280 x 720 is nearly the same."""
    scene = render_scene("phone", seed=507, defects=["crack"], width=3840, height=2160)
    quad = np.array([[1500, 300], [2300, 300], [2300, 1900], [1500, 1900]], np.float32)
    big = rectify_phone(scene.image, quad, antialias=True, margin_px=8).crop
    small = rectify_phone(_at_720p(scene.image), quad / 3, antialias=True, margin_px=8).crop
    assert np.abs(big.astype(int) - small.astype(int)).mean() < 3
