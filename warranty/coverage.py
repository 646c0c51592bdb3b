"""What a certificate's warranty covers today: plan, window, exclusions.

Following the common RMA practice (ERPNext, Odoo), the window is keyed off the sale (delivery)
date plus the plan's period; when no sale is recorded the certificate's issue date is used, so a
buyer is never left with no window at all.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from sqlmodel import Session, select

from inspector.i18n import N_
from warranty.certificate_lookup import CertificateView, lookup
from warranty.messages import Message
from warranty.plans import CodeText, Plan, PlanError, default_plan_for, get_plan
from warranty.tables import Sale
from warranty.words import CERTIFICATE_STATUS_WORDS, word


class UnknownCertificate(LookupError):
    """No certificate with that id exists."""


@dataclass(frozen=True)
class Coverage:
    """A certificate's warranty as of ``as_of``. Safe to show publicly (no buyer data)."""

    human_id: str
    plan: Plan
    basis: Literal["sale", "issue"]
    start: datetime
    end: datetime
    as_of: datetime
    certificate_status: str
    return_window_end: datetime | None

    @property
    def active(self) -> bool:
        """Claims can be opened: inside the window and the certificate is valid."""
        return self.certificate_status == "valid" and self.start <= self.as_of < self.end

    @property
    def days_left(self) -> int:
        if self.as_of >= self.end:
            return 0
        return math.ceil((self.end - self.as_of).total_seconds() / 86400)

    @property
    def return_window_open(self) -> bool:
        return self.return_window_end is not None and self.active and self.as_of < self.return_window_end

    @property
    def exclusions(self) -> tuple[CodeText, ...]:
        return self.plan.exclusions

    @property
    def inactive_text(self) -> Message | None:
        """Why no claim can be opened (None while one can), to show in a reader's language."""
        if self.certificate_status != "valid":
            status = word(CERTIFICATE_STATUS_WORDS, self.certificate_status)
            return Message(N_("the certificate is %(status)s"), {"status": status})
        if self.as_of < self.start:
            return Message(N_("the warranty has not started yet"))
        if self.as_of >= self.end:
            return Message(N_("the warranty ended on %(end)s"), {"end": self.end})
        return None

    @property
    def inactive_reason(self) -> str:
        """``inactive_text`` in English ("" while active)."""
        return str(self.inactive_text or "")

    def public_dict(self) -> dict[str, object]:
        return {
            "human_id": self.human_id,
            "plan_id": self.plan.plan_id,
            "plan_title": self.plan.title,
            "basis": self.basis,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "days_left": self.days_left,
            "active": self.active,
            "inactive_reason": self.inactive_reason,
            "return_window_end": self.return_window_end.isoformat() if self.return_window_end else None,
            "return_window_open": self.return_window_open,
            "authenticity_multiple": self.plan.authenticity_multiple,
            "covers": [c.model_dump() for c in self.plan.covers],
            "exclusions": [e.model_dump() for e in self.plan.exclusions],
        }


def plan_for_certificate(cert: CertificateView, sale: Sale | None) -> Plan:
    """Sale's plan, else the plan named in the credential, else the default for the item kind."""
    for plan_id in (sale.plan_id if sale else "", cert.plan_id):
        if plan_id:
            try:
                return get_plan(plan_id)
            except PlanError:
                continue  # a retired plan id in an old credential: fall back to the default
    return default_plan_for(cert.item_kind)


def sale_for(session: Session, human_id: str) -> Sale | None:
    return session.exec(select(Sale).where(Sale.cert_human_id == human_id)).first()


def sale_stamp(session: Session, human_id: str) -> tuple[object, ...] | None:
    """When and under which plan the certificate's item was sold (None: not yet), in one query:
    what a kept verify page re-checks of its warranty."""
    row = session.exec(select(Sale.sold_at, Sale.plan_id).where(Sale.cert_human_id == human_id)).first()
    return tuple(row) if row is not None else None


def coverage_of(cert: CertificateView, sale: Sale | None, now: datetime | None = None) -> Coverage:
    plan = plan_for_certificate(cert, sale)
    as_of = now or datetime.now(UTC)
    start = sale.sold_at if sale else cert.issued_at
    end = start + timedelta(days=plan.days)
    rw_end = start + timedelta(days=plan.return_window_days) if plan.return_window_days else None
    return Coverage(
        human_id=cert.human_id,
        plan=plan,
        basis="sale" if sale else "issue",
        start=start,
        end=end,
        as_of=as_of,
        certificate_status=cert.status,
        return_window_end=rw_end,
    )


def coverage_for(session: Session, human_id: str, now: datetime | None = None) -> Coverage:
    """Coverage of certificate ``human_id`` as of ``now`` (default: the current time).

    Raises ``UnknownCertificate`` when there is no such certificate.
    """
    cert = lookup(session, human_id)
    if cert is None:
        raise UnknownCertificate(f"no certificate {human_id!r}")
    return coverage_of(cert, sale_for(session, cert.human_id), now)
