"""Known features of a phone's back (lenses, flash, logo) are masked before measuring; harder renders.

Uses the shipped models and the feature catalogue on rendered station frames: catalogued backs on the
station mat, and the harder renders (screen content, a cluttered desk).
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from inspector.grading import Grader
from inspector.grading.grader import Defect, drop_known
from inspector.grading.known_features import (
    CatalogueError,
    catalogue,
    known_feature_mask,
    layout_for,
    parse_catalogue,
)
from inspector.grading.locate import Located
from models.synth.scene import RenderedScene, render_scene


@pytest.fixture(scope="module")
def grader() -> Grader:
    return Grader.load(kinds=("phone",))


def in_crop(loc: Located, frame_mask: np.ndarray) -> np.ndarray:
    """A frame mask brought into the model crop the grader measured in."""
    h, w = loc.crop.shape[:2]
    to_crop = np.linalg.inv(loc.to_frame)
    return np.asarray(cv2.warpPerspective(frame_mask.astype(np.float32), to_crop, (w, h)) > 0.5)


def marks_on(scene: RenderedScene, defects: list[Defect], names: tuple[str, ...]) -> int:
    """How many marks overlap the scene's masks of ``names``."""
    known = np.zeros(scene.image.shape[:2], np.uint8)
    for n in names:
        known |= scene.features.get(n, np.zeros_like(known))
    hits = 0
    for d in defects:
        m = np.zeros_like(known)
        cv2.fillPoly(m, [d.contour_frame], 1)
        hits += int((m & known).any())
    return hits


def test_catalogue_knows_the_simulated_phones() -> None:
    """Every model the simulated phones report has its back in the catalogue, lenses included."""
    from devices.phone.profiles import PROFILES

    for p in PROFILES.values():
        layout = layout_for(p.props["ro.product.model"])
        assert layout is not None, p.name
        assert any(f.kind == "lens" for f in layout.features)
    assert layout_for("No Such Phone") is None and layout_for(None) is None


def test_malformed_catalogue_is_a_clear_error() -> None:
    """A feature with an unknown shape or a size that is not two numbers names the entry at fault."""
    lens: dict[str, object] = {"kind": "lens", "shape": "circle", "center_mm": [10, 10], "size_mm": [9, 9]}

    def entry(**change: object) -> dict[str, object]:
        return {"models": {"X": {"size_mm": [70, 150], "features": [{**lens, **change}]}}}

    assert parse_catalogue(entry())["X"].features[0].kind == "lens"
    with pytest.raises(CatalogueError, match="'X' feature 0: shape"):
        parse_catalogue(entry(shape="star"))
    with pytest.raises(CatalogueError, match="two numbers"):
        parse_catalogue(entry(size_mm=[9]))


@pytest.mark.parametrize("model", sorted(catalogue()))
@pytest.mark.parametrize("angle", [30.0, 95.0, 200.0])
def test_catalogue_masks_the_known_lenses_whichever_end_is_up(
    grader: Grader, model: str, angle: float
) -> None:
    """On a render of a catalogued back, lying either way round, the catalogue's mask covers the
    lenses and flash where they are, and leaves most of the back free to be graded."""
    scene = render_scene("phone", seed=int(angle), side="back", angle_deg=angle, phone_model=model)
    loc = grader.models["phone"].locate(scene.image, layout_for(model).size_mm)  # type: ignore[union-attr]
    mask = known_feature_mask(loc.crop, loc.inset_px, loc.mm_per_px, model)
    for name in ("lens", "flash"):
        truth = in_crop(loc, scene.features[name])
        assert truth.any()
        assert (mask & truth).sum() >= 0.9 * truth.sum(), name
    assert mask.mean() < 0.25


@pytest.mark.parametrize("seed", [3, 8, 21])
def test_generic_finder_masks_the_lenses_of_an_unknown_back(grader: Grader, seed: int) -> None:
    """For a model the catalogue does not know, the finder masks most of the lenses it renders."""
    scene = render_scene("phone", seed=seed, side="back", angle_deg=37.0 * seed)
    loc = grader.models["phone"].locate(scene.image, (71.5, 147.0))
    mask = known_feature_mask(loc.crop, loc.inset_px, loc.mm_per_px, None)
    truth = in_crop(loc, scene.features["lens"])
    assert np.count_nonzero(mask & truth) >= 0.6 * np.count_nonzero(truth)
    assert mask.mean() < 0.25


def test_marks_on_known_features_are_dropped_but_a_crossing_crack_keeps_its_outside_part() -> None:
    """A mark mostly on a lens goes whole; a long mark that only crosses it keeps what lies outside."""
    labels = np.zeros((100, 100), np.int64)
    known = np.zeros((100, 100), bool)
    known[10:30, 10:30] = True
    labels[12:28, 15] = 1  # a lens rim, inside the feature
    labels[31, 10:30] = 1  # the same rim's blurred edge just outside, touching it
    labels[12:28, 16] = 1
    labels[50:52, 0:100] = 2  # elsewhere
    labels[20, 25:90] = 1  # a crack crossing the feature
    out = drop_known(labels, known)
    assert not out[known].any()
    assert out[50, 50] == 2
    assert (out[20, 30:90] == 1).all()


@pytest.mark.parametrize("model", sorted(catalogue()))
def test_camera_lenses_of_a_catalogued_back_are_not_marked(grader: Grader, model: str) -> None:
    """Graded with the model the probe reports, a clean back has no mark on its lenses, flash or logo."""
    for seed in (1, 2):
        scene = render_scene("phone", seed=seed, side="back", angle_deg=50.0 * seed, phone_model=model)
        res = grader.grade(scene.image, "phone", "back", phone_model=model)
        assert marks_on(scene, [*res.defects, *res.suspected], ("lens", "flash", "sensor", "logo")) == 0


def test_harder_content_leaves_the_plain_scene_where_it_was() -> None:
    """Screen content and clutter draw from their own generator: the phone lies where the plain render
    of the seed puts it, the content is masked, and nothing of it is labelled as damage."""
    plain = render_scene("phone", seed=5, side="screen", angle_deg=10.0)
    hard = render_scene("phone", seed=5, side="screen", angle_deg=10.0, harder=True)
    assert np.allclose(plain.item_quad, hard.item_quad)
    assert not np.array_equal(plain.image, hard.image)
    assert hard.features["screen_content"].any() and "screen_content" not in plain.features
    assert not (hard.features["screen_content"] & ~hard.features["display"].astype(bool)).any()
    assert all(not m.any() for m in hard.masks.values())


@pytest.mark.parametrize("seed", [31, 33])
def test_rendered_crack_among_screen_content_is_found_where_it_is(grader: Grader, seed: int) -> None:
    """A crack on a screen full of text and icons, on a cluttered desk, is marked on the crack and
    graded D (the shipped model also marks some screen content: the render gate counts how often)."""
    scene = render_scene("phone", seed=seed, defects=["crack"], side="screen", angle_deg=40.0, harder=True)
    res = grader.grade(scene.image, "phone", "screen")
    near = cv2.dilate(scene.masks["crack"], np.ones((9, 9), np.uint8))
    on_crack = []
    for d in res.defects:
        drawn = np.zeros_like(near)
        cv2.fillPoly(drawn, [d.contour_frame], 1)
        on_crack.append(
            d.cls == "crack"
            and np.count_nonzero(drawn.astype(bool) & near.astype(bool)) >= 0.5 * np.count_nonzero(drawn)
        )
    assert any(on_crack)
    assert res.grade == "D"


@pytest.mark.parametrize("seed", [3, 8])
def test_lit_screen_text_and_icons_are_not_marked(grader: Grader, seed: int) -> None:
    """A clean lit screen showing text, icons, keypads or photos has no mark on it, counted or suspected."""
    scene = render_scene("phone", seed=seed, side="screen", angle_deg=25.0 * seed, harder=True)
    res = grader.grade(scene.image, "phone", "screen")
    assert marks_on(scene, [*res.defects, *res.suspected], ("display",)) == 0


def test_unknown_phone_model_is_a_clear_error_in_the_renderer() -> None:
    """Asking the renderer for a back the catalogue does not have says so."""
    with pytest.raises(ValueError, match="unknown phone model"):
        render_scene("phone", seed=1, side="back", phone_model="No Such Phone")
