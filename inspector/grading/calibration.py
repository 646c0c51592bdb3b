"""Decision rule of a defect model: probability thresholds, minimum sizes and the ignored border.

These numbers belong to one trained model (they are fitted on synthetic validation renders by
``python -m models.calibrate``), so they live in a JSON file next to the model
(``<kind>_defects.calibration.json``), validated here. Without that file the grader uses the plain
rule (P(any defect) >= 0.5, no border, no minimum length), which is what the model was trained for.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from inspector.grading.line_shapes import LINE_CLASSES, LINE_FEATURES
from inspector.grading.onnx_files import ModelError

SCHEMA_ID = "inspector.grading-calibration/1"
WEAK_RECALL = 0.3
"""A class found in fewer validation items than this share is named in every grade as not reliably
detected: a grade of "no defects found" must not read as "checked for scratches" when the model
cannot see them."""


class LineClassifier(BaseModel):
    """Logistic crack-or-scratch decision for each thin-line component (``inspector.grading.line_shapes``)."""

    model_config = ConfigDict(extra="forbid")
    features: list[str] = Field(description="shape measures, in the order of mean/scale/coef")
    mean: list[float]
    scale: list[float]
    coef: list[float]
    intercept: float
    scratch_threshold: float = Field(gt=0, le=1, description="P(scratch) at which a line is a scratch")
    fitted_on: str = ""
    validation: dict[str, object] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _check(self) -> LineClassifier:
        n = len(self.features)
        for name in ("mean", "scale", "coef"):
            if len(getattr(self, name)) != n:
                raise ValueError(f"{name} has {len(getattr(self, name))} values for {n} features")
        if any(not s > 0 for s in self.scale):
            raise ValueError("scale values must be positive")
        return self


class ScoredCandidates(BaseModel):
    """Regions judged whole by a scorer beside the model (``inspector.grading.candidates``): one it
    rates at least ``threshold`` is the defect."""

    model_config = ConfigDict(extra="forbid")
    threshold: float = Field(gt=0, le=1, description="score at which a candidate is the defect")
    scorer_sha256: str = Field(default="", description="the scorer this threshold was fitted for")
    fitted_on: str = Field(default="", description="what the scorer was trained on")


class Calibration(BaseModel):
    """How per-pixel probabilities become defects for one model."""

    model_config = ConfigDict(extra="forbid")
    schema_: str = Field(default=SCHEMA_ID, alias="schema")
    kind: str = Field(pattern="^(phone|jewelry)$")
    model_sha256: str = Field(default="", description="the model these numbers were fitted for")
    default_threshold: float = Field(default=0.5, gt=0, lt=1)
    thresholds: dict[str, float] = Field(
        default_factory=dict, description="per class: minimum P(any defect) for a pixel of that class"
    )
    min_length_mm: dict[str, float] = Field(
        default_factory=dict, description="per class: shorter components are ignored"
    )
    border_margin_mm: float = Field(
        default=0.0, ge=0, le=10, description="ignored band along the crop edge (body corners, bezel)"
    )
    edge_classes: list[str] = Field(
        default_factory=list,
        description="classes that belong on the body's edge (chips, dents): the border band spares them",
    )
    weak_classes: dict[str, float] = Field(
        default_factory=dict,
        description="classes the model found in fewer than WEAK_RECALL of the validation items that have "
        "them, with that share: every grade of this kind says they are not reliably detected",
    )
    line_classifier: LineClassifier | None = Field(
        default=None, description="crack-or-scratch by the shape of each thin line (phones)"
    )
    scratch_lines: ScoredCandidates | None = Field(
        default=None, description="scratches from thin lines judged by a trained scorer (jewelry)"
    )
    stone_seats: ScoredCandidates | None = Field(
        default=None,
        description="missing stones only where a trained scorer accepts the network's seat (jewelry)",
    )
    loose_stones: ScoredCandidates | None = Field(
        default=None,
        description="loose stones only where a trained scorer accepts the network's region (jewelry)",
    )
    fitted_on: str = ""
    validation: dict[str, object] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _check(self) -> Calibration:
        if self.schema_ != SCHEMA_ID:
            raise ValueError(f"schema must be {SCHEMA_ID!r}, got {self.schema_!r}")
        for name, t in self.thresholds.items():
            if not 0 < t < 1:
                raise ValueError(f"thresholds.{name}: {t} is not a probability strictly between 0 and 1")
        for name, v in self.min_length_mm.items():
            if v < 0:
                raise ValueError(f"min_length_mm.{name}: {v} is negative")
        for name, r in self.weak_classes.items():
            if not 0 <= r < WEAK_RECALL:
                raise ValueError(f"weak_classes.{name}: {r} is not a share of items in 0..{WEAK_RECALL}")
        return self

    def threshold(self, cls: str) -> float:
        return self.thresholds.get(cls, self.default_threshold)

    def check_classes(self, classes: tuple[str, ...], source: str) -> None:
        named = set(self.thresholds) | set(self.min_length_mm) | set(self.edge_classes)
        named |= set(self.weak_classes)
        unknown = sorted(named - set(classes[1:]))
        if unknown:
            raise ModelError(f"{source}: calibration names unknown class(es) {', '.join(unknown)}")
        if self.scratch_lines is not None and "scratch" not in classes:
            raise ModelError(f"{source}: scratch_lines needs a model class 'scratch'")
        if self.stone_seats is not None and "missing_stone" not in classes:
            raise ModelError(f"{source}: stone_seats needs a model class 'missing_stone'")
        if self.loose_stones is not None and "loose_stone" not in classes:
            raise ModelError(f"{source}: loose_stones needs a model class 'loose_stone'")
        if self.line_classifier is not None:
            lacking = [c for c in LINE_CLASSES if c not in classes]
            if lacking:
                raise ModelError(f"{source}: the line classifier needs model classes {', '.join(lacking)}")
            if tuple(self.line_classifier.features) != LINE_FEATURES:
                raise ModelError(
                    f"{source}: the line classifier was fitted on features "
                    f"{', '.join(self.line_classifier.features)}, but this grader measures "
                    f"{', '.join(LINE_FEATURES)}: re-run `python -m models.calibrate`"
                )


def calibration_path(model_path: str | Path) -> Path:
    p = Path(model_path)
    return p.with_name(p.stem + ".calibration.json")


EDGE_CLASSES: dict[str, list[str]] = {"phone": ["chip"], "jewelry": []}
"""Classes that live on the body's edge: they count on the mat around a phone and in the border band."""


def plain_rule(kind: str, classes: tuple[str, ...]) -> Calibration:
    """The rule of a model without a fitted file: P(any defect) >= 0.5 everywhere, and the edge
    classes it has still count on the body's edge (a margin model shows a chip on the mat)."""
    return Calibration(kind=kind, edge_classes=[c for c in EDGE_CLASSES.get(kind, []) if c in classes])


def load_calibration(model_path: str | Path, kind: str, classes: tuple[str, ...], sha256: str) -> Calibration:
    """The calibration next to ``model_path``; the plain rule when there is none; ModelError if broken."""
    path = calibration_path(model_path)
    if not path.is_file():
        return plain_rule(kind, classes)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ModelError(f"{path}: calibration is not readable JSON ({exc})") from None
    try:
        cal = Calibration.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '(top level)'}: {e['msg'].removeprefix('Value error, ')}"
            for e in exc.errors()
        )
        raise ModelError(f"{path}: invalid calibration: {problems}") from None
    if cal.kind != kind:
        raise ModelError(f"{path}: calibration is for a {cal.kind!r} model, expected {kind!r}")
    cal.check_classes(classes, str(path))
    if cal.model_sha256 and cal.model_sha256 != sha256:
        warnings.warn(
            f"{path} was fitted for model {cal.model_sha256[:12]}, not {sha256[:12]}: "
            "re-run `python -m models.calibrate`",
            stacklevel=2,
        )
    return cal


def scored_rules(cal: Calibration) -> dict[str, ScoredCandidates]:
    """The calibration's candidate rules by name (``ScorerKind.name``)."""
    rules = {
        "scratch_lines": cal.scratch_lines,
        "stone_seats": cal.stone_seats,
        "loose_stones": cal.loose_stones,
    }
    return {k: v for k, v in rules.items() if v is not None}
