"""Re-inspection evidence: what a station measured on the returned item, and how it differs
from the certificate.

The damage-after-sale question is answered by comparing defect lists: a defect found at
re-inspection that matches no certified defect (same kind, overlapping place) is *new*; one
that matches but measures clearly larger is *worse*. Certified defects not found again are
listed as *not found* (a repair or a grading miss), which staff should also see.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

SHA256_PATTERN = r"^[0-9a-f]{64}$"
# Measurement keys understood when deciding whether a matched defect got worse.
MEASURE_KEYS = ("length_um", "area_um2", "depth_um", "length_mm", "area_mm2", "size_mm", "severity")
WORSE_RATIO = 1.25


class Defect(BaseModel):
    """One defect: kind and where; ``bbox`` is x, y, w, h as fractions of photo ``photo``."""

    model_config = ConfigDict(extra="allow")
    kind: str = Field(min_length=1, max_length=40)
    region: str = Field(default="", max_length=40)
    photo: int = Field(default=0, ge=0, le=50)
    bbox: tuple[float, float, float, float] | None = None

    @field_validator("bbox")
    @classmethod
    def _bbox_inside(cls, v: tuple[float, float, float, float] | None) -> Any:
        if v is None:
            return v
        # Accept permille integers too (signed credentials keep numbers integral).
        if any(x > 1 for x in v):
            v = (v[0] / 1000, v[1] / 1000, v[2] / 1000, v[3] / 1000)
        x, y, w, h = v
        if not (0 <= x <= 1 and 0 <= y <= 1 and 0 < w <= 1 and 0 < h <= 1):
            raise ValueError("bbox must be x, y, w, h fractions of the photo (0..1)")
        return v

    def measure(self) -> float | None:
        extra = self.model_extra or {}
        for key in MEASURE_KEYS:
            value = extra.get(key)
            if isinstance(value, int | float) and not isinstance(value, bool):
                return float(value)
        return None


class Reinspection(BaseModel):
    """A re-inspection result as the station pipeline (or staff) reports it."""

    model_config = ConfigDict(extra="forbid")
    inspection_id: str = Field(default="", max_length=128)
    certificate_human_id: str = Field(default="", max_length=32)
    grade: str = Field(min_length=1, max_length=16)
    photos: list[str] = Field(default_factory=list, max_length=24)
    defects: list[Defect] = Field(default_factory=list, max_length=200)
    weight_mg: int | None = Field(default=None, ge=0)
    notes: str = Field(default="", max_length=2000)

    @field_validator("photos")
    @classmethod
    def _digests(cls, v: list[str]) -> list[str]:
        out = [p.removeprefix("sha256:").lower() for p in v]
        bad = [n for n, p in enumerate(out, start=1) if not re.match(SHA256_PATTERN, p)]
        if bad:
            raise ValueError(f"photo {bad[0]} is not a SHA-256 hex digest (64 hex digits)")
        return out


@dataclass(frozen=True)
class DefectDiff:
    status: Literal["new", "worse", "unchanged", "not_found"]
    defect: Defect
    original: Defect | None = None

    @property
    def highlighted(self) -> bool:
        return self.status in ("new", "worse")


def _iou(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    ax2, ay2, bx2, by2 = a[0] + a[2], a[1] + a[3], b[0] + b[2], b[1] + b[3]
    iw = max(0.0, min(ax2, bx2) - max(a[0], b[0]))
    ih = max(0.0, min(ay2, by2) - max(a[1], b[1]))
    inter = iw * ih
    union = a[2] * a[3] + b[2] * b[3] - inter
    return inter / union if union > 0 else 0.0


def _same_place(a: Defect, b: Defect) -> bool:
    if a.kind.lower() != b.kind.lower():
        return False
    if a.region and b.region and a.region.lower() != b.region.lower():
        return False
    if a.bbox and b.bbox:
        return _iou(a.bbox, b.bbox) >= 0.1
    return True


def parse_defects(raw: list[dict[str, Any]] | list[Defect]) -> list[Defect]:
    """Defects from a credential or a request; unparseable entries are kept as kind 'unknown'."""
    out: list[Defect] = []
    for item in raw:
        if isinstance(item, Defect):
            out.append(item)
            continue
        try:
            out.append(Defect.model_validate(item))
        except ValueError:
            out.append(Defect(kind=str(item.get("kind") or item.get("type") or "unknown")[:40]))
    return out


def compare_defects(original: list[Defect], found: list[Defect]) -> list[DefectDiff]:
    """Label each re-inspection defect new / worse / unchanged, then list certified ones not found."""
    unmatched = list(original)
    diffs: list[DefectDiff] = []
    for d in found:
        match = next((o for o in unmatched if _same_place(o, d)), None)
        if match is None:
            diffs.append(DefectDiff("new", d))
            continue
        unmatched.remove(match)
        before, after = match.measure(), d.measure()
        worse = before is not None and after is not None and after > before * WORSE_RATIO
        diffs.append(DefectDiff("worse" if worse else "unchanged", d, match))
    diffs.extend(DefectDiff("not_found", o, o) for o in unmatched)
    return diffs
