"""Camera grading: shipped ONNX models on rendered station frames, scale files, broken model files, CLI.

Needs only onnxruntime + OpenCV (no torch): the models under test are the shipped ``models/*.onnx``.
"""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from inspector.cli import main as cli_main
from inspector.grading import Grader, GradeScaleError, GradingError, ModelError, load_scale
from inspector.grading.scales import SCALES_DIR, parse_scale
from models.synth.scene import render_scene

MODELS_DIR = Path(__file__).resolve().parents[1] / "models"


@pytest.fixture(scope="module")
def grader() -> Grader:
    return Grader.load()


@pytest.mark.parametrize("seed", [11, 12, 13])
def test_finds_rendered_crack(grader: Grader, seed: int) -> None:
    """A cracked screen on the station is found, outlined, and graded at the lowest sellable grade."""
    scene = render_scene(
        "phone", seed=seed, defects=["crack"], side="screen", angle_deg=20.0 * seed, only_distractors=()
    )
    res = grader.grade(scene.image, "phone", "screen")
    assert res.item_found
    assert res.measurements["crack"].count >= 1
    assert res.grade == "D"
    assert any("crack" in r for r in res.reasons)
    assert res.reasons[0].startswith("D: ")
    # the decided label map travels with the result, in the model crop the crack was measured in
    assert res.located is not None and res.labels is not None
    assert res.labels.shape == res.located.crop.shape[:2]
    assert np.count_nonzero(res.labels == res.model.classes.index("crack")) > 0


@pytest.mark.parametrize("seed", [6, 12, 28])
def test_rendered_scratches_grade_as_wear_not_as_a_crack(grader: Grader, seed: int) -> None:
    """A scratched, uncracked screen is graded as worn (B or C) with its scratches named and
    outlined, not as cracked glass: the line classifier judges each line by its shape."""
    scene = render_scene(
        "phone", seed=seed, defects=["scratch"], side="screen", angle_deg=20.0 * seed, only_distractors=()
    )
    res = grader.grade(scene.image, "phone", "screen")
    assert res.measurements["crack"].count == 0
    assert res.measurements["scratch"].count >= 1
    assert res.grade in ("B", "C")
    assert "scratch" in res.reasons[0]
    assert any(d.cls == "scratch" for d in res.defects)


@pytest.mark.parametrize("seed", [21, 22, 23, 24, 25])
def test_ignores_rendered_glare_and_oil(grader: Grader, seed: int) -> None:
    """Glare, reflections and an oil smear on an undamaged phone are not reported as cracks or scratches."""
    scene = render_scene(
        "phone",
        seed=seed,
        defects=[],
        side="screen",
        angle_deg=15.0 * seed,
        only_distractors=("glare", "oil", "reflection"),
    )
    res = grader.grade(scene.image, "phone", "screen")
    assert res.measurements["crack"].count == 0
    assert res.measurements["scratch"].count == 0
    assert res.grade in ("A", "B")


@pytest.mark.parametrize("seed", [1, 8, 14])
def test_finds_a_rendered_scratch_on_jewelry(grader: Grader, seed: int) -> None:
    """A scratch the grader finds is found where it is (the scratch-line scorer), measured in
    millimetres and named: the piece is Very good, not Excellent. How often one is found is the model
    card's figure (about a third of pieces with a scratch on a plain mat, 7 of seeds 1-20)."""
    from models.crop_labels import crop_labels
    from models.synth.scene import JEWELRY_CLASSES

    scene = render_scene("jewelry", seed=seed, defects=["scratch"], only_distractors=())
    res = grader.grade(scene.image, "jewelry")
    assert res.grade == "B"
    assert res.measurements["scratch"].count >= 1 and res.measurements["scratch"].total_length_mm >= 3
    assert "scratch" in res.reasons[0]
    assert res.located is not None and res.labels is not None
    truth = crop_labels(scene.masks, JEWELRY_CLASSES, res.located, scene.visibility) == 1
    near = cv2.dilate(truth.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    assert np.count_nonzero((res.labels == 1) & near) >= 5


def test_glare_and_smudges_on_clean_jewelry_are_rarely_scratches(grader: Grader) -> None:
    """Glare, reflections, dust and fingerprints on an undamaged piece are thin bright or dark marks
    too; at most 1 piece in 10 gets one reported as a scratch (the shipped model: 2 of these 20, as
    the card says; the model before it marked none of the first 10 and marked dents and tarnish on
    twice as many clean pieces)."""
    marked = [
        seed
        for seed in range(30, 50)
        if grader.grade(
            render_scene(
                "jewelry",
                seed=seed,
                defects=[],
                only_distractors=("glare", "reflection", "dust", "fingerprint"),
            ).image,
            "jewelry",
        )
        .measurements["scratch"]
        .count
    ]
    assert len(marked) <= 2, marked


@pytest.mark.parametrize("seed", [101, 110, 140, 160, 170])
def test_a_dark_facet_or_bail_is_not_a_missing_stone(grader: Grader, seed: int) -> None:
    """On these clean pieces the network marks a seat (a dark facet, a pendant's bail, a cut-out edge)
    that the network's own rule would report as a missing stone, grading the piece Fair; the
    stone-seat scorer rejects it and the piece keeps its grade."""
    scene = render_scene("jewelry", seed=seed, defects=[])
    res = grader.grade(scene.image, "jewelry")
    model, scale = grader.models["jewelry"], grader.scales["jewelry"]
    assert res.located is not None
    probs = model.predict(res.located.crop)
    network_rule = model.calibration.model_copy(update={"stone_seats": None})
    before, *_ = grader._measure(probs, res.located, model.info.classes, scale, network_rule, model.scorers)
    assert before["missing_stone"].count >= 1
    assert res.measurements["missing_stone"].count == 0
    assert res.grade != "D"


def test_jewelry_missing_stone_is_fair(grader: Grader) -> None:
    """A ring or pendant with an empty setting is graded no better than the scale's repair grade."""
    scene = render_scene("jewelry", seed=5, defects=["missing_stone"], only_distractors=())
    res = grader.grade(scene.image, "jewelry")
    assert res.measurements["missing_stone"].count + res.measurements["loose_stone"].count >= 1
    assert res.grade == "D"


def test_result_is_explainable_and_serialisable(grader: Grader) -> None:
    """Every grade carries reasons, integer micrometre measurements for signing, model identity and a PNG."""
    scene = render_scene("phone", seed=3, defects=["scratch"], side="back", only_distractors=())
    res = grader.grade(scene.image, "phone", "back")
    d = json.loads(json.dumps(res.to_dict()))
    assert d["grade"] in ("A", "B", "C", "D")
    assert d["reasons"] and d["reasons"][0].startswith(d["grade"] + ": ")
    assert isinstance(d["measurements"]["scratch"]["total_length_um"], int)
    assert len(d["model"]["sha256"]) == 64 and d["model"]["name"] == "phone_defects"
    png = res.overlay_png()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR).shape == scene.image.shape


def test_bad_input_is_a_clear_error(grader: Grader) -> None:
    """Empty frames, unknown kinds and sides are rejected with a message, not a crash."""
    with pytest.raises(GradingError, match="non-empty"):
        grader.grade(np.zeros((0, 0, 3), np.uint8), "phone")
    with pytest.raises(GradingError, match="kind"):
        grader.grade(np.zeros((64, 64, 3), np.uint8), "watch")
    with pytest.raises(GradingError, match="side"):
        grader.grade(np.zeros((64, 64, 3), np.uint8), "phone", "edge")


def test_blank_frame_still_grades(grader: Grader) -> None:
    """An empty station (nothing on the mat) grades the whole frame and says the item was not found."""
    res = grader.grade(np.full((360, 640, 3), 120, np.uint8), "phone")
    assert not res.item_found
    assert any("not found" in r for r in res.reasons)


# ---------------------------------------------------------------- scale files


def test_shipped_scales_are_valid() -> None:
    """The shipped phone and jewelry scales load; cracked glass is only allowed in the last grade."""
    phone = load_scale(SCALES_DIR / "phone.json")
    assert [g.grade for g in phone.grades] == ["A", "B", "C", "D"]
    for g in phone.grades[:-1]:
        assert g.limits["crack"].max_count == 0
    load_scale(SCALES_DIR / "jewelry.json")


def _phone_scale() -> dict:
    return json.loads((SCALES_DIR / "phone.json").read_text())


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d["grades"][1]["limits"].update(scrach={"max_count": 1}), "unknown class 'scrach'"),
        (
            lambda d: d["grades"][2]["limits"]["scratch"].update(max_count=-1),
            "grades.2.limits.scratch.max_count",
        ),
        (lambda d: d["grades"][3]["limits"].update(crack={"max_count": 5}), "last grade must have no limits"),
        (lambda d: d["grades"][2]["limits"]["scratch"].update(max_count=1), "stricter than grade B"),
        (lambda d: d.pop("kind"), "kind"),
        (lambda d: d["grades"][1].update(grade="A"), "appears twice"),
    ],
)
def test_bad_scale_gives_clear_error(mutate, message: str) -> None:  # type: ignore[no-untyped-def]
    """A broken grade scale names the file and the offending place instead of grading with it."""
    data = _phone_scale()
    mutate(data)
    with pytest.raises(GradeScaleError) as exc:
        parse_scale(data, "phone.json")
    assert "phone.json" in str(exc.value)
    assert message in str(exc.value)


def test_scale_file_not_json_or_missing(tmp_path: Path) -> None:
    """A scale file that is not JSON reports line and column; a missing one says so."""
    bad = tmp_path / "phone.json"
    bad.write_text('{"schema": "inspector.grade-scale/1",\n  "name": }')
    with pytest.raises(GradeScaleError, match="line 2"):
        load_scale(bad)
    with pytest.raises(GradeScaleError, match="not found"):
        load_scale(tmp_path / "nope.json")
    with pytest.raises(GradeScaleError):
        Grader.load(scales_dir=tmp_path, kinds=("phone",))


# ---------------------------------------------------------------- model files


def test_missing_model_file(tmp_path: Path) -> None:
    """Without the model file the grader refuses to start and says how to rebuild it."""
    with pytest.raises(ModelError, match="make models"):
        Grader.load(models_dir=tmp_path, kinds=("phone",))


def test_corrupt_model_file(tmp_path: Path) -> None:
    """A truncated or garbage model file gives a clear error, not a crash."""
    good = (MODELS_DIR / "phone_defects.onnx").read_bytes()
    (tmp_path / "phone_defects.onnx").write_bytes(good[: len(good) // 3])
    with pytest.raises(ModelError, match="corrupt"):
        Grader.load(models_dir=tmp_path, kinds=("phone",))
    (tmp_path / "phone_defects.onnx").write_bytes(b"not a model at all")
    with pytest.raises(ModelError, match="corrupt"):
        Grader.load(models_dir=tmp_path, kinds=("phone",))


def test_wrong_model_for_kind(tmp_path: Path) -> None:
    """A jewelry model saved under the phone name is detected by its metadata."""
    (tmp_path / "phone_defects.onnx").write_bytes((MODELS_DIR / "jewelry_defects.onnx").read_bytes())
    with pytest.raises(ModelError, match="expected 'phone'"):
        Grader.load(models_dir=tmp_path, kinds=("phone",))


# ---------------------------------------------------------------- CLI


def test_cli_grades_rendered_image(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`inspector grade IMAGE --out DIR` prints grade and reasons and writes the overlay PNG."""
    scene = render_scene("phone", seed=11, defects=["crack"], only_distractors=())
    img = tmp_path / "phone.jpg"
    cv2.imwrite(str(img), scene.image)
    out = tmp_path / "out"
    assert cli_main(["grade", str(img), "--kind", "phone", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "grade D" in text and "crack" in text
    overlay = cv2.imread(str(out / "phone.grade.png"))
    assert overlay is not None and overlay.shape == scene.image.shape


def test_cli_json_and_bad_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Unreadable files are reported per file; --json output parses; all-bad input exits non-zero."""
    scene = render_scene("jewelry", seed=2, defects=[], only_distractors=())
    img = tmp_path / "ring.png"
    cv2.imwrite(str(img), scene.image)
    junk = tmp_path / "junk.jpg"
    junk.write_bytes(b"nope")
    rc = cli_main(["grade", str(img), str(junk), "--kind", "jewelry", "--out", str(tmp_path), "--json"])
    assert rc == 1
    payload = json.loads(capsys.readouterr().out)  # stdout is one valid JSON list, errors included
    assert payload[0]["kind"] == "jewelry"
    assert payload[1] == {"file": str(junk), "error": "not an image OpenCV can read"}
    assert cli_main(["grade", str(junk), "--out", str(tmp_path)]) == 1
    assert "none of the 1 file(s)" in capsys.readouterr().err


def test_cli_grades_every_image_of_a_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`inspector grade FOLDER` grades the images in it; a folder without images is a clear error."""
    photos = tmp_path / "photos"
    photos.mkdir()
    scene = render_scene("phone", seed=11, defects=[], only_distractors=())
    for name in ("b.png", "a.jpg"):
        cv2.imwrite(str(photos / name), scene.image)
    (photos / "notes.txt").write_text("not a photo")
    assert cli_main(["grade", str(photos), "--kind", "phone", "--out", str(tmp_path / "out"), "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert [Path(p["file"]).name for p in payload] == ["a.jpg", "b.png"]
    empty = tmp_path / "empty"
    empty.mkdir()
    assert cli_main(["grade", str(empty), "--out", str(tmp_path / "out")]) == 1
    assert "folder has no" in capsys.readouterr().out


def test_cli_corrupt_model_is_clean_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The CLI turns a corrupt model into a one-line error and exit code 1."""
    (tmp_path / "phone_defects.onnx").write_bytes(b"\x00" * 100)
    img = tmp_path / "x.png"
    cv2.imwrite(str(img), np.full((64, 64, 3), 100, np.uint8))
    assert cli_main(["grade", str(img), "--models-dir", str(tmp_path), "--out", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "corrupt" in err and "Traceback" not in err
