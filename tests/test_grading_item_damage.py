"""The item-level damage model (pretrained backbone + head): how it gates the pixel marks, what the
``inspector grade --json`` interface says with it, and clear errors for damaged files.

Uses the shipped ``models/damage_backbone.onnx`` and ``models/phone_damage_head.json``.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pytest

from inspector.cli import main as cli_main
from inspector.grading import Grader, ModelError, load_scale
from inspector.grading.grader import lowest_grade_classes
from inspector.grading.item_damage import BACKBONE_FILE, ItemDamage, LinearHead, item_view, read_head
from inspector.grading.scales import SCALES_DIR
from models.synth.scene import render_scene
from models.synth.station_frames import station_frame

MODELS_DIR = Path(__file__).resolve().parents[1] / "models"
HEAD = "phone_damage_head.json"


@pytest.fixture(scope="module")
def grader() -> Grader:
    return Grader.load(kinds=("phone",))


def _models_copy(tmp_path: Path) -> Path:
    for name in ("phone_defects.onnx", "phone_defects.calibration.json", BACKBONE_FILE, HEAD):
        shutil.copyfile(MODELS_DIR / name, tmp_path / name)
    return tmp_path


def test_only_cracks_are_gated_by_the_item_head() -> None:
    """A phone's lowest-grade class is the crack (every better grade forbids one); scratches and chips
    are wear the pixel model measures on its own."""
    assert lowest_grade_classes(load_scale(SCALES_DIR / "phone.json")) == ("crack",)


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_camera_lenses_and_logo_on_a_clean_back_are_not_cracks(grader: Grader, seed: int) -> None:
    """The back glass of a clean phone, with its lenses, flash and logo, is not marked as cracked:
    the item head does not flag it, so the pixel model's crack marks there do not count."""
    scene = render_scene("phone", seed=seed, side="back", angle_deg=30.0 * seed, only_distractors=())
    res = grader.grade(scene.image, "phone", "back")
    assert res.damage is not None and not res.damage.flagged
    assert res.measurements.get("crack") is None or res.measurements["crack"].count == 0
    assert res.grade != "D"


@pytest.mark.parametrize("seed", [1, 3, 5])
def test_wallpaper_lines_and_glare_do_not_make_a_crack(grader: Grader, seed: int) -> None:
    """Line-pattern wallpapers, glare and reflections on an intact screen are not graded as cracked."""
    scene = render_scene(
        "phone",
        seed=seed,
        side="screen",
        angle_deg=25.0 * seed,
        only_distractors=("wallpaper_lines", "glare", "reflection"),
    )
    res = grader.grade(scene.image, "phone", "screen")
    assert res.grade != "D"
    assert res.measurements.get("crack") is None or res.measurements["crack"].count == 0


def test_a_rendered_crack_is_flagged_and_outlined_where_it_is(grader: Grader) -> None:
    """A cracked screen is flagged by the item head, graded D, and its outline lies on the crack."""
    scene = render_scene("phone", seed=13, defects=["crack"], angle_deg=260.0, only_distractors=())
    res = grader.grade(scene.image, "phone", "screen")
    assert res.damage is not None and res.damage.flagged
    assert res.grade == "D"
    cracks = [d for d in res.defects if d.cls == "crack"]
    assert cracks
    drawn = np.zeros(scene.image.shape[:2], np.uint8)
    cv2.fillPoly(drawn, [d.contour_frame for d in cracks], 1)
    truth = np.asarray(cv2.dilate(scene.masks["crack"].astype(np.uint8), np.ones((9, 9), np.uint8)))
    assert np.logical_and(drawn, truth).sum() >= 0.3 * drawn.sum()  # most of what is outlined is on the crack


def test_a_crack_the_item_model_doubts_is_suspected_not_graded(grader: Grader) -> None:
    """Crack marks on a phone the item model does not flag do not make a D: they are kept apart as
    suspected (for the operator to look at), and the grade says nothing of a crack."""
    seed = 50_012  # a rendered crack the item model scores under its threshold (p 0.44)
    scene = station_frame("phone", seed, np.random.default_rng(seed), ("crack",), 1280)
    res = grader.grade(scene.image, "phone", "screen")
    assert res.damage is not None and not res.damage.flagged
    assert res.grade != "D"
    assert res.suspected and all(d.cls == "crack" for d in res.suspected)
    assert all(d.cls != "crack" for d in res.defects)


def test_damage_probability_and_map_are_reported(grader: Grader) -> None:
    """The result carries the calibrated item probability and a map of where (the head's grid of
    tiles), both in to_dict."""
    scene = render_scene("phone", seed=2, only_distractors=())
    res = grader.grade(scene.image, "phone", "screen")
    d = res.to_dict()
    assert d["damage_probability"] == pytest.approx(res.damage_probability, abs=1e-4)
    assert 0.0 <= d["damage_probability"] <= 1.0
    head = grader.item_damage["phone"].head
    assert np.asarray(d["damage_map"]).shape == (head.tile_rows, head.grid)
    assert d["damage_score"] == d["damage_probability"]  # what the certificate signs as damage_score_pct


def test_item_view_rectifies_the_item_no_larger_than_the_tiles_need() -> None:
    """The head sees the located item upright, shrunk to at most ``longest`` px on its longer side
    (never enlarged), or the whole photo, shrunk the same way, when no item was found."""
    frame = np.zeros((720, 1280, 3), np.uint8)
    quad = np.array([[400, 100], [700, 100], [700, 700], [400, 700]], np.float32)
    frame[100:700, 400:700] = 200
    view = item_view(frame, quad, 1000)
    assert view.shape[:2] == (672, 336)  # 600 x 300 plus 6 % on each side
    assert view[300, 150].tolist() == [200, 200, 200]
    small = item_view(frame, quad, 448)
    assert small.shape[:2] == (448, 224) and small[200, 112].tolist() == [200, 200, 200]
    assert item_view(frame, None, 1280) is frame
    assert item_view(frame, None, 640).shape[:2] == (360, 640)


def test_a_head_for_other_views_than_the_backbone_takes_is_refused(tmp_path: Path) -> None:
    """A head fitted on views of another size than the backbone's input is a clear error, not a
    onnxruntime shape error at the first grade."""
    models = _models_copy(tmp_path)
    head = read_head(models / HEAD)
    (models / HEAD).write_text(replace(head, size=head.size + 32).to_json())
    with pytest.raises(ModelError, match="px views"):
        ItemDamage(models, "phone")


def test_cli_json_interface(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`inspector grade --json`: each entry has file, item_found, grade, damage_probability, reasons,
    defects (class, mm, box) and overlay; with no item found the grade is null and reasons say so."""
    cracked = render_scene("phone", seed=13, defects=["crack"], angle_deg=260.0, only_distractors=())
    cv2.imwrite(str(tmp_path / "cracked.png"), cracked.image)
    cv2.imwrite(str(tmp_path / "empty.png"), np.full((360, 640, 3), 120, np.uint8))
    (tmp_path / "broken.jpg").write_bytes(b"\xff\xd8 not really")
    rc = cli_main(["grade", str(tmp_path), "--kind", "phone", "--out", str(tmp_path / "out"), "--json"])
    assert rc == 1  # one file could not be read
    entries = {Path(e["file"]).name: e for e in json.loads(capsys.readouterr().out)}
    assert set(entries) == {"broken.jpg", "cracked.png", "empty.png"}
    assert "error" in entries["broken.jpg"]
    hit = entries["cracked.png"]
    assert hit["item_found"] is True and hit["grade"] == "D"
    assert 0.0 <= hit["damage_probability"] <= 1.0
    crack = next(d for d in hit["defects"] if d["class"] == "crack")
    assert crack["length_mm"] > 0 and len(crack["box"]) == 4
    assert Path(hit["overlay"]).is_file()
    empty = entries["empty.png"]
    assert empty["item_found"] is False and empty["grade"] is None
    assert "no item found" in empty["reasons"][0]
    assert isinstance(empty["damage_probability"], float)


def test_missing_or_damaged_head_is_a_clear_error(tmp_path: Path) -> None:
    """Without the head, with a damaged head, or with a head fitted for another backbone, the grader
    refuses to start and says how to rebuild."""
    models = _models_copy(tmp_path)
    (models / HEAD).unlink()
    with pytest.raises(ModelError, match=r"damage head not found.*make models"):
        Grader.load(models_dir=models, kinds=("phone",))
    (models / HEAD).write_text('{"backbone": "x", "mean": [')
    with pytest.raises(ModelError, match="unreadable or damaged"):
        Grader.load(models_dir=models, kinds=("phone",))
    head = read_head(MODELS_DIR / HEAD)
    (models / HEAD).write_text(replace(head, backbone_sha256="0" * 64).to_json())
    with pytest.raises(ModelError, match="fitted on backbone 000000000000"):
        Grader.load(models_dir=models, kinds=("phone",))


def test_corrupt_backbone_is_a_clear_error(tmp_path: Path) -> None:
    """A truncated backbone file gives a message naming it, not an onnxruntime traceback."""
    models = _models_copy(tmp_path)
    blob = (MODELS_DIR / BACKBONE_FILE).read_bytes()
    (models / BACKBONE_FILE).write_bytes(blob[: len(blob) // 2])
    with pytest.raises(ModelError, match=r"damage backbone .* is corrupt"):
        ItemDamage(models, "phone")


def test_head_round_trips_as_json() -> None:
    """The head is plain weights: written and read back it gives the same probabilities."""
    head = read_head(MODELS_DIR / HEAD)
    again = LinearHead.from_json(head.to_json())
    x = np.random.default_rng(0).normal(size=(4, len(head.coef))).astype(np.float32)
    assert np.allclose(head.probability(x), again.probability(x))
