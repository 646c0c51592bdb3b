"""``GET /api/station/sync``: what this station still has to send its platform, and why it waits."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field
from sqlmodel import Session

from inspector.auth import Role, User, require_roles
from inspector.config import Settings
from inspector.sync.enrolment import current_enrolment, issuer_base
from inspector.sync.outbox import aware, backlog
from inspector.sync.pusher import Condition
from inspector.web.deps import get_session, get_settings_dep
from inspector.web.responses import refusals

router = APIRouter(tags=["station"], responses=refusals(401, 403))


class Counts(BaseModel):
    certificate: int = Field(description="Certificates")
    photo: int = Field(description="Photos")


class SyncState(BaseModel):
    """The console's "3 certificates waiting for the platform", and what stands in the way."""

    station_id: str
    enrolled: bool = Field(description="False: a stand-alone station, its certificates are its own.")
    condition: Condition
    platform_url: str | None = Field(description="Where this station sends (None when not enrolled).")
    issuer_url: str | None = Field(description="The platform's public address, on every certificate.")
    waiting: Counts = Field(description="Not yet taken by the platform.")
    refused: Counts = Field(description="Refused by the platform for good; kept on this station.")
    oldest_waiting_at: datetime | None
    last_error: str | None = Field(description="The last problem, in words (None when there was none).")
    last_error_at: datetime | None
    last_success_at: datetime | None


@router.get("/api/station/sync", summary="Sync with the platform: backlog, oldest waiting, last error")
def sync_state(
    _user: User = Depends(require_roles(Role.operator)),
    session: Session = Depends(get_session),
    settings: Settings = Depends(get_settings_dep),
) -> SyncState:
    enrolment = current_enrolment(session, settings.station_id)
    queue = backlog(session, settings.station_id)
    return SyncState(
        station_id=settings.station_id,
        enrolled=enrolment is not None,
        condition=Condition(enrolment.condition) if enrolment is not None else Condition.STANDALONE,
        platform_url=enrolment.platform_url if enrolment is not None else None,
        issuer_url=issuer_base(enrolment) if enrolment is not None else None,
        waiting=Counts.model_validate(queue.waiting),
        refused=Counts.model_validate(queue.refused),
        oldest_waiting_at=queue.oldest_waiting_at,
        last_error=(enrolment.last_error or None) if enrolment is not None else None,
        last_error_at=aware(enrolment.last_error_at) if enrolment is not None else None,
        last_success_at=aware(enrolment.last_success_at) if enrolment is not None else None,
    )
