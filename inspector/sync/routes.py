"""``GET /api/station/sync``: what this station still has to send its platform, and why it waits."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from inspector.auth import Role, User, require_roles
from inspector.station.sync_wording import SyncFacts, SyncShown, sync_shown
from inspector.sync.enrolment import current_enrolment, issuer_base
from inspector.sync.outbox import aware, backlog
from inspector.sync.pusher import Condition
from inspector.web.deps import SessionDep, SettingsDep
from inspector.web.language import request_locale
from inspector.web.responses import refusals

router = APIRouter(tags=["station"], responses=refusals(401, 403))


class Counts(BaseModel):
    certificate: int = Field(description="Certificates")
    photo: int = Field(description="Photos")


class RefusedCertificate(BaseModel):
    """The certificate the platform refused last: kept here, its QR code never shown."""

    human_id: str
    refused_at: datetime
    refusal: str = Field(
        description="Its kind: tampered, conflict, another_station, ... (empty: set aside here)."
    )
    reason: str = Field(description="The platform's words.")


class SyncState(BaseModel):
    """The console's "3 certificates waiting for the platform", and what stands in the way."""

    station_id: str
    enrolled: bool = Field(description="False: a stand-alone station, its certificates are its own.")
    condition: Condition
    condition_since: datetime | None = Field(description="When the sync came into this condition.")
    platform_url: str | None = Field(description="Where this station sends (None when not enrolled).")
    issuer_url: str | None = Field(description="The platform's public address, on every certificate.")
    waiting: Counts = Field(description="Not yet taken by the platform.")
    refused: Counts = Field(description="Refused by the platform for good; kept on this station.")
    last_refused_certificate: RefusedCertificate | None
    oldest_waiting_at: datetime | None
    last_error: str | None = Field(description="The last problem, in words (None when there was none).")
    last_error_kind: str | None = Field(
        description="Its kind: a refusal of the platform (station_key_revoked, ...) or no_connection, "
        "timeout, error_answer, bad_receipt, key_missing, database, unexpected."
    )
    last_error_at: datetime | None
    last_success_at: datetime | None
    shown: SyncShown | None = Field(
        description="What the console shows, in the reader's language (None: stand-alone, nothing to show)."
    )


@router.get("/api/station/sync", summary="Sync with the platform: backlog, oldest waiting, last error")
def sync_state(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    _user: User = Depends(require_roles(Role.operator)),
) -> SyncState:
    enrolment = current_enrolment(session, settings.station_id)
    queue = backlog(session, settings.station_id)
    last = queue.last_refused_certificate
    shown = None
    if enrolment is not None:
        facts = SyncFacts(
            condition=enrolment.condition,
            platform_url=enrolment.platform_url,
            waiting_certificates=queue.waiting["certificate"],
            waiting_photos=queue.waiting["photo"],
            refused_certificates=queue.refused["certificate"],
            condition_since=aware(enrolment.condition_since),
            last_error=enrolment.last_error or None,
            last_error_kind=enrolment.last_error_kind,
            refused_id=last.ref if last is not None else None,
            refused_kind=last.refusal_kind if last is not None else "",
            refused_reason=last.reason if last is not None else None,
        )
        shown = sync_shown(facts, request_locale(request), settings.zone)
    return SyncState(
        station_id=settings.station_id,
        enrolled=enrolment is not None,
        condition=Condition(enrolment.condition) if enrolment is not None else Condition.STANDALONE,
        condition_since=aware(enrolment.condition_since) if enrolment is not None else None,
        platform_url=enrolment.platform_url if enrolment is not None else None,
        issuer_url=issuer_base(enrolment) if enrolment is not None else None,
        waiting=Counts.model_validate(queue.waiting),
        refused=Counts.model_validate(queue.refused),
        last_refused_certificate=RefusedCertificate(
            human_id=last.ref, refused_at=last.refused_at, refusal=last.refusal_kind, reason=last.reason
        )
        if last is not None
        else None,
        oldest_waiting_at=queue.oldest_waiting_at,
        last_error=(enrolment.last_error or None) if enrolment is not None else None,
        last_error_kind=(enrolment.last_error_kind or None) if enrolment is not None else None,
        last_error_at=aware(enrolment.last_error_at) if enrolment is not None else None,
        last_success_at=aware(enrolment.last_success_at) if enrolment is not None else None,
        shown=shown,
    )
