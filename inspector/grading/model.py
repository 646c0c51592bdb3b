"""ONNX segmentation model wrapper: onnxruntime only, clear errors for missing or damaged files."""

from __future__ import annotations

import hashlib
import json
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from inspector.grading.calibration import load_calibration, scored_rules
from inspector.grading.candidates import CandidateScorer
from inspector.grading.locate import DEFAULT_PHONE_MM, MAX_MARGIN_PX, Located, locate, phone_margin
from inspector.grading.onnx_files import ModelError, open_onnx
from inspector.grading.scorer_kinds import SCORER_KINDS

FRAMING_DEFAULTS = {"resample": "linear", "margin_px": "0"}
"""What a model file without these metadata keys means: models before v3 (bilinear crops) and v5
(no mat around the phone)."""


SHIPPED_MODELS_DIR = Path(__file__).resolve().parents[2] / "models"
"""The shipped ONNX files: the ``models`` folder installed beside ``inspector`` (the repository root
in a checkout, site-packages in a wheel), found by path so the product never imports the training
package (and a ``tests/models`` folder on the path cannot stand in for it)."""


def default_models_dir() -> Path:
    return SHIPPED_MODELS_DIR


@dataclass(frozen=True)
class ModelInfo:
    name: str
    version: str
    sha256: str
    path: str
    classes: tuple[str, ...]  # index 0 is background

    def to_dict(self) -> dict[str, object]:
        return {"name": self.name, "version": self.version, "sha256": self.sha256}


class SegModel:
    """Per-pixel class probabilities for a normalised item crop."""

    def __init__(self, path: Path, kind: str, threads: int = 2) -> None:
        self.kind = kind
        self.session, blob = open_onnx(path, f"{kind} model", "build it with `make models`", threads)
        meta = self.session.get_modelmeta().custom_metadata_map
        try:
            classes = tuple(json.loads(meta["classes"]))
            self.input_size = tuple(json.loads(meta["input_size"]))
        except (KeyError, ValueError):
            raise ModelError(f"{path}: ONNX file lacks the grading metadata (classes, input_size)") from None
        if meta.get("kind") != kind:
            raise ModelError(f"{path}: this is a {meta.get('kind')!r} model, expected {kind!r}")
        resample = meta.get("resample", FRAMING_DEFAULTS["resample"])
        if resample not in ("linear", "area"):
            raise ModelError(f"{path}: unknown resample {resample!r} in its metadata (expected linear/area)")
        # How the crop was resampled in training; the locator must do the same at run time.
        self.antialias = resample == "area"
        # Mat kept around a phone body in the crop (models since v5; older ones end at the body).
        try:
            self.margin_px = phone_margin(meta.get("margin_px", FRAMING_DEFAULTS["margin_px"]))
            if kind != "phone" and self.margin_px:
                raise ValueError("only phone crops have a margin")
        except ValueError:
            raise ModelError(
                f"{path}: margin_px {meta.get('margin_px')!r} in its metadata is not a phone crop "
                f"margin of 0..{MAX_MARGIN_PX} pixels"
            ) from None
        self.input_name = self.session.get_inputs()[0].name
        self.info = ModelInfo(
            name=meta.get("name", path.stem),
            version=meta.get("version", "0"),
            sha256=hashlib.sha256(blob).hexdigest(),
            path=str(path),
            classes=classes,
        )
        # The decision rule fitted for this model travels with it (also when models are regrouped).
        self.calibration = load_calibration(path, kind, classes, self.info.sha256)
        self.scorers = self._scorers(path)

    def _scorers(self, path: Path) -> dict[str, CandidateScorer]:
        """The candidate scorers the calibration relies on (jewelry); ModelError when one is gone."""
        out = {}
        for name, rule in scored_rules(self.calibration).items():
            kind = SCORER_KINDS[name]
            scorer = CandidateScorer(kind.path(path), kind)
            if scorer.segmentation_sha256 and scorer.segmentation_sha256 != self.info.sha256:
                warnings.warn(
                    f"{scorer.path} was trained on the probabilities of model "
                    f"{scorer.segmentation_sha256[:12]}, not {self.info.sha256[:12]}: re-run "
                    f"`python -m models.fit_candidates --target {name}`",
                    stacklevel=3,
                )
            if rule.scorer_sha256 and rule.scorer_sha256 != scorer.sha256:
                warnings.warn(
                    f"{scorer.path} is not the scorer the calibration was fitted for "
                    f"({scorer.sha256[:12]}, not {rule.scorer_sha256[:12]}): "
                    "re-run `python -m models.calibrate`",
                    stacklevel=3,
                )
            out[name] = scorer
        return out

    def locate(self, image_bgr: np.ndarray, phone_size_mm: tuple[float, float] = DEFAULT_PHONE_MM) -> Located:
        """Find the item and frame it exactly as this model was trained to see it."""
        return locate(image_bgr, self.kind, phone_size_mm, self.antialias, self.margin_px)

    def predict(self, crop_bgr: np.ndarray) -> np.ndarray:
        """CxHxW float32 probabilities for an HxWx3 uint8 BGR crop."""
        x = (crop_bgr.astype(np.float32) * (1.0 / 255.0)).transpose(2, 0, 1)[None]
        out = self.session.run(None, {self.input_name: np.ascontiguousarray(x)})[0]
        return np.asarray(out[0], np.float32)
