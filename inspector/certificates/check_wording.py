"""The inspection's checks in plain words, for the buyer's page.

A certificate signs each step of the station's flow as a check: its step key (``battery``,
``lock``, ``weigh``), the operator console's label and the station's one-line English summary.
The page shows the checks a buyer can act on, named for buyers and in their language; steps that
only run the station (connecting, lights, photos, the grade, which has its own section) are left
out, and so is every summary that would show internal details (transports, addresses, serials).
Numbers a buyer cares about (battery capacity, weight) are read back from the summary, whose
shape ``inspector.station.service`` fixes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from inspector.certificates.wording import grams
from inspector.i18n import N_, AppLocale, translate, translations

# The operator's review of the marks is said beside the grade, not as a check.
HIDDEN_STEPS = frozenset(
    {"connect", "light", "photo_screen", "photo_back", "photos", "grade", "review", "result"}
)
OPERATOR_STEPS = frozenset({"check_buttons", "check_speaker", "check_cameras", "check_touch", "declare"})

# What each known step proves, in words a buyer uses (translated where the page is rendered).
CHECK_NAMES: dict[str, str] = {
    "identity": N_("IMEI, model and storage read from the phone"),
    "battery": N_("Battery"),
    "lock": N_("Account lock, screen lock and root"),
    "check_buttons": N_("Buttons (power, volume) work"),
    "check_speaker": N_("Speaker and microphone work"),
    "check_cameras": N_("Front and rear cameras work"),
    "check_touch": N_("Touch screen responds everywhere"),
    "weigh": N_("Weighed on the station's balance"),
    "declare": N_("Metal, hallmark and stones declared"),
}

_WARNING = "warning: "
_HEALTH = re.compile(r"\bhealth (?P<health>[a-z_]+)")
_CAPACITY = re.compile(r"\bcapacity (?P<pct>\d+)%")
_CYCLES = re.compile(r"\b(?P<n>\d+) cycles\b")
_SCREEN_LOCK = re.compile(r"\bscreen lock set\b")
_GRAMS = re.compile(r"^(?P<g>\d+\.\d+) g\b")
_WEIGHT_DIFFERS = re.compile(r"(?P<diff>[+-]\d+) mg against certificate (?P<cert>[0-9A-Z]+)")
_WEIGHT_MATCHES = re.compile(r"matches certificate (?P<cert>[0-9A-Z]+) \((?P<diff>[+-]\d+) mg\)")
_SAME_PHONE = re.compile(r"matches certificate (?P<cert>[0-9A-Z]+)")
_OTHER_PHONE = re.compile(r"NOT the phone certified on (?P<cert>[0-9A-Z]+)")


class Outcome(StrEnum):
    """How a check ended, as the page marks it."""

    passed = "pass"
    noted = "note"  # passed, with something the buyer should know (the station's "warning")
    failed = "fail"
    not_checked = "unknown"
    skipped = "skipped"


OUTCOME_WORDS: dict[Outcome, str] = {
    Outcome.passed: N_("Passed"),
    Outcome.noted: N_("Passed, see note"),
    Outcome.failed: N_("Failed"),
    Outcome.not_checked: N_("Not checked"),
    Outcome.skipped: N_("Skipped"),
}


@dataclass(frozen=True)
class CheckLine:
    key: str
    name: str
    outcome: Outcome
    outcome_words: str
    detail: str  # "" when there is nothing more to say
    by: str | None  # who answered a check done by hand
    at: datetime | None


def _outcome(check: dict[str, Any]) -> Outcome:
    status = str(check.get("status", ""))
    if status == "pass" and str(check.get("detail", "")).startswith(_WARNING):
        return Outcome.noted
    try:
        return Outcome(status)
    except ValueError:
        return Outcome.not_checked


def _separator(locale: AppLocale) -> str:
    return translations(locale).pgettext("between the parts of a sentence", ", ")


def _battery(detail: str, locale: AppLocale) -> str:
    parts = []
    health = _HEALTH.search(detail)
    if health:
        t = translations(locale)
        words = {
            "good": t.pgettext("battery health", "good"),
            "overheat": t.pgettext("battery health", "overheating"),
            "dead": t.pgettext("battery health", "dead"),
            "over_voltage": t.pgettext("battery health", "over voltage"),
            "cold": t.pgettext("battery health", "too cold"),
            "unspecified_failure": t.pgettext("battery health", "failing"),
        }
        state = words.get(health["health"], t.pgettext("battery health", "not reported"))
        parts.append(translate(locale, "Health: %(state)s", state=state))
    capacity = _CAPACITY.search(detail)
    if capacity:
        parts.append(translate(locale, "%(pct)s%% of its original capacity", pct=capacity["pct"]))
    cycles = _CYCLES.search(detail)
    if cycles:
        parts.append(translate(locale, "%(num)s charge cycles", num=cycles["n"]))
    return _separator(locale).join(parts)


def _lock(detail: str, locale: AppLocale) -> str:
    found = []
    if "FRP locked" in detail:
        found.append(translate(locale, "locked to the previous owner's account (FRP)"))
    if "FRP state unknown" in detail:
        found.append(translate(locale, "the account lock (FRP) could not be read"))
    if re.search(r"(^|; )rooted\b", detail):
        found.append(translate(locale, "rooted (system modified)"))
    if "bootloader unlocked" in detail:
        found.append(translate(locale, "bootloader unlocked"))
    if _SCREEN_LOCK.search(detail):
        found.append(translate(locale, "a screen lock is still set"))
    if found:
        return _separator(locale).join(found)
    if "no FRP lock" in detail:
        return translate(locale, "Not locked to any account, no screen lock, not rooted")
    return ""


def _identity(detail: str, outcome: Outcome, locale: AppLocale) -> str:
    other = _OTHER_PHONE.search(detail)
    if other:
        return translate(locale, "Not the phone of certificate %(cert)s", cert=other["cert"])
    same = _SAME_PHONE.search(detail)
    if same:
        return translate(locale, "The same phone as certificate %(cert)s", cert=same["cert"])
    if outcome is Outcome.noted:
        return translate(locale, "The phone did not report all of its IMEI, model and storage")
    return ""


def _weight(detail: str, locale: AppLocale) -> str:
    weighed = _GRAMS.match(detail)
    if not weighed:
        return ""
    mg = round(float(weighed["g"]) * 1000)
    text = grams(mg, locale)
    differs = _WEIGHT_DIFFERS.search(detail) or _WEIGHT_MATCHES.search(detail)
    if differs:
        diff = int(differs["diff"])
        diff_g, cert = grams(abs(diff), locale), differs["cert"]
        if diff > 0:
            change = translate(
                locale, "%(diff)s heavier than on certificate %(cert)s", diff=diff_g, cert=cert
            )
        elif diff < 0:
            change = translate(
                locale, "%(diff)s lighter than on certificate %(cert)s", diff=diff_g, cert=cert
            )
        else:
            change = translate(locale, "the same as on certificate %(cert)s", cert=cert)
        text = translate(locale, "%(weight)s (%(change)s)", weight=text, change=change)
    return text


def _detail(key: str, check: dict[str, Any], outcome: Outcome, locale: AppLocale) -> str:
    detail = str(check.get("detail", "")).removeprefix(_WARNING)
    if key == "battery":
        return _battery(detail, locale)
    if key == "lock":
        return _lock(detail, locale)
    if key == "identity":
        return _identity(detail, outcome, locale)
    if key == "weigh":
        return _weight(detail, locale)
    if key == "declare":
        return translate(locale, "As the operator declared them: not tested by the station")
    return ""  # free text from the station may name internals: never shown as it is


def _when(value: Any) -> datetime | None:
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def check_lines(checks: list[dict[str, Any]], locale: AppLocale) -> list[CheckLine]:
    """The checks a buyer reads, in the order they ran."""
    lines = []
    for check in checks:
        if not isinstance(check, dict):
            continue
        key = str(check.get("name", ""))
        if key in HIDDEN_STEPS:
            continue
        outcome = _outcome(check)
        name = CHECK_NAMES.get(key) or str(check.get("label") or key.replace("_", " "))
        by = check.get("by") if key in OPERATOR_STEPS else None
        lines.append(
            CheckLine(
                key=key,
                name=translate(locale, name),
                outcome=outcome,
                outcome_words=translate(locale, OUTCOME_WORDS[outcome]),
                detail=_detail(key, check, outcome, locale),
                by=str(by) if by else None,
                at=_when(check.get("at")) if by else None,
            )
        )
    return lines
