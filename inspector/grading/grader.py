"""Frame -> item -> defect map -> measurements in millimetres -> grade with reasons and an overlay."""

from __future__ import annotations

import time
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from inspector.grading.calibration import Calibration
from inspector.grading.candidates import CandidateScorer, mark
from inspector.grading.components import ClassMeasurement, class_components, summarize
from inspector.grading.decide import (
    decide,
    first_grade,
    grade_reasons,
    lowest_grade_classes,
)
from inspector.grading.item_damage import DamageEstimate, ItemDamage
from inspector.grading.known_features import known_feature_mask, layout_for
from inspector.grading.line_shapes import LINE_CLASSES, reclassify_lines
from inspector.grading.locate import DEFAULT_PHONE_MM, Located
from inspector.grading.loose_stones import loose_stones
from inspector.grading.model import ModelInfo, SegModel, default_models_dir
from inspector.grading.onnx_files import ModelError
from inspector.grading.overlay import draw_overlay, encode_png
from inspector.grading.pixel_labels import most_likely_defect
from inspector.grading.scales import SCALES_DIR, Scale, load_scale
from inspector.grading.stone_seats import stone_seats
from inspector.grading.surface_lines import surface_lines

KINDS = ("phone", "jewelry")
DAMAGE_HEAD_KINDS = ("phone",)  # kinds with an item-level damage head (jewelry: no real photos yet)
SIDES = ("screen", "back")
MAX_FRAME_PIXELS = 40_000_000


class GradingError(ValueError):
    """The input cannot be graded (empty image, unknown kind or side)."""


@dataclass
class Defect:
    cls: str
    length_mm: float
    area_mm2: float
    contour_frame: np.ndarray  # Nx2 int32 outline in frame pixels


@dataclass
class GradeResult:
    """Everything the station shows and signs about one graded frame."""

    kind: str
    side: str
    grade: str
    grade_title: str
    sellable: bool
    reasons: list[str]  # the last ones are the caveats, when there are any
    measurements: dict[str, ClassMeasurement]
    defects: list[Defect]
    damage_score: float  # 0..1: the item-level damage probability (phones), else the pixel model's unease
    item_found: bool
    item_quad: np.ndarray
    model: ModelInfo
    scale: dict[str, str]
    timings_ms: dict[str, float]
    overlay: np.ndarray = field(repr=False)  # BGR frame with defects outlined, legend and grade
    # how the item was framed for the model, and the decided class per crop pixel (0 = none): what
    # the evaluation scores against the truth, so it need not find and infer the frame again
    located: Located | None = field(default=None, repr=False)
    labels: np.ndarray | None = field(default=None, repr=False)
    # what this model cannot vouch for, the same for every frame it grades (also the last reasons)
    caveats: list[str] = field(default_factory=list)
    # the item-level answer of the pretrained backbone (phones): calibrated probability and coarse map
    damage: DamageEstimate | None = None
    # marks of the lowest-grade classes that did not count because the item-level model did not flag
    # the item: shown to the operator as possible damage, never graded by themselves
    suspected: list[Defect] = field(default_factory=list)

    @property
    def damage_probability(self) -> float:
        return self.damage.probability if self.damage is not None else self.damage_score

    def overlay_png(self) -> bytes:
        return encode_png(self.overlay)

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable summary (no image)."""
        return {
            "kind": self.kind,
            "side": self.side,
            "grade": self.grade,
            "grade_title": self.grade_title,
            "sellable": self.sellable,
            "reasons": list(self.reasons),
            "caveats": list(self.caveats),
            "measurements": {k: v.to_dict() for k, v in self.measurements.items()},
            "damage_score": round(float(self.damage_score), 4),
            "damage_probability": round(float(self.damage_probability), 4),
            "damage_map": self.damage.to_dict()["tiles"] if self.damage is not None else None,
            "item_found": self.item_found,
            "item_quad": [[round(float(x), 1), round(float(y), 1)] for x, y in self.item_quad],
            "model": self.model.to_dict(),
            "scale": dict(self.scale),
            "timings_ms": {k: round(float(v), 2) for k, v in self.timings_ms.items()},
        }


def border_band(
    shape: tuple[int, ...], cal: Calibration, mm_per_px: tuple[float, float], inset_px: int = 0
) -> np.ndarray | None:
    """Crop pixels where only the edge classes count: the mat around the body (``inset_px``) plus the
    calibration's ignored band along the body's border. None when there is no such band."""
    bx = inset_px + round(cal.border_margin_mm / float(mm_per_px[0]))
    by = inset_px + round(cal.border_margin_mm / float(mm_per_px[1]))
    h, w = shape[:2]
    if not (bx or by) or 2 * bx >= w or 2 * by >= h:
        return None
    band = np.ones((h, w), bool)
    band[by : h - by, bx : w - bx] = False
    return band


def damage_score(probs: np.ndarray, classes: tuple[str, ...], cal: Calibration, loc: Located) -> float:
    """How sure the model is that some defect is present: mean of the 30 most defect-like pixels,
    where inside the border band only the edge classes count."""
    defect_prob = 1.0 - probs[0]
    band = border_band(defect_prob.shape, cal, loc.mm_per_px, loc.inset_px)
    if band is not None:
        edge = [classes.index(c) for c in cal.edge_classes if c in classes]
        edge_prob = probs[edge].sum(axis=0) if edge else np.zeros_like(defect_prob)
        defect_prob = np.where(band, edge_prob, defect_prob)
    k = min(30, defect_prob.size)
    return float(np.partition(defect_prob.reshape(-1), -k)[-k:].mean())


def calibrated_labels(
    probs: np.ndarray,
    classes: tuple[str, ...],
    cal: Calibration,
    mm_per_px: tuple[float, float],
    inset_px: int = 0,
    best: np.ndarray | None = None,
) -> np.ndarray:
    """Per-pixel class map under a model's calibration: the most likely defect class (``best``, when
    the caller has it already), kept when P(any defect) reaches that class's threshold; on the mat
    around the body and inside the ignored border band only the edge classes (chips and dents live
    on the edge)."""
    labels = most_likely_defect(probs) if best is None else best.copy()
    defect_p = 1.0 - probs[0]
    thr = np.array([1.0] + [cal.threshold(c) for c in classes[1:]], np.float32)
    labels[defect_p < thr[labels]] = 0
    band = border_band(labels.shape, cal, mm_per_px, inset_px)
    if band is not None:
        for name in cal.edge_classes:
            band &= labels != classes.index(name)
        labels[band] = 0
    return labels


def measure_labels(
    labels: np.ndarray,
    loc: Located,
    classes: tuple[str, ...],
    scale: Scale,
    min_length_mm: dict[str, float] | None = None,
) -> tuple[dict[str, ClassMeasurement], list[Defect]]:
    """Connected components of a per-pixel class map -> counts, lengths and areas in millimetres.

    Used on the model's output and, in evaluation, on the ground-truth labels (same rules for both).
    """
    meas: dict[str, ClassMeasurement] = {}
    defects: list[Defect] = []
    for ci, name in enumerate(classes):
        if ci == 0 or name not in scale.classes:
            continue
        floor = (min_length_mm or {}).get(name, 0.0)
        kept = [
            c
            for c in class_components(labels, ci, scale.classes[name].min_area_mm2, loc.mm_per_px)
            if c.length_mm >= floor
        ]
        for c in kept:
            cnts, _ = cv2.findContours(c.mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
            outline = max(cnts, key=cv2.contourArea).reshape(-1, 1, 2).astype(np.float32)
            pts = outline + np.array([c.x, c.y], np.float32)
            frame_pts = cv2.perspectiveTransform(pts, loc.to_frame).reshape(-1, 2)
            defects.append(Defect(name, c.length_mm, c.area_mm2, np.round(frame_pts).astype(np.int32)))
        meas[name] = summarize(kept)
    return meas, defects


def apply_scored_candidates(
    labels: np.ndarray,
    probs: np.ndarray,
    loc: Located,
    classes: tuple[str, ...],
    cal: Calibration,
    scorers: dict[str, CandidateScorer],
    best: np.ndarray | None = None,
) -> np.ndarray:
    """The label map under the calibration's candidate rules (jewelry): missing stones only where the
    seat scorer accepts the network's seat, loose stones only where the loose-stone scorer accepts the
    network's region; scratches added where the line scorer accepts a stroke.
    ``best``: ``most_likely_defect(probs)`` when the caller has it."""

    def scorer(name: str) -> CandidateScorer:
        if name not in scorers:
            raise ModelError(f"the calibration asks for {name}, but no such scorer is loaded")
        return scorers[name]

    if cal.stone_seats is not None:
        mi = classes.index("missing_stone")
        seats = stone_seats(loc.crop, probs, classes, loc.mm_per_px, best)
        p = scorer("stone_seats").scores(seats)
        labels = mark(np.where(labels == mi, 0, labels), seats, p, cal.stone_seats.threshold, mi)
    if cal.loose_stones is not None:
        li = classes.index("loose_stone")
        regions = loose_stones(loc.crop, probs, classes, loc.mm_per_px, best)
        p = scorer("loose_stones").scores(regions)
        labels = mark(np.where(labels == li, 0, labels), regions, p, cal.loose_stones.threshold, li)
    if cal.scratch_lines is not None:
        lines = surface_lines(loc.crop, probs, classes, loc.mm_per_px, cal.min_length_mm.get("scratch", 0.0))
        p = scorer("scratch_lines").scores(lines)
        labels = mark(labels, lines, p, cal.scratch_lines.threshold, classes.index("scratch"))
    return labels


def drop_known(labels: np.ndarray, known: np.ndarray, share: float = 0.5) -> np.ndarray:
    """The label map without marks on known features (a lens rim, the logo): pixels inside them are
    cleared, and so is a whole mark with at least ``share`` of it inside one (the rest of it is the same
    edge, blurred); a crack that only crosses a feature keeps its outside part."""
    marked = (labels > 0).astype(np.uint8)
    n, comp = cv2.connectedComponents(marked, connectivity=8)
    total = np.bincount(comp.reshape(-1), minlength=n)
    inside = np.bincount(comp[known], minlength=n)
    mostly = inside >= share * np.maximum(total, 1)
    mostly[0] = False
    out = labels.copy()
    out[mostly[comp] | known] = 0
    return out


def line_min_area(scale: Scale) -> float:
    """Smallest component the scale measures as a crack or a scratch: what the line classifier sees."""
    return min(scale.classes[c].min_area_mm2 for c in LINE_CLASSES if c in scale.classes)


class Grader:
    """Grades camera frames of phones and jewelry. Create with :meth:`load`; thread-compatible per call."""

    def __init__(
        self,
        models: dict[str, SegModel],
        scales: dict[str, Scale],
        item_damage: dict[str, ItemDamage] | None = None,
    ) -> None:
        self.models = models
        self.scales = scales
        self.item_damage = item_damage or {}

    @classmethod
    def load(
        cls,
        models_dir: str | Path | None = None,
        scales_dir: str | Path | None = None,
        kinds: tuple[str, ...] = KINDS,
        threads: int = 2,
    ) -> Grader:
        """Load the ONNX models and grade scales; raises ModelError / GradeScaleError with a clear message."""
        mdir = Path(models_dir) if models_dir is not None else default_models_dir()
        sdir = Path(scales_dir) if scales_dir is not None else SCALES_DIR
        models, scales, item_damage = {}, {}, {}
        for kind in kinds:
            if kind not in KINDS:
                raise GradingError(f"unknown kind {kind!r}: expected one of {', '.join(KINDS)}")
            scales[kind] = load_scale(sdir / f"{kind}.json")
            models[kind] = SegModel(mdir / f"{kind}_defects.onnx", kind, threads)
            missing = [c for c in scales[kind].classes if c not in models[kind].info.classes]
            if missing:
                raise ModelError(
                    f"{models[kind].info.path}: model has no output for scale class(es) {', '.join(missing)}"
                )
            if kind in DAMAGE_HEAD_KINDS:
                item_damage[kind] = ItemDamage(mdir, kind, threads)
        return cls(models, scales, item_damage)

    def grade(
        self,
        image_bgr: np.ndarray,
        kind: str,
        side: str = "screen",
        *,
        phone_size_mm: tuple[float, float] | None = None,
        phone_model: str | None = None,
        measured_elsewhere: Collection[str] = (),
    ) -> GradeResult:
        """Grade one frame. ``side`` is "screen" or "back" for phones (ignored for jewelry);
        ``phone_size_mm`` (width, height of the body) makes phone millimetres exact when known;
        ``phone_model`` (as the probe reports it) places the back's lenses, flash and logo from the
        feature catalogue, which marks there never count (other phones: they are looked for);
        ``measured_elsewhere``: classes other photos measure (a phone's chips, on the side camera's),
        left out of this model's caveat about what it rarely finds."""
        t0 = time.perf_counter()
        if kind not in self.models:
            raise GradingError(f"no model loaded for kind {kind!r} (loaded: {', '.join(self.models)})")
        if kind == "phone" and side not in SIDES:
            raise GradingError(f"unknown side {side!r}: expected 'screen' or 'back'")
        if not isinstance(image_bgr, np.ndarray) or image_bgr.ndim not in (2, 3) or image_bgr.size == 0:
            raise GradingError("image must be a non-empty HxWx3 BGR array")
        if image_bgr.shape[0] * image_bgr.shape[1] > MAX_FRAME_PIXELS:
            raise GradingError(f"image too large ({image_bgr.shape[1]}x{image_bgr.shape[0]} pixels)")
        if image_bgr.ndim == 2:
            image_bgr = cv2.cvtColor(image_bgr, cv2.COLOR_GRAY2BGR)
        elif image_bgr.shape[2] == 4:
            image_bgr = cv2.cvtColor(image_bgr, cv2.COLOR_BGRA2BGR)
        if image_bgr.dtype != np.uint8:
            raise GradingError(f"image must be uint8, got {image_bgr.dtype}")
        side = side if kind == "phone" else "top"
        model, scale = self.models[kind], self.scales[kind]

        loc = self.locate(image_bgr, kind, phone_size_mm, phone_model)
        t1 = time.perf_counter()
        probs = model.predict(loc.crop)
        t_item = time.perf_counter()
        damage = (
            self.item_damage[kind].estimate(image_bgr, loc.quad if loc.found else None)
            if kind in self.item_damage
            else None
        )
        t2 = time.perf_counter()
        gated = lowest_grade_classes(scale) if damage is not None and not damage.flagged else ()
        known = self.known_features(loc, side, phone_model)
        meas, defects, score, labels = self._measure(
            probs, loc, model.info.classes, scale, model.calibration, model.scorers, known
        )
        # each class is measured on its own, so a gated class's marks leave the others' figures as they are
        suspected = [d for d in defects if d.cls in gated]
        if gated:
            defects = [d for d in defects if d.cls not in gated]
            meas = {c: summarize([]) if c in gated else m for c, m in meas.items()}
            labels = labels.copy()
            for name in gated:
                labels[labels == model.info.classes.index(name)] = 0
        if damage is not None:
            score = damage.probability
        t3 = time.perf_counter()
        decision = decide(
            meas,
            scale,
            damage.flagged if damage is not None else None,
            damage.probability if damage is not None else 0.0,
        )
        grade = scale.grades[decision.index]
        caveats = self._caveats(model.calibration, scale, measured_elsewhere)
        reasons = (
            grade_reasons(grade.grade, meas, decision.failed, scale, side, loc.found)
            + decision.held_back
            + caveats
        )
        t4 = time.perf_counter()
        overlay = self._overlay(image_bgr, loc, defects)
        t5 = time.perf_counter()
        return GradeResult(
            kind=kind,
            side=side,
            grade=grade.grade,
            grade_title=grade.title,
            sellable=grade.sellable,
            reasons=reasons,
            measurements=meas,
            defects=defects,
            damage_score=score,
            item_found=loc.found,
            item_quad=loc.quad,
            model=model.info,
            scale={"name": scale.name, "version": scale.version},
            timings_ms={
                "locate": (t1 - t0) * 1e3,
                "infer": (t_item - t1) * 1e3,
                "item_damage": (t2 - t_item) * 1e3,
                "measure": (t3 - t2) * 1e3,
                "grade": (t4 - t3) * 1e3,
                "overlay": (t5 - t4) * 1e3,
                "total": (t5 - t0) * 1e3,
            },
            overlay=overlay,
            located=loc,
            labels=labels,
            caveats=caveats,
            damage=damage,
            suspected=suspected,
        )

    # ------------------------------------------------------------------ steps

    def locate(
        self,
        image_bgr: np.ndarray,
        kind: str,
        phone_size_mm: tuple[float, float] | None = None,
        phone_model: str | None = None,
    ) -> Located:
        """The item's crop as ``grade`` frames it: a catalogued phone model gives its body's size."""
        layout = layout_for(phone_model) if kind == "phone" else None
        size = phone_size_mm or (layout.size_mm if layout else DEFAULT_PHONE_MM)
        return self.models[kind].locate(image_bgr, size)

    @staticmethod
    def known_features(loc: Located, side: str, phone_model: str | None = None) -> np.ndarray | None:
        """Crop pixels on a phone back's known features (``known_features``), where ``grade`` counts no
        mark; None for a screen, a jewel or an item not found."""
        if side != "back" or not loc.found:
            return None
        return known_feature_mask(loc.crop, loc.inset_px, loc.mm_per_px, phone_model)

    @staticmethod
    def _measure(
        probs: np.ndarray,
        loc: Located,
        classes: tuple[str, ...],
        scale: Scale,
        cal: Calibration,
        scorers: dict[str, CandidateScorer] | None = None,
        known: np.ndarray | None = None,
    ) -> tuple[dict[str, ClassMeasurement], list[Defect], float, np.ndarray]:
        """``known``: crop pixels on the item's known features, where no mark counts."""
        best = most_likely_defect(probs)
        labels = calibrated_labels(probs, classes, cal, loc.mm_per_px, loc.inset_px, best)
        if cal.line_classifier is not None:
            labels = reclassify_lines(
                labels, probs, loc.crop, classes, cal.line_classifier, line_min_area(scale), loc.mm_per_px
            )
        labels = apply_scored_candidates(labels, probs, loc, classes, cal, scorers or {}, best)
        if known is not None:
            labels = drop_known(labels, known)
        meas, defects = measure_labels(labels, loc, classes, scale, cal.min_length_mm)
        return meas, defects, damage_score(probs, classes, cal, loc), labels

    @staticmethod
    def _decide(meas: dict[str, ClassMeasurement], scale: Scale) -> tuple[int, list[str]]:
        """First grade whose limits all hold (``decide.first_grade``; the evaluation calls it)."""
        return first_grade(meas, scale)

    @staticmethod
    def _caveats(cal: Calibration, scale: Scale, measured_elsewhere: Collection[str] = ()) -> list[str]:
        """The classes this model rarely finds (``Calibration.weak_classes``), said with every grade."""
        weak = [
            f"{scale.classes[c].plural} {round(100 * r)} %"
            for c, r in cal.weak_classes.items()
            if c in scale.classes and c not in measured_elsewhere
        ]
        return (
            ["not reliably detected by this model (share found in tests): " + ", ".join(weak)] if weak else []
        )

    @staticmethod
    def _overlay(image: np.ndarray, loc: Located, defects: list[Defect]) -> np.ndarray:
        """The photo with the item outlined and each counted defect filled (``overlay.draw_overlay``)."""
        return draw_overlay(image, loc.quad, [(d.cls, d.contour_frame) for d in defects])
