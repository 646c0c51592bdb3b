"""Building a jewelry candidate scorer: rendered pieces in, an ONNX scorer the grader loads out, with
what it was trained on and how it did on the pieces it did not see."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from inspector.grading.candidates import CandidateScorer
from inspector.grading.loose_stones import LOOSE_STONES, loose_stones
from inspector.grading.model import SegModel
from inspector.grading.stone_seats import STONE_SEATS, stone_seats
from inspector.grading.surface_lines import FEATURES, SCRATCH_LINES, surface_lines
from models.fit_candidates import PieceCandidates, report
from models.synth.scene import render_scene

pytest.importorskip("torch")
pytestmark = pytest.mark.slow

MODELS_DIR = Path(__file__).resolve().parents[1] / "models"
REPO = MODELS_DIR.parent
SMALL = ["--n", "60", "--procs", "1", "--minutes", "0.05"]
TARGETS = {
    "scratch_lines": (SCRATCH_LINES, surface_lines, ["scratch"], 8),
    "stone_seats": (STONE_SEATS, stone_seats, ["missing_stone"], 5),
    "loose_stones": (LOOSE_STONES, loose_stones, ["loose_stone"], 1),
}


def _fit(models_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "models.fit_candidates", "--models-dir", str(models_dir), *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=240,
    )


def test_fit_writes_the_scorers_the_grader_loads(tmp_path: Path) -> None:
    """A small run renders the pieces once, trains every scorer on them, and writes each beside the
    model: it takes the grader's measures of its candidates, names the segmentation model whose
    probabilities it read, and reports its figures on the fifth of the pieces it was not trained on."""
    shutil.copy(MODELS_DIR / "jewelry_defects.onnx", tmp_path / "jewelry_defects.onnx")
    run = _fit(tmp_path, "--target", *sorted(TARGETS), *SMALL)
    assert run.returncode == 0, run.stderr
    assert run.stdout.count("pieces measured") == 1
    seg = SegModel(tmp_path / "jewelry_defects.onnx", "jewelry")
    for target, (kind, find, defects, seed) in TARGETS.items():
        assert f"[jewelry {target}] on 12 pieces kept out" in run.stdout
        scorer = CandidateScorer(kind.path(tmp_path / "jewelry_defects.onnx"), kind)
        assert (
            scorer.segmentation_sha256
            == hashlib.sha256((tmp_path / "jewelry_defects.onnx").read_bytes()).hexdigest()
        )
        scene = render_scene("jewelry", seed=seed, defects=defects, only_distractors=())
        loc = seg.locate(scene.image)
        found = find(loc.crop, seg.predict(loc.crop), seg.info.classes, loc.mm_per_px)
        p = scorer.scores(found)
        assert len(found) > 0 and p.shape == (len(found),) and ((p >= 0) & (p <= 1)).all()
        meta = scorer.session.get_modelmeta().custom_metadata_map
        held = json.loads(meta["held_out"])
        assert held["pieces"] == 12
        assert meta["trained_on"].startswith("48 rendered pieces")


def test_fit_refuses_a_missing_model_and_too_few_pieces(tmp_path: Path) -> None:
    """The scorer reads a segmentation model's output: without one, or with a handful of pieces, the
    command says so instead of training on nothing."""
    for args, message in (
        (["--target", "stone_seats", "--n", "60"], "jewelry_defects.onnx not found"),
        (["--target", "scratch_lines", "--n", "5"], "at least 20 pieces"),
        (["--n", "60"], "--target"),
    ):
        run = _fit(tmp_path, *args)
        assert run.returncode != 0
        assert message in run.stderr


def test_report_counts_pieces_found_and_clean_pieces_marked() -> None:
    """Per threshold: a scratched piece counts as found only when a true scratch line passes, and a
    clean piece as marked when any line passes."""
    f = np.zeros((2, len(FEATURES)), np.float32)
    pieces = [
        PieceCandidates(1, f, np.array([1.0, 0.0], np.float32), has=True, clean=False),
        PieceCandidates(2, f, np.array([0.0, 0.0], np.float32), has=False, clean=True),
    ]
    scores = [np.array([0.6, 0.95], np.float32), np.array([0.4, 0.8], np.float32)]
    r = report(pieces, scores)
    assert r["by_threshold"]["0.5"] == {"found": 1.0, "clean_marked": 1.0}
    assert r["by_threshold"]["0.7"] == {"found": 0.0, "clean_marked": 1.0}
    assert r["by_threshold"]["0.9"] == {"found": 0.0, "clean_marked": 0.0}
    assert r["auroc"] == pytest.approx(1 / 3, abs=1e-3)  # 0.6 beats one of 0.95, 0.4, 0.8
