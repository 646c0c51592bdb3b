"""Camera grading: find the item, segment its defects with an ONNX model, measure, grade.

Public API (the inspection pipeline and ``inspector grade`` use exactly this)::

    from inspector.grading import Grader, GradeResult

    grader = Grader.load()                      # both models + scales; ModelError / GradeScaleError if broken
    result = grader.grade(frame_bgr, "phone", side="screen")   # or ("jewelry"); numpy HxWx3 uint8 BGR
    result.grade            # "A".."D" (from inspector/grading/scales/<kind>.json)
    result.grade_title      # "Light wear"
    result.reasons          # ["B: 2 scratches, 18 mm total, on the screen", "not A: scratches: 2 found, ..."]
    result.measurements     # {"scratch": ClassMeasurement(count, total_length_mm, max_length_mm, ...)}
    result.defects          # [Defect(cls, length_mm, area_mm2, contour_frame)] outlines in frame pixels
    result.damage_score     # 0..1 item-level "is anything damaged" score
    result.overlay          # BGR frame with defects outlined, legend and grade (for the stream)
    result.overlay_png()    # the same as PNG bytes
    result.model            # ModelInfo(name, version, sha256, path, classes)
    result.timings_ms       # {"locate", "infer", "item_damage", "measure", "grade", "overlay", "total"}
    result.damage_probability  # phones: calibrated P(lowest-grade damage) from the item-level model
    result.to_dict()        # JSON-ready (no image); measurements also as integer um / um^2 for signing

Phones: pass ``phone_size_mm=(width, height)`` of the body when the model is known (USB identify),
otherwise a typical 71.5 x 147 mm is assumed. Jewelry millimetres use the station's stated
``JEWELRY_PX_PER_MM_AT_1280`` (see ``locate.py``). Errors: ``GradingError`` (bad input),
``ModelError`` (model missing/corrupt), ``GradeScaleError`` (scale file invalid); all subclass standard
exceptions and carry a message fit for the operator.
"""

from inspector.grading.grader import ClassMeasurement, Defect, Grader, GradeResult, GradingError
from inspector.grading.model import ModelInfo
from inspector.grading.onnx_files import ModelError
from inspector.grading.scales import GradeScaleError, Scale, load_scale

__all__ = [
    "ClassMeasurement",
    "Defect",
    "GradeResult",
    "GradeScaleError",
    "Grader",
    "GradingError",
    "ModelError",
    "ModelInfo",
    "Scale",
    "load_scale",
]
