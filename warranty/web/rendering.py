"""Views shared by several pages: the return label, the buyer's event list."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import Request
from fastapi.responses import Response
from sqlmodel import Session

from inspector.i18n import N_
from warranty.messages import Message
from warranty.service import events
from warranty.tables import Claim, ClaimEvent
from warranty.web.pages import note, templates


def label_page(request: Request, claim: Claim, back: str) -> Response:
    return templates.TemplateResponse(
        request,
        "warranty/label.html",
        {"claim": claim, "back": back, "printed": datetime.now(UTC)},
    )


def _who(event: ClaimEvent) -> str:
    if event.actor_role == "buyer":
        return N_("you")
    return N_("support") if event.action == "open" else N_("warehouse")


def public_events(session: Session, claim: Claim) -> list[dict[str, Any]]:
    """The buyer sees what happened and why, not which staff member did it."""
    return [
        {
            "at": e.at,
            "to_state": e.to_state,
            "who": Message(_who(e)),
            "reason": note(e) if e.action in ("approve", "deny", "resolve", "withdraw") else "",
        }
        for e in events(session, claim)
    ]
