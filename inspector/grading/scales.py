"""Grade scales are data: JSON files validated here, so a bad edit fails loudly with its location."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

SCALES_DIR = Path(__file__).resolve().parent / "scales"
SCHEMA_ID = "inspector.grade-scale/1"
KNOWN_CLASSES = {
    "phone": ("crack", "scratch", "chip"),
    "jewelry": ("scratch", "dent", "missing_stone", "loose_stone", "tarnish"),
}


class GradeScaleError(ValueError):
    """A grade scale file is missing, not JSON, or does not follow the schema."""


class Limit(BaseModel):
    """Upper bounds for one defect class within a grade; an absent bound means "no limit"."""

    model_config = ConfigDict(extra="forbid")
    max_count: int | None = Field(default=None, ge=0)
    max_total_length_mm: float | None = Field(default=None, ge=0)
    max_length_mm: float | None = Field(default=None, ge=0)
    max_total_area_mm2: float | None = Field(default=None, ge=0)


class DefectClass(BaseModel):
    model_config = ConfigDict(extra="forbid")
    label: str = Field(min_length=1)
    plural: str = Field(min_length=1)
    measure: Literal["length", "area", "count"]
    where: str = Field(min_length=1, description="location phrase, e.g. 'on the {side}'")
    min_area_mm2: float = Field(default=0.5, ge=0, description="smaller detections are ignored as noise")


class Grade(BaseModel):
    model_config = ConfigDict(extra="forbid")
    grade: str = Field(min_length=1, max_length=8)
    title: str = Field(min_length=1)
    description: str = ""
    sellable: bool = True
    limits: dict[str, Limit] = Field(default_factory=dict)


class Scale(BaseModel):
    """An ordered list of grades, best first; an item gets the first grade whose limits it meets."""

    model_config = ConfigDict(extra="forbid")
    schema_: Literal["inspector.grade-scale/1"] = Field(alias="schema")
    name: str = Field(min_length=1)
    version: str = Field(min_length=1)
    kind: Literal["phone", "jewelry"]
    reference: str = ""
    classes: dict[str, DefectClass]
    grades: list[Grade] = Field(min_length=2)

    @model_validator(mode="after")
    def _consistent(self) -> Scale:
        known = KNOWN_CLASSES[self.kind]
        for name in self.classes:
            if name not in known:
                raise ValueError(
                    f"classes: unknown {self.kind} defect class {name!r} (known: {', '.join(known)})"
                )
        missing = [c for c in known if c not in self.classes]
        if missing:
            raise ValueError(
                f"classes: no entry for {', '.join(missing)} (every {self.kind} class needs a label)"
            )
        seen: set[str] = set()
        for i, g in enumerate(self.grades):
            if g.grade in seen:
                raise ValueError(f"grades[{i}]: grade {g.grade!r} appears twice")
            seen.add(g.grade)
            for cls in g.limits:
                if cls not in self.classes:
                    raise ValueError(
                        f"grades[{i}] ({g.grade}): limit for unknown class {cls!r} "
                        f"(known: {', '.join(self.classes)})"
                    )
        if self.grades[-1].limits:
            raise ValueError(
                f"grades[{len(self.grades) - 1}] ({self.grades[-1].grade}): "
                "the last grade must have no limits, "
                "so that every item gets a grade"
            )
        # A worse grade may never be stricter than a better one: that would make grades unreachable.
        for i in range(1, len(self.grades)):
            better, worse = self.grades[i - 1], self.grades[i]
            for cls, lim in better.limits.items():
                wl = worse.limits.get(cls)
                if wl is None:
                    continue
                for field in Limit.model_fields:
                    b, w = getattr(lim, field), getattr(wl, field)
                    if w is not None and b is not None and w < b:
                        raise ValueError(
                            f"grades[{i}] ({worse.grade}): {cls}.{field}={w} is stricter than "
                            f"grade {better.grade}'s {b}"
                        )
        return self

    def grade_index(self, name: str) -> int:
        return [g.grade for g in self.grades].index(name)


def parse_scale(data: object, source: str = "<scale>") -> Scale:
    try:
        return Scale.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = ".".join(str(p) for p in err["loc"]) or "(top level)"
            msg = err["msg"].removeprefix("Value error, ")
            problems.append(f"  {loc}: {msg}")
        raise GradeScaleError(f"{source}: invalid grade scale:\n" + "\n".join(problems)) from None


def load_scale(path: str | Path) -> Scale:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise GradeScaleError(f"{p}: grade scale file not found") from None
    except OSError as exc:
        raise GradeScaleError(f"{p}: cannot read grade scale: {exc.strerror}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise GradeScaleError(
            f"{p}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from None
    return parse_scale(data, str(p))


def default_scale(kind: str) -> Scale:
    return load_scale(SCALES_DIR / f"{kind}.json")
