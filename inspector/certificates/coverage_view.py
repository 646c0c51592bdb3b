"""The warranty a verify page shows: from the warranty component, else from the certificate.

Only codes, numbers and dates leave here; the page words them in the reader's language (plan
titles and exclusions are the plan files' English, translated in the ``warranty`` catalogue).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from sqlmodel import Session

from inspector.certificates.service import CertificateRecord


@dataclass(frozen=True)
class WarrantyView:
    source: Literal["warranty", "certificate"]
    status: Literal["active", "ended", "not_started", "none"]
    plan_title: str = ""
    days: int = 0
    days_left: int = 0
    ends_at: datetime | None = None
    basis: Literal["sale", "issue"] = "issue"
    exclusions: tuple[str, ...] = ()
    claim_url: str | None = None


def warranty_status(session: Session, record: CertificateRecord) -> WarrantyView:
    """Coverage from the warranty component (``warranty.coverage_for``); else from the certificate.

    The fallback (warranty component absent or failing) counts the plan's days from the
    certificate's issue date and says so on the page.
    """
    try:
        warranty_mod: Any = importlib.import_module("warranty")
    except ImportError:
        warranty_mod = None
    coverage_for = getattr(warranty_mod, "coverage_for", None)
    if callable(coverage_for):
        try:
            cov = coverage_for(session, record.human_id)
        except (LookupError, ValueError):
            cov = None
        if cov is not None:
            if cov.active:
                status: Literal["active", "ended", "not_started", "none"] = "active"
            elif record.status == "valid" and cov.as_of < cov.start:
                status = "not_started"
            else:
                status = "ended"
            return WarrantyView(
                source="warranty",
                status=status,
                plan_title=getattr(cov.plan, "title", "") or getattr(cov.plan, "plan_id", ""),
                days=int(getattr(cov.plan, "days", 0)),
                days_left=int(cov.days_left),
                ends_at=cov.end,
                basis=cov.basis,
                exclusions=tuple(getattr(e, "text", str(e)) for e in cov.exclusions),
                claim_url=f"/claims/new?cert={record.human_id}" if cov.active else None,
            )
    days = int(record.warranty.get("days", 0) or 0)
    if not days:
        return WarrantyView(source="certificate", status="none")
    ends = record.issued_at + timedelta(days=days)
    left = (ends - datetime.now(UTC)).days
    return WarrantyView(
        source="certificate",
        status="active" if left >= 0 and record.status == "valid" else "ended",
        plan_title=str(record.warranty.get("plan_id", "")),
        days=days,
        ends_at=ends,
        days_left=max(left, 0),
    )
