"""Candidates judged whole: a region of the crop, its measures, and a small trained scorer for them.

Three of the jewelry classes are decided per region rather than per pixel: scratches (thin strokes of
the crop, ``inspector.grading.surface_lines``), missing stones (the network's own dark-seat marks,
``inspector.grading.stone_seats``) and loose stones (its loose-stone marks,
``inspector.grading.loose_stones``). Each has a scorer: an MLP exported to ONNX beside the model
(``python -m models.fit_candidates``) that turns a region's measures into P(it is the defect). The
model's calibration says at which score a region counts (``Calibration.scratch_lines``,
``.stone_seats`` and ``.loose_stones``); without that entry the scorer is not used.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from inspector.grading.components import Component
from inspector.grading.onnx_files import ModelError, open_onnx


@dataclass(frozen=True)
class Candidate:
    """One region of the crop and its measures (in its scorer's feature order)."""

    part: Component
    features: np.ndarray


@dataclass(frozen=True)
class ScorerKind:
    """What one scorer judges: its file beside the model, its measures, its rule's field, and how a
    crop's candidates are found (crop, probabilities, classes, mm per pixel)."""

    name: str  # the calibration field and the --target of models.fit_candidates
    what: str  # in error messages
    suffix: str  # <kind>_<suffix>.onnx beside <kind>_defects.onnx
    features: tuple[str, ...]
    find: Callable[[np.ndarray, np.ndarray, tuple[str, ...], tuple[float, float]], list[Candidate]]

    def path(self, model_path: str | Path) -> Path:
        p = Path(model_path)
        return p.with_name(p.stem.removesuffix("_defects") + f"_{self.suffix}.onnx")


class CandidateScorer:
    """P(defect) per candidate: an ONNX classifier with its feature names in the metadata."""

    def __init__(self, path: Path, kind: ScorerKind, threads: int = 1) -> None:
        rebuild = (
            f"the calibration uses it; rebuild it with `python -m models.fit_candidates --target {kind.name}`"
        )
        self.session, blob = open_onnx(path, kind.what, rebuild, threads)
        meta = self.session.get_modelmeta().custom_metadata_map
        try:
            features = tuple(json.loads(meta["features"]))
        except (KeyError, ValueError):
            raise ModelError(f"{path}: ONNX file lacks the scorer metadata (features)") from None
        if features != kind.features:
            raise ModelError(
                f"{path}: the scorer was trained on features {', '.join(features)}, but this grader "
                f"measures {', '.join(kind.features)}: re-run `python -m models.fit_candidates "
                f"--target {kind.name}`"
            )
        self.kind = kind
        self.path = path
        self.sha256 = hashlib.sha256(blob).hexdigest()
        self.segmentation_sha256 = meta.get("segmentation_sha256", "")
        self.trained_on = meta.get("trained_on", "")
        self.input_name = self.session.get_inputs()[0].name

    def scores(self, candidates: list[Candidate]) -> np.ndarray:
        """P(defect) of each candidate."""
        if not candidates:
            return np.zeros(0, np.float32)
        x = np.ascontiguousarray(np.stack([c.features for c in candidates]), np.float32)
        (probs,) = self.session.run(None, {self.input_name: x})
        return np.asarray(probs, np.float32).reshape(-1)


def mark(
    labels: np.ndarray, candidates: list[Candidate], scores: np.ndarray, threshold: float, cls: int
) -> np.ndarray:
    """The label map with every candidate scored at least ``threshold`` marked as class ``cls``."""
    out = labels.copy()
    for c, p in zip(candidates, scores, strict=True):
        if p >= threshold:
            c.part.box(out)[c.part.mask > 0] = cls
    return out
