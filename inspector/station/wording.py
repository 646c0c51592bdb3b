"""The words the station's pages show for an inspection, in one language.

Views of an inspection keep their stored English and codes (``status``, ``label``, ``summary``,
``grade``) for the API and the record; ``shown`` beside them is what a person reads: the console
in the operator's language, the stream overlay in the station's. Nothing here reads a database.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any

from inspector.grading.scales import GradeScaleError, Scale, default_scale
from inspector.i18n import N_, AppLocale, translations
from inspector.i18n.json_messages import grade_context
from inspector.station.notices import PublicNotice
from inspector.station.review import ITEM_DAMAGED
from inspector.station.said import Said, is_said, said, said_in, say, say_all

STATUS_WORDS = {
    # inspections
    "running": N_("running"),
    "waiting_operator": N_("waiting for the operator"),
    "interrupted": N_("interrupted"),
    "completed": N_("completed"),
    "aborted": N_("aborted"),
    # steps
    "pending": N_("pending"),
    "waiting": N_("waiting"),
    "passed": N_("passed"),
    "warning": N_("warning"),
    "failed": N_("failed"),
    "error": N_("error"),
    "skipped": N_("skipped"),
}
KIND_WORDS = {"phone": N_("Phone"), "jewelry": N_("Jewelry")}
VERDICT_WORDS = {"pass": N_("Pass"), "fail": N_("Fail")}
SIDE_WORDS = {"screen": N_("Screen"), "back": N_("Back"), "top": N_("Top"), "edge": N_("Frame edge")}
# What a phone reports (devices.phone): battery health codes and screen lock types.
HEALTH_WORDS = {
    "unknown": N_("unknown"),
    "good": N_("good"),
    "overheat": N_("overheating"),
    "dead": N_("dead"),
    "over_voltage": N_("over voltage"),
    "unspecified_failure": N_("faulty"),
    "cold": N_("too cold"),
}
LOCK_WORDS = {"none": N_("none"), "pin": N_("PIN"), "password": N_("password"), "pattern": N_("pattern")}


def word(locale: AppLocale, table: Mapping[str, str], code: str | None) -> str | None:
    """A code's word in ``locale``; a code the table does not know is shown as it is."""
    if code is None:
        return None
    return translations(locale).gettext(table.get(code, code))


def text(locale: AppLocale, message: str | None) -> str | None:
    """A stored English text (a step label, a hint) in ``locale``, as stored when not in the catalogue."""
    return translations(locale).gettext(message) if message else message


@cache
def _scale(kind: str) -> Scale | None:
    try:
        return default_scale(kind)
    except GradeScaleError:  # an unknown kind or a broken file: grades are then shown as letters
        return None


def grade_name(locale: AppLocale, kind: str, grade: str | None) -> str | None:
    """What a grade is called on this scale: "99新" for a phone's A in zh-CN, the letter in English."""
    if not grade:
        return grade
    return translations(locale).pgettext(grade_context(kind), grade)


def grade_title(locale: AppLocale, kind: str, grade: str | None) -> str | None:
    """The grade's title on its scale ("Like new"), translated; None when the scale has no such grade."""
    scale = _scale(kind)
    found = next((g for g in scale.grades if g.grade == grade), None) if scale else None
    return text(locale, found.title) if found else None


# ---- defects, as a viewer of the stream reads them -----------------------------------------


def _defect(scale: Scale, cls: str, m: Mapping[str, Any]) -> Said | None:
    spec = scale.classes.get(cls)
    count = int(m.get("count") or 0)
    if spec is None or count <= 0:
        return None
    what = said(spec.label if count == 1 else spec.plural)
    if spec.measure == "length":
        mm = round(int(m.get("total_length_um") or 0) / 1000)
        if count == 1:
            return said(N_("%(count)s %(what)s, %(mm)s mm long"), count=count, what=what, mm=mm)
        return said(N_("%(count)s %(what)s, %(mm)s mm in total"), count=count, what=what, mm=mm)
    if spec.measure == "area":
        area = f"{int(m.get('total_area_um2') or 0) / 1e6:.1f}"
        if count == 1:
            return said(N_("%(count)s %(what)s, %(area)s mm²"), count=count, what=what, area=area)
        return said(N_("%(count)s %(what)s, %(area)s mm² in total"), count=count, what=what, area=area)
    return said(N_("%(count)s %(what)s"), count=count, what=what)


def _finding_text(scale: Scale | None, f: Mapping[str, Any]) -> Said:
    """One marked finding: a defect with its size, or the item-level verdict."""
    if f.get("cls") == ITEM_DAMAGED:
        return said(N_("the item as a whole looks damaged (%(pct)s%% likely)"), pct=f.get("probability_pct"))
    size = {"count": 1, "total_length_um": f.get("length_um"), "total_area_um2": f.get("area_um2")}
    part = _defect(scale, str(f.get("cls")), size) if scale is not None else None
    part = part or said(str(f.get("cls")))
    if f.get("suspected"):
        return said(N_("possible, not counted (confirm it if you see it): %(defect)s"), defect=part)
    return part


def findings_shown(locale: AppLocale, kind: str, found: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The review's findings as the console lists them: what, and on which photo."""
    scale = _scale(kind)
    out = []
    for f in found:
        side = said(SIDE_WORDS.get(str(f.get("side")), str(f.get("side"))))
        where = said(N_("%(side)s, %(angle)s°"), side=side, angle=f.get("angle"))
        out.append(
            {"id": f.get("id"), "text": say(_finding_text(scale, f), locale), "where": say(where, locale)}
        )
    return out


def defect_parts(kind: str, photos: Sequence[Mapping[str, Any]]) -> list[Said]:
    """What the grader measured, one part per defect class: on each side of a phone, and on the
    photo that set a jewel's grade (its four photos are of the same piece)."""
    scale = _scale(kind)
    if scale is None or not photos:
        return []
    graded = [p for p in photos if isinstance(p.get("measurements"), Mapping)]
    if not graded:
        return []
    if kind != "phone":

        def rank(p: Mapping[str, Any]) -> int:
            grades = [g.grade for g in scale.grades]
            return grades.index(p["grade"]) if p.get("grade") in grades else -1

        graded = [max(graded, key=rank)]
    parts: list[Said] = []
    for photo in graded:
        for cls, m in photo["measurements"].items():
            part = _defect(scale, cls, m) if isinstance(m, Mapping) else None
            if part is None:
                continue
            if kind == "phone":
                side = said(SIDE_WORDS.get(str(photo.get("side")), str(photo.get("side"))))
                if sum(p.get("side") == photo.get("side") for p in graded) > 1:  # the four edges
                    side = said(N_("%(side)s, %(angle)s°"), side=side, angle=photo.get("angle"))
                part = said(N_("%(side)s: %(defect)s"), side=side, defect=part)
            parts.append(part)
    return parts or [said(N_("No defects found"))]


# ---- steps and inspections ------------------------------------------------------------------


def summary(locale: AppLocale, result: Mapping[str, Any]) -> str | None:
    """A step's summary: from its stored parts when it has them, else as it was stored."""
    parts = result.get("said")
    if isinstance(parts, list) and parts and all(is_said(p) for p in parts):
        return say_all(parts, locale)
    stored = result.get("summary")
    return str(stored) if stored is not None else None


def _without_label(error: str, label: str) -> str:
    """A stored step error repeats the step's English label first; the page names the step itself."""
    return error.removeprefix(f"{label}: ")


def fields(locale: AppLocale, specs: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """A declaration's fields with their labels and choices ([value, word]) in ``locale``."""
    return [
        {
            "name": f["name"],
            "label": text(locale, f.get("label")),
            "required": bool(f.get("required")),
            "choices": [[c, text(locale, c)] for c in f["choices"]] if f.get("choices") else None,
        }
        for f in specs
    ]


def step_shown(
    locale: AppLocale,
    *,
    label: str,
    status: str,
    result: Mapping[str, Any],
    params: Mapping[str, Any],
    error: str | None,
    notice: PublicNotice | None,
    public: bool,
    kind: str | None = None,
) -> dict[str, Any]:
    """What the console or the overlay shows of one step (``kind``: the item's, for the review's
    findings)."""
    shown: dict[str, Any] = {
        "label": text(locale, label),
        "status": word(locale, STATUS_WORDS, status),
        "summary": summary(locale, result),
    }
    if public:
        shown["error"] = text(locale, notice.message) if notice else None
    else:
        shown["error"] = _without_label(error, label) if error else None
        shown["hint"] = text(locale, params.get("hint"))
        shown["fields"] = fields(locale, params.get("fields") or [])
        if kind is not None and result.get("findings"):
            shown["findings"] = findings_shown(locale, kind, result["findings"])
    return shown


def item_title(locale: AppLocale, kind: str, identity: Mapping[str, Any]) -> str:
    """What the item is: a phone's brand and model, a jewel's declared metal."""
    if kind == "phone":
        name = " ".join(str(identity[k]) for k in ("brand", "model") if identity.get(k))
        return name or str(word(locale, KIND_WORDS, kind))
    metal = (identity.get("declared") or {}).get("metal")
    if metal:
        return say(said(N_("%(metal)s jewelry"), metal=said(metal)), locale)
    return str(word(locale, KIND_WORDS, kind))


def inspection_shown(
    locale: AppLocale,
    *,
    kind: str,
    status: str,
    identity: Mapping[str, Any],
    grade: str | None,
    verdict: str | None,
    notice: PublicNotice | None,
    error: str | None,
    error_step: str | None,
    graded_photos: Sequence[Mapping[str, Any]] | None,
    public: bool,
) -> dict[str, Any]:
    """What the console or the overlay shows of an inspection (``graded_photos``: the grade step's,
    for the reasons; None in lists)."""
    shown: dict[str, Any] = {
        "kind": word(locale, KIND_WORDS, kind),
        "title": item_title(locale, kind, identity),
        "status": word(locale, STATUS_WORDS, status),
        "grade": grade_name(locale, kind, grade),
        "grade_title": grade_title(locale, kind, grade),
        "verdict": word(locale, VERDICT_WORDS, verdict),
    }
    if graded_photos is not None:
        shown["reasons"] = [say(p, locale) for p in defect_parts(kind, graded_photos)] if grade else []
    if public:
        shown["error"] = text(locale, notice.message) if notice else None
    elif status == "interrupted":
        step = text(locale, error_step)
        headline = (
            say(said(N_("Stopped at “%(step)s”: fix the cause below, then resume."), step=step), locale)
            if step
            else say(said(N_("Stopped: fix the cause below, then resume.")), locale)
        )
        shown["error"] = headline
        shown["error_detail"] = _without_label(error, error_step) if error and error_step else error
    elif status == "aborted":
        shown["error"] = say(said(N_("The inspection was aborted.")), locale)
        shown["error_detail"] = error
    else:
        shown["error"] = None
    return shown


def grade_said(kind: str, grade: str) -> Said:
    """The grade as a step summary says it, named as its scale names it."""
    return said(N_("grade %(grade)s"), grade=said_in(grade_context(kind), grade))
