"""The operator's review of what the grader marked: each finding confirmed or rejected, and the
grade decided again from what was kept.

The camera model is good, not perfect: a reflection read as a crack makes a phone D. The person at
the station sees the item, so each marked defect (and a phone's "the item as a whole looks
damaged") is put to them. Rejected findings no longer count: the photo is graded again from the
kept ones by the scale's own rule (``GraderPort.regrade``), and the record keeps the machine's
grade, every decision with who made it, when and why, and whether the grade was confirmed or
adjusted (``ReviewStatus``), for the certificate and the buyer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from inspector.i18n import N_
from inspector.i18n.json_messages import grade_context
from inspector.station.grades import combine, grade_rank
from inspector.station.ports import GradeOutcome, GraderPort
from inspector.station.said import Said, said, said_in
from inspector.station.times import iso

ITEM_DAMAGED = "item_damaged"  # the class of the item-level finding (phones)
REASON_MAX = 200


class ReviewStatus(StrEnum):
    """What the operator's review did to the machine's grade (signed on the certificate)."""

    CONFIRMED = "confirmed"
    """Every marked finding was confirmed: the machine's grade stands."""
    ADJUSTED = "adjusted"
    """At least one finding was rejected: the grade was decided again from the kept ones."""
    NONE = "none"
    """The grader marked nothing, so there was nothing to review."""


class Decision(StrEnum):
    CONFIRM = "confirm"
    REJECT = "reject"


class ReviewRefused(ValueError):
    """The decisions cannot be taken (missing, unknown or repeated findings); ``said`` says why."""

    def __init__(self, refusal: Said) -> None:
        super().__init__(refusal["msg"])
        self.said = refusal


@dataclass(frozen=True)
class Reviewed:
    status: ReviewStatus
    grade: str
    reasons: list[str]
    result: dict[str, Any]  # the step's result


def marked_findings(photo: int, out: GradeOutcome) -> list[dict[str, Any]]:
    """One photo's findings with ids that stay the same (``<photo>-<n>``, ``<photo>-item``): each
    marked defect, and the item-level verdict when it calls the item damaged."""
    found = [{**f, "id": f"{photo}-{f['n']}"} for f in out.findings]
    if out.damaged:
        found.append({"id": f"{photo}-item", "cls": ITEM_DAMAGED, "probability_pct": out.damage_pct})
    return found


def changes(finding: Mapping[str, Any], decision: Decision) -> bool:
    """Does this decision change what the machine counted? Rejecting a counted finding does, and so
    does confirming a suspected one (a mark the grader kept out because the item did not look
    damaged as a whole): the operator's eyes make it count."""
    return (decision is Decision.CONFIRM) == bool(finding.get("suspected"))


def findings(graded: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Every finding of the graded photos, each with the photo it is on (for the console)."""
    out = []
    for index, p in enumerate(graded):
        where = {
            "photo": index,
            "side": p.get("side"),
            "angle": p.get("angle"),
            "sha256": p.get("sha256"),
            "overlay_sha256": p.get("overlay_sha256"),
            "width": p.get("width"),
            "height": p.get("height"),
        }
        out += [{**f, **where} for f in p.get("findings") or []]
    return out


def graded_photos(ctx: Mapping[str, Mapping[str, Any]], params: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The photos the review step's grade step (``params["grade_step"]``) graded; none when skipped."""
    return list((ctx.get(str(params.get("grade_step", "grade"))) or {}).get("photos") or [])


def agreeing_answer(step: Mapping[str, Any]) -> dict[str, list[dict[str, str]]]:
    """The answer to a waiting review step (as the station's API shows it) of an operator who agrees
    with the machine (the demo's, the benches'): every counted finding confirmed, every suspected one
    rejected, so the machine's grade stands."""
    findings = (step.get("result") or {}).get("findings") or []
    return {
        "decisions": [
            {
                "finding": str(f["id"]),
                "decision": (Decision.REJECT if f.get("suspected") else Decision.CONFIRM).value,
            }
            for f in findings
        ]
    }


def choose(
    found: Sequence[Mapping[str, Any]], given: Sequence[Mapping[str, Any]]
) -> dict[str, tuple[Decision, str]]:
    """The decision on each finding; every finding decided once, nothing else."""
    ids = [str(f["id"]) for f in found]
    seen: dict[str, tuple[Decision, str]] = {}
    twice, unknown = [], []
    for d in given:
        fid = str(d.get("finding", ""))
        if fid not in ids:
            unknown.append(fid)
        elif fid in seen:
            twice.append(fid)
        else:
            seen[fid] = (Decision(d["decision"]), str(d.get("reason") or "").strip()[:REASON_MAX])
    if unknown:
        raise ReviewRefused(said(N_("no marked finding %(ids)s on this inspection"), ids=unknown))
    if twice:
        raise ReviewRefused(said(N_("finding %(ids)s decided more than once"), ids=twice))
    missing = [i for i in ids if i not in seen]
    if missing:
        raise ReviewRefused(
            said(N_("decide every marked finding: %(ids)s not confirmed or rejected"), ids=missing)
        )
    return seen


def _regraded(
    kind: str, photo: Mapping[str, Any], chosen: Mapping[str, tuple[Decision, str]], grader: GraderPort
) -> dict[str, Any]:
    """The photo graded again from its kept findings (unchanged when nothing on it was rejected)."""
    own = list(photo.get("findings") or [])
    if not any(changes(f, chosen[f["id"]][0]) for f in own):
        return dict(photo)
    kept = [f for f in own if f["cls"] != ITEM_DAMAGED and chosen[f["id"]][0] is Decision.CONFIRM]
    item = next((f for f in own if f["cls"] == ITEM_DAMAGED), None)
    damaged = photo.get("damaged")
    if damaged is not None:
        damaged = bool(damaged) and item is not None and chosen[item["id"]][0] is Decision.CONFIRM
    out = grader.regrade(
        kind,
        str(photo["side"]),
        kept,
        damaged=damaged,
        damage_pct=int(photo.get("damage_pct") or 0),
        item_found=bool(photo.get("item_found", True)),
    )
    caveats = list(photo.get("caveats") or [])
    measurements = dict(out.measurements)
    old = photo.get("measurements") or {}
    if "damage_score_pct" in old:  # the model's unease stays what the model said
        measurements["damage_score_pct"] = old["damage_score_pct"]
    return {
        **photo,
        "machine_grade": photo["grade"],
        "grade": out.grade,
        "rank": grade_rank(out),
        "reasons": out.reasons + caveats,
        "measurements": measurements,
    }


def review(
    kind: str,
    graded: Sequence[Mapping[str, Any]],
    machine_grade: str,
    given: Sequence[Mapping[str, Any]],
    user: str,
    at: datetime,
    grader: GraderPort | None,
) -> Reviewed:
    """Take the operator's decisions on every finding of ``graded`` (the grade step's photos)."""
    found = findings(graded)
    chosen = choose(found, given)
    rejected = [f for f in found if chosen[f["id"]][0] is Decision.REJECT and not f.get("suspected")]
    added = [f for f in found if chosen[f["id"]][0] is Decision.CONFIRM and f.get("suspected")]
    if (rejected or added) and grader is None:
        raise ReviewRefused(said(N_("this station has no grader to grade again from the kept findings")))
    photos = [_regraded(kind, p, chosen, grader) for p in graded] if grader is not None else list(graded)
    final, reasons = combine(photos) if rejected or added else (machine_grade, [])
    grade = final or machine_grade
    adjusted = rejected or added or grade != machine_grade
    status = ReviewStatus.ADJUSTED if adjusted else ReviewStatus.CONFIRMED
    decisions = []
    for f in found:
        decision, reason = chosen[f["id"]]
        entry = {"finding": f["id"], "cls": f["cls"], "decision": decision.value, "by": user, "at": iso(at)}
        if f.get("suspected"):
            entry["suspected"] = True
        if reason:
            entry["reason"] = reason
        decisions.append(entry)
    context = grade_context(kind)
    counted = [f for f in found if not f.get("suspected")]
    dismissed = [f for f in found if f.get("suspected") and chosen[f["id"]][0] is Decision.REJECT]
    if status is ReviewStatus.CONFIRMED:
        parts = [
            said(
                N_("all %(count)s findings confirmed: grade %(grade)s"),
                count=len(counted),
                grade=said_in(context, grade),
            )
            if counted
            else said(N_("grade %(grade)s kept"), grade=said_in(context, grade))
        ]
        if dismissed:
            parts.append(said(N_("%(count)s possible defects rejected"), count=len(dismissed)))
    else:
        parts = []
        if rejected:
            parts.append(
                said(
                    N_("%(rejected)s of %(count)s findings rejected"),
                    rejected=len(rejected),
                    count=len(counted),
                )
            )
        if added:
            parts.append(said(N_("%(count)s possible defects confirmed"), count=len(added)))
        parts.append(
            said(
                N_("machine grade %(machine)s, now %(grade)s"),
                machine=said_in(context, machine_grade),
                grade=said_in(context, grade),
            )
        )
    result: dict[str, Any] = {
        "review": status.value,
        "machine_grade": machine_grade,
        "grade": grade,
        "findings": found,
        "decisions": decisions,
        "said": parts,
    }
    if rejected or added:
        result["final_photos"] = photos
        result["reasons"] = reasons
    return Reviewed(status, grade, reasons, result)
