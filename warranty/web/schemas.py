"""What the warranty API answers, as typed models so ``/docs`` documents every answer."""

from __future__ import annotations

from pydantic import BaseModel, Field

from warranty.tables import Claim, ClaimEvent


class ClaimOut(BaseModel):
    """A claim as staff and stations see it (no buyer contact, no secret)."""

    ref: str
    cert_human_id: str
    order_ref: str
    state: str
    # the claim's version: a transition names it so two desks cannot both move the claim
    version: int
    item_kind: str
    station_id: str
    grade: str
    problem: str
    outcome: str | None
    deny_reason: str | None
    payout_minor: int | None
    payout_currency: str | None
    created_at: str
    updated_at: str

    @classmethod
    def of(cls, claim: Claim) -> ClaimOut:
        return cls(
            ref=claim.ref,
            cert_human_id=claim.cert_human_id,
            order_ref=claim.order_ref,
            state=claim.state,
            version=claim.version,
            item_kind=claim.item_kind,
            station_id=claim.station_id,
            grade=claim.grade,
            problem=claim.problem,
            outcome=claim.outcome,
            deny_reason=claim.deny_reason,
            payout_minor=claim.payout_minor,
            payout_currency=claim.payout_currency,
            created_at=claim.created_at.isoformat(),
            updated_at=claim.updated_at.isoformat(),
        )


class ClaimEventOut(BaseModel):
    """One line of a claim's audit log."""

    at: str
    actor: str
    role: str
    action: str
    from_: str | None = Field(serialization_alias="from")
    to: str
    reason: str

    @classmethod
    def of(cls, e: ClaimEvent) -> ClaimEventOut:
        return cls(
            at=e.at.isoformat(),
            actor=e.actor,
            role=e.actor_role,
            action=e.action,
            from_=e.from_state,
            to=e.to_state,
            reason=e.reason,
        )


class ClaimWithEventsOut(ClaimOut):
    events: list[ClaimEventOut]


class QueueOut(BaseModel):
    total: int
    claims: list[ClaimOut]


class PublicEventOut(BaseModel):
    """What the buyer sees of one step: when, to which state and why, not who."""

    at: str
    state: str
    reason: str


class ClaimStatusOut(BaseModel):
    ref: str
    state: str
    outcome: str | None
    deny_reason: str | None
    events: list[PublicEventOut]


class OpenedClaimOut(BaseModel):
    ref: str
    state: str
    # the buyer's private link to follow the claim: shown once, never stored in the clear
    status_url: str


class SaleOut(BaseModel):
    cert: str
    order_ref: str
    plan_id: str | None
