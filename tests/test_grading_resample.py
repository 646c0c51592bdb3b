"""How the camera frame is resampled into the model crop, and what the crop's labels then demand.

A hairline shrunk ~2x into the phone crop must stay a line (not dashes), and a label must not ask the
model to find a line the crop no longer shows."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from damage_model_files import with_damage_model
from onnx_metadata import with_metadata, without_metadata

from inspector.grading.locate import Located, crop_jewelry, rectify_phone
from models.crop_labels import CROP_VISIBLE_LEVELS, crop_labels
from models.synth.scene import render_scene

MODELS_DIR = Path(__file__).resolve().parents[1] / "models"


def _frame_with_line() -> tuple[np.ndarray, np.ndarray]:
    """A grey 1280x720 frame with a 1-pixel bright slanted line inside a phone-sized quad ~2x the crop."""
    img = np.full((720, 1280, 3), 100, np.uint8)
    cv2.line(img, (520, 80), (700, 620), (180, 180, 180), 1, cv2.LINE_8)
    quad = np.array([[460, 40], [780, 40], [780, 680], [460, 680]], np.float32)  # 320 x 640 -> 160 x 320
    return img, quad


def _line_profile(crop: np.ndarray) -> np.ndarray:
    """The line's brightness summed across each crop row it crosses (rows 30-280 of 320)."""
    g = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY).astype(np.float32) - 100.0
    return np.asarray(g[30:280].sum(axis=1))


def test_antialiased_crop_keeps_a_hairline_continuous() -> None:
    """Shrunk 2x, a 1-pixel line keeps an even brightness along its length with the anti-aliased warp;
    the plain bilinear warp (what older models were trained on) breaks it into dashes."""
    img, quad = _frame_with_line()
    plain = _line_profile(rectify_phone(img, quad).crop)
    smooth = _line_profile(rectify_phone(img, quad, antialias=True).crop)
    assert plain.min() < 0.35 * plain.max()  # dashes: some rows nearly lose the line
    assert smooth.min() > 0.75 * smooth.max()  # one even line: every frame pixel counted once
    assert smooth.mean() > 30  # 80 levels x 1 px, shrunk 2x in both directions: ~40 per row


def test_antialiased_crop_keeps_geometry() -> None:
    """Anti-aliasing changes pixel values, never where things are: a bright spot lands on the same
    crop pixel either way, for phones and for jewelry."""
    img = np.full((720, 1280, 3), 60, np.uint8)
    cv2.circle(img, (600, 300), 6, (255, 255, 255), -1)
    quad = np.array([[470, 50], [790, 60], [780, 690], [460, 680]], np.float32)

    def centroid(crop: np.ndarray) -> np.ndarray:
        g = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY).astype(np.float64) - 60
        ys, xs = np.nonzero(g > 20)
        w = g[ys, xs]
        return np.array([np.average(xs, weights=w), np.average(ys, weights=w)])

    for make in (
        lambda aa: rectify_phone(img, quad, antialias=aa),
        lambda aa: crop_jewelry(img, quad, antialias=aa),
    ):
        a, b = make(False), make(True)
        assert b.antialiased and not a.antialiased
        assert np.abs(centroid(a.crop) - centroid(b.crop)).max() < 0.5
        assert np.array_equal(a.to_frame, b.to_frame)


def test_labels_follow_what_the_crop_still_shows() -> None:
    """Two scratches drawn equally, one too faint once the frame is shrunk into the crop: only the
    visible one stays labelled; a class without a visibility map (a chip) is left as it is."""
    img, quad = _frame_with_line()
    loc: Located = rectify_phone(img, quad, antialias=True)
    masks = {name: np.zeros((720, 1280), np.uint8) for name in ("crack", "scratch", "chip")}
    vis = np.zeros((720, 1280), np.float32)
    cv2.line(masks["scratch"], (500, 100), (500, 600), 1, 3)  # faint: ~half the threshold once shrunk
    cv2.line(vis, (500, 100), (500, 600), CROP_VISIBLE_LEVELS, 1)
    cv2.line(masks["scratch"], (740, 100), (740, 600), 1, 3)  # clear: 4x the threshold in the frame
    cv2.line(vis, (740, 100), (740, 600), 4 * CROP_VISIBLE_LEVELS, 1)
    cv2.circle(masks["chip"], (620, 660), 8, 1, -1)
    classes = ("crack", "scratch", "chip")
    plain = crop_labels(masks, classes, loc)
    seen = crop_labels(masks, classes, loc, {"crack": np.zeros_like(vis), "scratch": vis})
    faint_x, clear_x = round((500 - 460) / 2), round((740 - 460) / 2)
    rows = slice(40, 260)
    faint, clear = slice(faint_x - 2, faint_x + 3), slice(clear_x - 2, clear_x + 3)
    assert (plain[rows, faint] == 2).any(axis=1).all() and (plain[rows, clear] == 2).any(axis=1).all()
    assert not (seen[rows, faint] == 2).any()  # the faint one is gone entirely
    assert (seen[rows, clear] == 2).any(axis=1).all()  # the clear one is labelled along its length
    assert np.count_nonzero(seen == 3) == np.count_nonzero(plain == 3) > 0


def test_model_metadata_chooses_the_crop_resampling(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A model that says it was trained on anti-aliased crops gets them from the grader; one without
    the key keeps the bilinear warp; an unknown method is refused by name at load time."""
    import inspector.grading.model as model_module
    from inspector.grading import Grader, ModelError

    shipped = without_metadata((MODELS_DIR / "phone_defects.onnx").read_bytes(), "resample", "area")
    seen: list[bool] = []
    real_locate = model_module.locate

    def spy(*args: object, **kwargs: object) -> Located:
        loc = real_locate(*args, **kwargs)  # type: ignore[arg-type]
        seen.append(loc.antialiased)
        return loc

    monkeypatch.setattr(model_module, "locate", spy)
    frame = render_scene("phone", seed=3, defects=["scratch"], width=960, height=540).image
    with_damage_model(tmp_path)
    for blob, expected in ((shipped, False), (with_metadata(shipped, "resample", "area"), True)):
        (tmp_path / "phone_defects.onnx").write_bytes(blob)
        g = Grader.load(models_dir=tmp_path, kinds=("phone",))
        assert g.models["phone"].antialias is expected
        g.grade(frame, "phone", "screen")
        assert seen[-1] is expected
    (tmp_path / "phone_defects.onnx").write_bytes(with_metadata(shipped, "resample", "bicubic"))
    with pytest.raises(ModelError, match="unknown resample 'bicubic'"):
        Grader.load(models_dir=tmp_path, kinds=("phone",))
