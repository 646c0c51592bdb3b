"""Recipes and experiment files (models/experiment.py): a training plan written down is checked whole
before any training, and a short real run chains its stages (continue from, mine with) into models the
grader loads; the committed recipes (what `make models` trains) count steps and run as written."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from models.experiment import ExperimentError, load, main, parse

RECIPES = Path(__file__).resolve().parent.parent / "models" / "recipes"


def _doc(**stage2: Any) -> dict[str, Any]:
    return {
        "kind": "jewelry",
        "n_train": 12,
        "threads": 1,
        "stages": [
            {"name": "s1", "minutes": 0.03, "train": {"batch": 8, "crop": 64, "rare_classes": ["dent"]}},
            {"name": "c1", "minutes": 0.03, "init": "s1", "mine_with": "s1", **stage2},
        ],
    }


@pytest.mark.parametrize("kind", ["phone", "jewelry"])
def test_each_kind_has_a_recipe_that_counts_steps(kind: str) -> None:
    """Proves: `make models` has a recipe for each kind in models/recipes/, naming real train()
    settings, classes and earlier stages, with every stage's budget in steps (the same run on every
    machine, so a rebuild repeats what shipped), not in minutes."""
    exp = load(RECIPES / f"{kind}.json")
    assert exp.kind == kind and exp.stages
    assert all(s.steps > 0 and s.minutes == 0 for s in exp.stages)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"init": "s9"}, "init 's9' is not an earlier stage"),
        ({"train": {"max_wieght": 2.0}}, "['max_wieght'] are not settings of models.train.train"),
        ({"train": {"rare_classes": ["crack"]}}, "['crack'] are not jewelry classes"),
        ({"train": {"rare_landmarks": ["pearl"]}}, "['pearl'] are not jewelry landmarks"),
        ({"minutes": 0}, "minutes must be a number above 0"),
        ({"steps": 500}, "either steps \\(a recipe\\) or minutes"),
        ({"train": {"scene_mix": {"screen_of": 0.5}}}, "scene_mix has no ['screen_of']"),
        ({"train": {"scene_mix": {"harder": 1.5}}}, "shares must lie in 0..1"),
        ({"name": "s1"}, "the name is used twice"),
        ({"mine_with": None, "train": {"hard_windows": 4}}, "hard_windows needs mine_with"),
    ],
)
def test_a_mistake_anywhere_in_the_file_is_named_before_training(
    change: dict[str, Any], message: str
) -> None:
    """Proves: a typo in the last stage is reported with the stage's name at load time, not after the
    first stage has trained for its minutes."""
    with pytest.raises(ExperimentError, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse(_doc(**change))


def test_a_version_that_is_not_major_minor_patch_is_refused() -> None:
    """Proves: the recipe's model version is checked before training, as every other key is."""
    with pytest.raises(ExperimentError, match="version must be a string like"):
        parse({**_doc(), "version": "v6"})


def test_the_cli_reports_a_bad_file_without_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Proves: `python -m models.experiment` on a broken file exits 2 with one line saying what is wrong."""
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    assert main([str(bad), "--out", str(tmp_path / "o")]) == 2
    assert "is not JSON" in capsys.readouterr().err


def test_stages_chain_into_models_the_grader_loads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Proves: a real two-stage run trains the second stage from the first one's state, mines with the
    first one's model, writes each stage's model, state and record; --skip-done reruns nothing, and
    after a stage of the file changed, only that stage."""
    pytest.importorskip("torch", reason="the training extra (make train-deps) is not installed")
    import numpy as np

    from inspector.grading.model import SegModel
    from models import train as training

    monkeypatch.setattr(training, "WORK_DIR", tmp_path / "work")
    doc = _doc(train={"batch": 8, "crop": 64, "lr0": 1e-3, "hard_windows": 2, "mine_threshold": 0.0})
    doc["version"] = "6.1.0"
    file = tmp_path / "exp.json"
    file.write_text(json.dumps(doc))
    out = tmp_path / "out"
    assert main([str(file), "--out", str(out)]) == 0
    for stage in ("s1", "c1"):
        assert (out / stage / "state.pt").is_file()
        model = SegModel(out / stage / "jewelry_defects.onnx", "jewelry", threads=1)
        assert model.predict(np.full((256, 256, 3), 128, np.uint8)).shape[0] == 6
        assert model.info.version == "6.1.0"  # the recipe's version is what the certificate records
    c1 = json.loads((out / "c1" / "info.json").read_text())
    assert c1["init"] == "s1" and c1["mine_with"] == "s1" and c1["lr0"] == 1e-3 and c1["steps"] > 0
    assert "false_marks" in c1  # the first stage's model was asked for its marks
    before = (out / "c1" / "jewelry_defects.onnx").stat().st_mtime_ns
    assert main([str(file), "--out", str(out), "--skip-done"]) == 0
    assert (out / "c1" / "jewelry_defects.onnx").stat().st_mtime_ns == before
    s1_before = (out / "s1" / "jewelry_defects.onnx").stat().st_mtime_ns
    doc["stages"][1]["train"]["lr0"] = 2e-3  # the recipe changed after c1 was trained
    file.write_text(json.dumps(doc))
    assert main([str(file), "--out", str(out), "--skip-done"]) == 0
    assert (out / "s1" / "jewelry_defects.onnx").stat().st_mtime_ns == s1_before
    assert json.loads((out / "c1" / "info.json").read_text())["lr0"] == 2e-3


def test_the_jewelry_recipe_runs_as_written_scaled_down(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Proves: the committed jewelry recipe, with its scenes and steps scaled down, runs end to end:
    its clean-up continues from and mines the stage before it, the last stage's model is copied where
    `make models` collects the candidates, and the grader loads it."""
    pytest.importorskip("torch", reason="the training extra (make train-deps) is not installed")
    import numpy as np

    from inspector.grading.model import SegModel
    from models import train as training

    monkeypatch.setattr(training, "WORK_DIR", tmp_path / "work")
    doc = json.loads((RECIPES / "jewelry.json").read_text())
    doc["n_train"] = 24
    for stage in doc["stages"]:
        stage["steps"] = 2
        stage["train"].update(n_negatives=2, crop=64)
    file = tmp_path / "jewelry.json"
    file.write_text(json.dumps(doc))
    out, candidate = tmp_path / "out", tmp_path / "candidate"
    assert main([str(file), "--out", str(out), "--threads", "1", "--copy-last-to", str(candidate)]) == 0
    last = doc["stages"][-1]
    info = json.loads((out / last["name"] / "info.json").read_text())
    assert info["steps"] == 2 and info["init"] == last["init"] and info["mine_with"] == last["mine_with"]
    assert "false_marks" in info
    model = SegModel(candidate / "jewelry_defects.onnx", "jewelry", threads=1)
    assert model.predict(np.full((256, 256, 3), 128, np.uint8)).shape[0] == 6
