"""Everything the public verify page says about a certificate, in the reader's language.

The credential keeps its stable English keys and codes (they are signed); this module turns them
into what a buyer can act on: the grade by its trade name with what each grade means, the defects
the camera measured as sentences quoting the photo that set the grade, the checks in plain words,
and what the signature and the public log prove. The template only lays it out.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from inspector.certificates.check_wording import OPERATOR_STEPS, CheckLine, check_lines
from inspector.certificates.measured import deciding_photo, findings, photo_place, weak_classes
from inspector.certificates.service import CertificateRecord
from inspector.certificates.verify import HEADLINES, Verdict, VerificationResult
from inspector.certificates.wording import (
    defect_sentence,
    grams,
    metal_name,
    photo_caption,
    weak_classes_note,
)
from inspector.grading.scales import GradeScaleError, Scale, default_scale
from inspector.i18n import N_, AppLocale, translate, translations
from inspector.i18n.json_messages import grade_context

# What a buyer should make of each verdict (the headline says what it is).
VERDICT_ADVICE: dict[Verdict, str] = {
    Verdict.valid: N_(
        "The station's signature matches everything on this page, and the platform has not "
        "revoked the certificate."
    ),
    Verdict.malformed: N_("This is not a certificate this platform can read. Do not rely on it."),
    Verdict.tampered: N_(
        "Something on this certificate was changed after the station signed it. Do not rely on it."
    ),
    Verdict.unknown_key: N_(
        "It was not signed by a station of this platform. Do not rely on it, and ask the seller."
    ),
    Verdict.key_revoked: N_(
        "The station's signing key was revoked after a security problem. Do not rely on it."
    ),
    Verdict.revoked: N_("The platform revoked this certificate. Do not rely on what it says."),
    Verdict.suspended: N_(
        "The platform is reviewing this certificate. Wait for the review before you rely on it."
    ),
    Verdict.status_unavailable: N_(
        "The signature is genuine, but whether the certificate was revoked could not be checked "
        "just now. Try again later."
    ),
    Verdict.not_logged: N_(
        "The platform's public log does not hold this certificate, so it may have been shown to "
        "you alone. Do not rely on it, and ask the seller."
    ),
}


# What the operator's review did to the machine's grade, said next to the grade.
REVIEW_WORDS = {
    "confirmed": N_("Confirmed by the operator"),
    "adjusted": N_("Adjusted by the operator (machine grade: %(grade)s)"),
}
ITEM_LOOKED_DAMAGED = N_("The item as a whole looked damaged")


@dataclass(frozen=True)
class Fact:
    label: str
    value: str


@dataclass(frozen=True)
class Photo:
    index: int
    caption: str
    full: str  # the signed photo, full size
    marked: str | None  # the same photo with the defects outlined, full size
    sets_grade: bool
    findings: tuple[str, ...]


@dataclass(frozen=True)
class GradeStep:
    letter: str
    name: str
    title: str
    description: str
    current: bool


@dataclass(frozen=True)
class Grade:
    graded: bool
    letter: str
    name: str  # the trade name in the reader's language (95新), else the letter
    title: str
    description: str
    legend: tuple[GradeStep, ...]
    deciding: Photo | None  # the photo that set the grade, when it shows defects
    other_findings: tuple[Photo, ...]  # defects on the other photos
    caveat: str
    review: str = ""  # "Confirmed by the operator" / "Adjusted by the operator (machine grade: D)"
    review_status: str = ""  # confirmed | adjusted; empty when there was no review (older certificates)
    rejected: tuple[str, ...] = ()  # the findings the operator rejected, and why


@dataclass(frozen=True)
class Verification:
    verdict: Verdict
    headline: str
    advice: str
    proofs: tuple[str, ...]
    technical: str  # the verifier's own words, for a verdict other than valid


@dataclass(frozen=True)
class BuyerPage:
    item: tuple[Fact, ...]
    declared: tuple[Fact, ...]  # what the operator declared, not measured (jewelry)
    grade: Grade
    photos: tuple[Photo, ...]
    checks: tuple[CheckLine, ...]  # automatic checks
    by_hand: tuple[CheckLine, ...]  # what the operator checked or declared
    verification: Verification


def _scale(kind: str) -> Scale | None:
    try:
        return default_scale(kind)
    except GradeScaleError:
        return None


def _brand(make: str) -> str:
    """Phones report their brand in lower case ("google"); a name a person writes starts upper."""
    return make[:1].upper() + make[1:] if make.islower() else make


def _item(kind: str, identity: dict[str, Any], locale: AppLocale) -> tuple[list[Fact], list[Fact]]:
    t = translations(locale)
    item: list[Fact] = []
    declared: list[Fact] = []
    if kind == "phone":
        name = " ".join(
            p for p in (_brand(str(identity.get("make") or "")), str(identity.get("model") or "")) if p
        )
        item.append(Fact(t.gettext("Phone"), name or t.gettext("model not reported")))
        if isinstance(identity.get("storage_gb"), int):
            item.append(Fact(t.gettext("Storage"), translate(locale, "%(gb)s GB", gb=identity["storage_gb"])))
        if identity.get("android_version"):
            item.append(Fact(t.gettext("System"), f"Android {identity['android_version']}"))
        return item, declared
    if isinstance(identity.get("weight_mg"), int):
        item.append(Fact(t.gettext("Weight of the piece"), grams(identity["weight_mg"], locale)))
    # identity["carats"] is the whole piece's weight in carats: next to a stone it reads as the
    # stone's size, so it is never shown; carats belong to stones, and stones are declared.
    if identity.get("metal"):
        declared.append(Fact(t.gettext("Metal"), metal_name(str(identity["metal"]), locale)))
    if identity.get("hallmark"):
        declared.append(Fact(t.gettext("Hallmark"), str(identity["hallmark"])))
    if identity.get("stones"):
        declared.append(Fact(t.gettext("Stones"), str(identity["stones"])))
    return item, declared


def _photos(
    record: CertificateRecord, subject: dict[str, Any], scale: Scale | None, locale: AppLocale
) -> list[Photo]:
    grade = subject.get("grade") or {}
    signed = [p for p in subject.get("photos") or [] if isinstance(p, dict) and p.get("sha256")]
    places = [photo_place(str(p.get("role", ""))) for p in signed]
    known = [p for p in places if p is not None]
    sides = [p.side for p in known]
    found = {f.place: f for f in findings(grade.get("measurements") or {})}
    deciding = deciding_photo(str(grade.get("grade", "")), list(grade.get("reasons") or []), known)
    photos = []
    for index, (photo, place) in enumerate(zip(signed, places, strict=True)):
        sentences: tuple[str, ...] = ()
        if place is None:
            caption = str(photo.get("role", ""))
        else:
            caption = photo_caption(place, locale, turned=sides.count(place.side) > 1)
            on_photo = found.get(place)
            if on_photo is None and sides.count(place.side) == 1:  # a photo signed without its angle
                on_photo = next((f for p, f in found.items() if p.side == place.side), None)
            if on_photo is not None and scale is not None:
                sentences = tuple(defect_sentence(f, place.side, scale, locale) for f in on_photo.found)
        photos.append(
            Photo(
                index=index,
                caption=caption,
                full=f"/photos/{photo['sha256']}",
                marked=f"/photos/{photo['overlay_sha256']}" if photo.get("overlay_sha256") else None,
                sets_grade=place is not None and place == deciding and bool(sentences),
                findings=sentences,
            )
        )
    return photos


def _grade(
    kind: str, subject: dict[str, Any], photos: list[Photo], scale: Scale | None, locale: AppLocale
) -> Grade:
    t = translations(locale)
    signed = subject.get("grade") or {}
    letter = str(signed.get("grade", ""))
    context = grade_context(kind)
    steps = tuple(
        GradeStep(
            g.grade,
            t.pgettext(context, g.grade),
            t.gettext(g.title),
            t.gettext(g.description) if g.description else "",
            g.grade == letter,
        )
        for g in (scale.grades if scale is not None else [])
    )
    current = next((s for s in steps if s.current), None)
    if current is None:
        return Grade(False, letter, t.gettext("Not graded"), "", "", steps, None, (), "")
    deciding = next((p for p in photos if p.sets_grade), None)
    others = tuple(p for p in photos if p.findings and p is not deciding)
    caveat = (
        weak_classes_note(weak_classes(list(signed.get("reasons") or [])), scale, locale) if scale else ""
    )
    status, note, rejected = _review(kind, signed, scale, locale)
    return Grade(
        True,
        letter,
        current.name,
        current.title,
        current.description,
        steps,
        deciding,
        others,
        caveat,
        note,
        status,
        rejected,
    )


def _review(
    kind: str, signed: dict[str, Any], scale: Scale | None, locale: AppLocale
) -> tuple[str, str, tuple[str, ...]]:
    """What the operator's review did to the machine's grade, in words; nothing for a certificate
    without a review (issued before there was one) or with nothing to review."""
    review = signed.get("review")
    if not isinstance(review, dict) or review.get("status") not in REVIEW_WORDS:
        return "", "", ()
    t = translations(locale)
    status = str(review["status"])
    machine = t.pgettext(grade_context(kind), str(signed.get("machine_grade") or signed.get("grade", "")))
    note = translate(locale, REVIEW_WORDS[status], grade=machine)
    rejected = []
    for d in review.get("decisions") or []:
        # what the operator changed: a counted finding rejected, or a possible one (marked, not
        # counted by the machine) confirmed; a possible one rejected changed nothing
        if not isinstance(d, dict) or (d.get("decision") == "reject") == bool(d.get("suspected")):
            continue
        cls = str(d.get("cls", ""))
        spec = scale.classes.get(cls) if scale is not None else None
        what = (
            t.gettext(ITEM_LOOKED_DAMAGED)
            if cls == "item_damaged"
            else t.gettext(spec.label)
            if spec
            else cls
        )
        if d.get("suspected"):
            said_what = N_("%(what)s: seen by the operator, missed by the machine")
            with_reason = N_("%(what)s: seen by the operator, missed by the machine (%(reason)s)")
        else:
            said_what, with_reason = N_("%(what)s: rejected"), N_("%(what)s: rejected (%(reason)s)")
        if d.get("reason"):
            rejected.append(translate(locale, with_reason, what=what, reason=d["reason"]))
        else:
            rejected.append(translate(locale, said_what, what=what))
    return status, note, tuple(_counted(rejected))


def _counted(lines: list[str]) -> list[str]:
    """Identical lines once, with how many there were (five cracks rejected for one reflection)."""
    counts = Counter(lines)
    return [
        line if counts[line] == 1 else f"{counts[line]} \N{MULTIPLICATION SIGN} {line}"
        for line in dict.fromkeys(lines)
    ]


def _verification(result: VerificationResult, log: dict[str, Any], locale: AppLocale) -> Verification:
    proofs = []
    if result.signature_valid:
        proofs.append(
            translate(
                locale, "The signature (Ed25519) matches this certificate: nothing was changed after signing."
            )
        )
    if result.verdict not in (Verdict.malformed, Verdict.tampered, Verdict.unknown_key) and result.station_id:
        proofs.append(
            translate(
                locale,
                "It was signed with a key the platform certified for station %(station)s.",
                station=result.station_id,
            )
        )
    if result.verdict is Verdict.valid:
        proofs.append(
            translate(locale, "Not on the platform's signed lists of revoked or suspended certificates.")
        )
    if log.get("ok"):
        proofs.append(
            translate(
                locale,
                "It is entry number %(number)s of %(size)s in the public transparency log, "
                "and the log's proof checks out.",
                number=int(log["leaf_index"]) + 1,
                size=log["tree_size"],
            )
        )
    else:
        proofs.append(translate(locale, "The public transparency log does not confirm this certificate."))
    return Verification(
        verdict=result.verdict,
        headline=translate(locale, HEADLINES[result.verdict]),
        advice=translate(locale, VERDICT_ADVICE[result.verdict]),
        proofs=tuple(proofs),
        technical="" if result.verdict is Verdict.valid else result.message,
    )


def buyer_page(
    record: CertificateRecord, result: VerificationResult, log: dict[str, Any], locale: AppLocale
) -> BuyerPage:
    subject: dict[str, Any] = record.credential.get("credentialSubject", {})
    scale = _scale(record.item_kind)
    item, declared = _item(record.item_kind, subject.get("identity") or {}, locale)
    photos = _photos(record, subject, scale, locale)
    lines = check_lines(list(subject.get("checks") or []), locale)
    return BuyerPage(
        item=tuple(item),
        declared=tuple(declared),
        grade=_grade(record.item_kind, subject, photos, scale, locale),
        photos=tuple(photos),
        checks=tuple(c for c in lines if c.key not in OPERATOR_STEPS),
        by_hand=tuple(c for c in lines if c.key in OPERATOR_STEPS),
        verification=_verification(result, log, locale),
    )
