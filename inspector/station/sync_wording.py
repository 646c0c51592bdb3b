"""The console's words for the sync with the platform: "3 certificates waiting for the platform".

The pusher keeps its state as codes (a condition, a problem kind) and English detail for logs;
this turns them into sentences in the operator's language, with times in the station's zone.
It takes plain values, so the station's catalogue holds the words and nothing here needs the
sync package.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal
from zoneinfo import ZoneInfo

from babel.dates import format_datetime, format_time
from pydantic import BaseModel, Field

from inspector.i18n import N_, AppLocale, translate, translate_plural

Tone = Literal["good", "busy", "warn", "bad"]

# Why the platform cannot be reached, by the pusher's problem kind (``sync.tables.Problem``).
UNREACHABLE_BECAUSE = {
    "no_connection": N_("the network is down or the platform is not running"),
    "timeout": N_("it takes too long to answer"),
    "error_answer": N_("it answers with an error"),
    "bad_receipt": N_("its proof of receipt does not check out"),
    "database": N_("this station's database does not answer"),
}
# Why the platform refuses the whole station, by refusal (``sync.wire.Refusal``) or problem kind.
REFUSED_BECAUSE = {
    "station_key_revoked": N_("its key was revoked"),
    "station_key_retired": N_("its key was retired"),
    "unknown_station_key": N_("the platform does not know its key"),
    "bad_signature": N_("its requests are not signed properly"),
    "unsigned": N_("its requests are not signed properly"),
    "stale_request": N_("this station's clock is more than 5 minutes off"),
    "key_missing": N_("its signing key is missing from its data directory"),
}
# Why the platform refused one certificate for good, by refusal (``sync.wire.Refusal``); other
# kinds show the platform's own words.
CERTIFICATE_REFUSED_BECAUSE = {
    "tampered": N_("it was changed after it was signed"),
    "conflict": N_("the platform holds another certificate under its number"),
    "malformed": N_("the platform cannot read it"),
    "certificate_unknown_key": N_("it is signed with a key the platform does not know"),
    "certificate_key_revoked": N_("it is signed with a revoked key"),
    "another_station": N_("it is signed by another station"),
    "foreign_issuer": N_("it names another platform's address"),
    "foreign_status_list": N_("its status entries are not this platform's"),
    "digest_mismatch": N_("it changed on the way to the platform"),
    "too_large": N_("it is too large"),
}


@dataclass(frozen=True)
class SyncFacts:
    """What the station knows about its sync, as stored (codes, counts, UTC moments)."""

    condition: str  # sync.pusher.Condition value
    platform_url: str
    waiting_certificates: int
    waiting_photos: int
    refused_certificates: int
    condition_since: datetime | None
    last_error: str | None
    last_error_kind: str
    refused_id: str | None = None  # the certificate refused last, its refusal's kind and words
    refused_kind: str = ""
    refused_reason: str | None = None


class SyncShown(BaseModel):
    """The sync state as a person reads it, in the reader's language."""

    tone: Tone = Field(description="good: all sent; busy: sending; warn: the platform is away; bad: refused.")
    headline: str = Field(description='e.g. "3 certificates waiting for the platform".')
    problem: str | None = Field(description='What is in the way: "Platform unreachable since 14:02: ...".')
    advice: str | None = Field(description="What happens next, or what to do.")
    detail: str | None = Field(description="The technical reason, for whoever fixes it.")
    refused: str | None = Field(
        description='Certificates the platform refused for good (kept here): "1 certificate refused by the '
        'platform: it was changed after it was signed".'
    )
    refused_detail: str | None = Field(description="The certificate refused last, kept on this station.")
    platform: str = Field(description="Where this station sends.")


def _clock(moment: datetime, locale: AppLocale, zone: ZoneInfo, now: datetime) -> str:
    """A time of today as ``14:02``; of another day with its date."""
    moment = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    if moment.astimezone(zone).date() == now.astimezone(zone).date():
        return format_time(moment, format="short", tzinfo=zone, locale=locale.value)
    return format_datetime(moment, format="short", tzinfo=zone, locale=locale.value)


def _headline(facts: SyncFacts, locale: AppLocale) -> str:
    if facts.waiting_certificates:
        return translate_plural(
            locale,
            "%(num)s certificate waiting for the platform",
            "%(num)s certificates waiting for the platform",
            facts.waiting_certificates,
        )
    if facts.waiting_photos:
        return translate_plural(
            locale,
            "%(num)s photo waiting for the platform",
            "%(num)s photos waiting for the platform",
            facts.waiting_photos,
        )
    if facts.refused_certificates:  # not "all": the refused ones never will be
        return translate(locale, "Nothing is waiting for the platform")
    return translate(locale, "All certificates are on the platform")


def sync_shown(facts: SyncFacts, locale: AppLocale, zone: ZoneInfo, now: datetime | None = None) -> SyncShown:
    """The sentences the console shows for ``facts``."""
    now = now or datetime.now(UTC)
    waiting = facts.waiting_certificates + facts.waiting_photos
    tone: Tone = "busy" if waiting else "good"
    problem = advice = detail = None
    since = _clock(facts.condition_since, locale, zone, now) if facts.condition_since else None
    if facts.condition == "offline":
        tone = "warn"
        because = UNREACHABLE_BECAUSE.get(facts.last_error_kind, UNREACHABLE_BECAUSE["error_answer"])
        reason = translate(locale, because)
        problem = (
            translate(locale, "Platform unreachable since %(time)s: %(reason)s", time=since, reason=reason)
            if since
            else translate(locale, "Platform unreachable: %(reason)s", reason=reason)
        )
        advice = translate(
            locale,
            "The station keeps working; the certificates go out by themselves when the platform answers.",
        )
        detail = facts.last_error
    elif facts.condition == "refused":
        tone = "bad"
        problem = (
            translate(locale, "The platform refused this station: %(reason)s", reason=translate(locale, why))
            if (why := REFUSED_BECAUSE.get(facts.last_error_kind))
            else translate(locale, "The platform refused this station.")
        )
        advice = (
            translate(locale, "Set this station's clock right; sending resumes by itself.")
            if facts.last_error_kind == "stale_request"
            else translate(
                locale,
                "Its certificates stay on this station. Ask the platform's admin for a new enrolment code "
                "and enrol the station again.",
            )
        )
        detail = facts.last_error
    refused = refused_detail = None
    if facts.refused_certificates:
        why = CERTIFICATE_REFUSED_BECAUSE.get(facts.refused_kind)
        reason = translate(locale, why) if why else (facts.refused_reason or "")
        refused = translate_plural(
            locale,
            "%(num)s certificate refused by the platform: %(reason)s",
            "%(num)s certificates refused by the platform, the last: %(reason)s",
            facts.refused_certificates,
            reason=reason,
        )
        if facts.refused_id:  # the platform's own words stay in the API and the CLI (often English)
            refused_detail = translate(
                locale,
                "Certificate %(id)s is kept on this station; its QR code is never shown.",
                id=facts.refused_id,
            )
    address = facts.platform_url.removeprefix("https://").removeprefix("http://")
    return SyncShown(
        tone=tone,
        headline=_headline(facts, locale),
        problem=problem,
        advice=advice,
        detail=translate(locale, "Details: %(detail)s", detail=detail) if detail else None,
        refused=refused,
        refused_detail=refused_detail,
        platform=translate(locale, "Sends to %(address)s", address=address),
    )
