"""What the station API answers about an inspection, as typed models so ``/docs`` documents them.

Two cuts of one inspection: the operator's (``InspectionOut``, with every step's result and who
answered it) and the public one the stream overlay and the live view read (``InspectionPublic``:
fixed notices instead of internal errors, no answerer, no device reports). ``InspectionSummary`` is
the operator's cut without steps, as lists answer it. ``shown`` is the same inspection as the
console or the overlay words it, in the reader's language.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from inspector.station.states import InspectionStatus, StepStatus


class PhotoOut(BaseModel):
    """A photo a step took, by the hash it is served under (``/photos/{sha256}``)."""

    sha256: str | None = None
    overlay_sha256: str | None = None
    side: str | None = None
    angle: int | float | None = None
    grade: str | None = None


class StepCommon(BaseModel):
    key: str
    label: str
    action: str
    status: StepStatus
    operator: bool
    summary: str | None
    error: str | None
    duration_ms: int | None
    attempts: int
    started_at: str | None
    finished_at: str | None
    answered_at: str | None
    photos: list[PhotoOut]
    # the form or the result's options: only for steps the operator answers and the result step
    params: dict[str, Any] | None = None
    shown: dict[str, Any]


class StepOut(StepCommon):
    answered_by: str | None
    result: dict[str, Any]


class StepPublic(StepCommon):
    # the public notice's code (``error`` is its fixed message), never the internal reason
    error_code: str | None


class InspectionCommon(BaseModel):
    id: int
    item_kind: str
    status: InspectionStatus
    station_id: str
    current_step: int
    identity: dict[str, Any]
    grade: str | None
    grade_reasons: list[str]
    verdict: str | None
    certificate_id: str | None
    certificate_url: str | None
    error: str | None
    supersedes: str | None
    created_at: str | None
    updated_at: str | None
    finished_at: str | None
    # of two views of one inspection, the one with the higher revision is the newer
    revision: int
    certificate_on_platform: bool | None
    certificate_publication: str | None
    shown: dict[str, Any]


class InspectionSummary(InspectionCommon):
    operator: str
    started_by: str
    auto_finish: bool
    # the platform's reason for refusing the certificate: for the operator, never for the stream
    certificate_refusal: str | None


class InspectionOut(InspectionSummary):
    steps: list[StepOut]


class InspectionPublic(InspectionCommon):
    error_code: str | None
    steps: list[StepPublic]


class LiveOut(BaseModel):
    inspection: InspectionPublic | None
    last_event_id: int
