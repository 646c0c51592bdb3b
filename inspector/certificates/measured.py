"""What the camera measured, read back from a signed certificate (no wording here).

The station signs one entry per photo and defect class, ``<side>_<angle>_<class>`` ->
``{"count", "total_length_um", "total_area_um2"}`` (integers, so they survive JCS), and a
``<side>_<angle>_damage_score_pct`` per photo. Only defects that were found are kept: a buyer
reads what is there, not rows of zeros, and the model's damage score is not a finding. Keys of
older certificates that fit neither shape are left out rather than shown raw.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

_MEASUREMENT_KEY = re.compile(r"^(?P<side>[a-z]+)_(?P<angle>-?\d+)_(?P<cls>[a-z][a-z_]*)$")
_PHOTO_ROLE = re.compile(r"^(?P<side>[a-z]+)(?:@(?P<angle>-?\d+)deg)?$")
# "back 180°: D: 1 crack, ..." (several photos) or "D: 1 crack, ..." (one photo): the grade a photo got
_PHOTO_GRADE = re.compile(r"^(?:(?P<side>[a-z]+) (?P<angle>-?\d+)°: )?(?P<grade>[A-Z][A-Za-z0-9+-]*): ")
_CAVEAT_PREFIX = "not reliably detected by this model (share found in tests): "
_CAVEAT_ITEM = re.compile(r"^(?P<plural>.+?) (?P<pct>\d+) %$")


@dataclass(frozen=True)
class Place:
    """Where a photo was taken: the item's side and the turntable's angle (None: not recorded)."""

    side: str
    angle: int | None = None


@dataclass(frozen=True)
class Found:
    """One defect class found on one photo."""

    cls: str
    count: int
    length_um: int
    area_um2: int


@dataclass(frozen=True)
class PhotoFindings:
    place: Place
    found: tuple[Found, ...]


@dataclass(frozen=True)
class WeakClass:
    """A defect class the grading model finds only ``found_pct`` % of in its tests."""

    plural: str
    found_pct: int


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def photo_place(role: str) -> Place | None:
    """``"back@180deg"`` -> ``Place("back", 180)``; ``"screen"`` -> ``Place("screen")``."""
    match = _PHOTO_ROLE.match(role or "")
    if match is None:
        return None
    angle = match["angle"]
    return Place(match["side"], int(angle) if angle is not None else None)


def findings(measurements: Mapping[str, Any]) -> list[PhotoFindings]:
    """The defects found, per photo, in the order the certificate lists the photos."""
    per_photo: dict[Place, list[Found]] = {}
    for key, value in measurements.items():
        match = _MEASUREMENT_KEY.match(key)
        if match is None or not isinstance(value, Mapping):
            continue
        count = _int(value.get("count"))
        if count <= 0:
            continue
        place = Place(match["side"], int(match["angle"]))
        found = Found(
            match["cls"], count, _int(value.get("total_length_um")), _int(value.get("total_area_um2"))
        )
        per_photo.setdefault(place, []).append(found)
    return [PhotoFindings(place, tuple(found)) for place, found in per_photo.items()]


def photo_grades(reasons: Sequence[str], photos: Sequence[Place]) -> dict[Place, str]:
    """The grade each photo got, from the grader's reasons (one photo: its reasons carry no place)."""
    grades: dict[Place, str] = {}
    for reason in reasons:
        match = _PHOTO_GRADE.match(str(reason))
        if match is None:
            continue
        if match["side"] is not None:
            place = Place(match["side"], int(match["angle"]))
        elif len(photos) == 1:
            place = photos[0]
        else:
            continue
        grades.setdefault(place, match["grade"])
    return grades


def deciding_photo(grade: str, reasons: Sequence[str], photos: Sequence[Place]) -> Place | None:
    """The photo that set the item's grade: the first one that got that grade (the worst one)."""
    if len(photos) == 1:
        return photos[0]
    given = photo_grades(reasons, photos)

    def got(photo: Place) -> str | None:
        if photo in given:
            return given[photo]
        # a photo signed without its angle: its side says which reasons are its own
        return next((g for p, g in given.items() if photo.angle is None and p.side == photo.side), None)

    return next((p for p in photos if got(p) == grade), None)


def weak_classes(reasons: Sequence[str]) -> list[WeakClass]:
    """The grader's caveat: defect classes it rarely finds, with the share it found in tests."""
    for reason in reasons:
        text = str(reason)
        if text.startswith(_CAVEAT_PREFIX):
            items = (_CAVEAT_ITEM.match(part.strip()) for part in text[len(_CAVEAT_PREFIX) :].split(","))
            return [WeakClass(m["plural"], int(m["pct"])) for m in items if m is not None]
    return []
