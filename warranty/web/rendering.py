"""Template filters and views shared by several pages: the return label, the buyer's event list."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import Request
from fastapi.responses import Response
from sqlmodel import Session

from inspector.web.templating import templates
from warranty.service import events
from warranty.tables import Claim


def money(minor: int | None, currency: str | None) -> str:
    if minor is None:
        return "-"
    return f"{minor / 100:,.2f} {currency or ''}".strip()


templates.env.filters["w_money"] = lambda c: money(
    getattr(c, "payout_minor", None), getattr(c, "payout_currency", "")
)
templates.env.filters["w_human_state"] = lambda s: (s or "").replace("_", " ")
templates.env.filters["w_ts"] = lambda d: d.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if d else "-"
templates.env.filters["w_day"] = lambda d: d.astimezone(UTC).strftime("%Y-%m-%d") if d else "-"


def label_page(request: Request, claim: Claim, back: str) -> Response:
    return templates.TemplateResponse(
        request,
        "warranty/label.html",
        {"title": f"Return label {claim.ref}", "claim": claim, "back": back, "printed": datetime.now(UTC)},
    )


def public_events(session: Session, claim: Claim) -> list[dict[str, Any]]:
    """The buyer sees what happened and why, not which staff member did it."""
    return [
        {
            "at": e.at,
            "to_state": e.to_state,
            "who": "you" if e.actor_role == "buyer" else ("support" if e.action == "open" else "warehouse"),
            "reason": e.reason if e.action in ("approve", "deny", "resolve", "withdraw") else "",
        }
        for e in events(session, claim)
    ]
