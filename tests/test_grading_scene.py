"""The scene renderer that feeds training and the simulated station camera."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from inspector.grading.locate import locate, order_quad
from models.synth.scene import JEWELRY_CLASSES, LANDMARKS, PHONE_CLASSES, render_scene


def test_phone_scene_shapes_labels_and_determinism() -> None:
    """A frame is HxWx3 uint8 with one {0,1} mask per class; the same seed renders the same frame."""
    a = render_scene("phone", seed=4, defects=["crack", "chip"], width=640, height=360)
    b = render_scene("phone", seed=4, defects=["crack", "chip"], width=640, height=360)
    assert a.image.shape == (360, 640, 3) and a.image.dtype == np.uint8
    assert set(a.masks) == set(PHONE_CLASSES)
    assert a.masks["crack"].any() and not a.masks["scratch"].any()
    assert set(np.unique(a.masks["crack"])) <= {0, 1}
    assert np.array_equal(a.image, b.image)
    assert a.item_quad.shape == (4, 2)
    json.dumps(a.spec.to_dict())


def test_jewelry_scene_labels() -> None:
    """Jewelry scenes carry masks for all jewelry classes and a bounding box of the piece."""
    s = render_scene("jewelry", seed=9, defects=["tarnish", "loose_stone"], angle_deg=45, light_level=0.5)
    assert set(s.masks) == set(JEWELRY_CLASSES)
    assert s.masks["tarnish"].any() and s.masks["loose_stone"].any()
    x0, y0 = s.item_quad.min(axis=0)
    x1, y1 = s.item_quad.max(axis=0)
    assert 0 <= x0 < x1 <= 1280 and 0 <= y0 < y1 <= 720


def test_jewelry_scene_marks_its_intact_stones_apart_from_the_loose_one() -> None:
    """Proves: training can find the intact stones of a piece (to show the model stones that are not
    defects): they are marked, and the loose stone is not among them."""
    s = render_scene("jewelry", seed=1_000_007, defects=["loose_stone"], angle_deg=210)
    intact, loose = s.landmarks["intact_stone"], s.masks["loose_stone"]
    assert set(s.landmarks) == set(LANDMARKS["jewelry"])
    assert intact.sum() > 1000 and loose.sum() > 500
    assert not (intact & loose).any()
    assert render_scene("phone", seed=4, width=640, height=360).landmarks == {}


def test_renderer_rejects_unknown_names() -> None:
    """Typos in kind, defect, side or distractor names fail loudly."""
    with pytest.raises(ValueError, match="kind"):
        render_scene("watch", seed=1)
    with pytest.raises(ValueError, match="defect"):
        render_scene("phone", seed=1, defects=["missing_stone"])
    with pytest.raises(ValueError, match="side"):
        render_scene("phone", seed=1, side="top")
    with pytest.raises(ValueError, match="distractor"):
        render_scene("phone", seed=1, only_distractors=["smoke"])


@pytest.mark.parametrize("seed", range(5))
def test_phone_is_found_and_rectified(seed: int) -> None:
    """The station finds the phone on the mat: detected corners lie near the rendered body corners."""
    s = render_scene("phone", seed=seed, angle_deg=33.0 * seed, only_distractors=())
    loc = locate(s.image, "phone")
    assert loc.found
    gt = order_quad(s.item_quad)
    err = min(float(np.abs(np.roll(gt, k, axis=0) - loc.quad).max()) for k in (0, 2))
    diag = float(np.linalg.norm(gt[2] - gt[0]))
    assert err < 0.08 * diag
    assert loc.crop.shape == (320, 160, 3)


def test_thin_defects_are_labelled_only_where_visible() -> None:
    """A scratch drawn too faint for the camera (after light and blur) carries no label: the model is
    never taught to find what the frame does not show, and the held-out truth does not demand it."""
    from models.synth.scene import VISIBLE_LEVELS, _visible_only

    h, w = 40, 80
    geo = np.zeros((h, w), np.uint8)
    geo[10, 5:75] = 1  # a faint scratch
    geo[30, 5:75] = 1  # a clear one
    contrast = np.zeros((h, w), np.float32)
    contrast[10, 5:75] = VISIBLE_LEVELS * 0.5
    contrast[30, 5:75] = VISIBLE_LEVELS * 4
    none_saturated = np.zeros((h, w), bool)
    out = _visible_only({"scratch": geo}, {"scratch": contrast}, 1.0, 0.0, none_saturated)[0]["scratch"]
    assert not out[10].any() and out[30].sum() == 70
    dim = _visible_only({"scratch": geo}, {"scratch": contrast}, 0.2, 0.0, none_saturated)[0]["scratch"]
    assert not dim.any()  # the light box turned down: neither line is visible any more
    blown = _visible_only({"scratch": geo}, {"scratch": contrast}, 1.0, 0.0, np.ones((h, w), bool))
    assert not blown[0]["scratch"].any()  # clipped to white by glare


def test_rendered_crack_labels_follow_the_drawn_lines() -> None:
    """On a normal frame the crack label survives the visibility rule and sits on the drawn crack."""
    s = render_scene("phone", seed=4, defects=["crack"], only_distractors=())
    assert s.masks["crack"].sum() > 200


def _glass(scene_quad: np.ndarray, shape: tuple[int, ...], keep: float = 0.7) -> np.ndarray:
    """Pixels well inside the phone's outline: display glass, away from bezel and rim."""
    centre = scene_quad.mean(axis=0)
    inner = (centre + (scene_quad - centre) * keep).astype(np.int32)
    mask = np.zeros(shape[:2], np.uint8)
    cv2.fillPoly(mask, [inner], 1)
    return mask > 0


def test_screen_off_glass_is_dark_and_flat_where_a_lit_screen_shows_wallpaper() -> None:
    """With the display off, the glass that showed wallpaper and icons is a dark, even mirror; the
    phone and its pose are the ones the same seed renders lit, and the light box's hotspots and the
    fingerprints on the glass still show on it."""
    lit_wallpapers = 0
    for seed in range(12):
        on = render_scene("phone", seed=seed, angle_deg=15, only_distractors=())
        off = render_scene("phone", seed=seed, angle_deg=15, only_distractors=(), screen_on=False)
        assert off.spec.item["screen"] == "off"
        assert np.array_equal(on.item_quad, off.item_quad)
        if on.spec.item["screen"] != "wallpaper":
            continue
        lit_wallpapers += 1
        glass = _glass(off.item_quad, off.image.shape)
        grey_on = on.image.mean(axis=2)[glass]
        grey_off = off.image.mean(axis=2)[glass]
        assert grey_off.mean() < 60, seed
        assert grey_off.std() < grey_on.std() and grey_off.std() < 12, seed
        assert np.percentile(grey_off, 99) - np.percentile(grey_off, 1) < 50, seed  # no icons, no text
        shiny = render_scene(
            "phone", seed=seed, angle_deg=15, only_distractors=("glare", "fingerprint"), screen_on=False
        )
        assert shiny.image.mean(axis=2)[glass].max() > grey_off.max() + 40, seed
    assert lit_wallpapers >= 4


def test_screen_off_shows_the_crack_as_bright_lines_where_its_mask_is() -> None:
    """On dark glass a crack is drawn bright, inside its label, and is still labelled as visible."""
    for seed in (3, 7, 11):
        off = render_scene("phone", seed=seed, defects=("crack",), angle_deg=20, screen_on=False)
        crack = off.masks["crack"] > 0
        assert crack.sum() > 200, seed
        grey = off.image.mean(axis=2)
        glass = _glass(off.item_quad, off.image.shape, keep=0.95)
        near = cv2.dilate(crack.astype(np.uint8), np.ones((9, 9), np.uint8)) > 0
        on_crack = grey[crack & glass]
        background = grey[glass & ~near]
        assert np.percentile(on_crack, 90) > np.median(background) + 40, seed
