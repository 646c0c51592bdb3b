"""Supervisor reports: which grades, stations, models and grader versions attract claims,
and how long claims take to resolve.

Claim rate = claims opened / items sold (recorded sales) in the same group. A station or a
grader version with a high rate is the early sign of grading that promises too much.
"""

from __future__ import annotations

import csv
import io
import statistics
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import case, func
from sqlmodel import Session, col, select

from inspector.auth.tenancy import Scope
from inspector.i18n import N_
from warranty.tables import Claim, Sale

# Column codes (stable: the CSV and the API use them) and their English names (translated on pages).
DIMENSIONS = {
    "grade": N_("Grade"),
    "station_id": N_("Station"),
    "device_model": N_("Device model"),
    "grader_version": N_("Grader version"),
}


@dataclass(frozen=True)
class RateRow:
    value: str
    sold: int
    claims: int
    approved: int
    denied: int

    @property
    def rate(self) -> float | None:
        return self.claims / self.sold if self.sold else None


def claim_rates(session: Session, dimension: str, scope: Scope) -> list[RateRow]:
    """Claims per sold item of the stations in ``scope``, grouped by ``dimension`` (one of ``DIMENSIONS``)."""
    if dimension not in DIMENSIONS:
        raise ValueError(f"unknown dimension {dimension!r}; use one of {', '.join(DIMENSIONS)}")
    sale_col = getattr(Sale, dimension)
    claim_col = getattr(Claim, dimension)
    sold: dict[object, int] = dict(
        session.execute(
            select(sale_col, func.count()).where(scope.stations(Sale.station_id)).group_by(sale_col)
        ).all()
    )
    approved = func.sum(case((col(Claim.outcome).is_not(None), 1), else_=0))
    denied = func.sum(case((col(Claim.deny_reason).is_not(None), 1), else_=0))
    rows: dict[str, list[int]] = {}
    for value, n, a, d in session.execute(
        select(claim_col, func.count(), approved, denied)
        .where(scope.stations(Claim.station_id))
        .group_by(claim_col)
    ).all():
        rows[str(value or "")] = [int(n), int(a or 0), int(d or 0)]
    keys = sorted(set(rows) | {str(k or "") for k in sold})
    out = [RateRow(k, int(sold.get(k, 0)), *rows.get(k, [0, 0, 0])) for k in keys]
    out.sort(key=lambda r: (-(r.rate or 0), -r.claims, r.value))
    return out


@dataclass(frozen=True)
class ResolutionStats:
    resolved: int
    open: int
    mean_hours: float | None
    median_hours: float | None
    p90_hours: float | None


def time_to_resolution(session: Session, scope: Scope, item_kind: str = "") -> ResolutionStats:
    """Hours from opening to resolution over resolved claims in ``scope`` (and how many are still open)."""
    in_scope = scope.stations(Claim.station_id)
    stmt = select(Claim.created_at, Claim.resolved_at).where(col(Claim.resolved_at).is_not(None), in_scope)
    open_stmt = (
        select(func.count())
        .select_from(Claim)
        .where(col(Claim.resolved_at).is_(None), col(Claim.closed_at).is_(None), in_scope)
    )
    if item_kind:
        stmt = stmt.where(Claim.item_kind == item_kind)
        open_stmt = open_stmt.where(Claim.item_kind == item_kind)
    hours = sorted(
        (resolved - created).total_seconds() / 3600
        for created, resolved in session.execute(stmt).all()
        if resolved is not None
    )
    n_open = int(session.execute(open_stmt).scalar_one())
    if not hours:
        return ResolutionStats(0, n_open, None, None, None)
    p90 = hours[min(len(hours) - 1, round(0.9 * (len(hours) - 1)))]
    return ResolutionStats(len(hours), n_open, statistics.fmean(hours), statistics.median(hours), p90)


CSV_COLUMNS = [
    "ref",
    "cert_human_id",
    "order_ref",
    "item_kind",
    "plan_id",
    "station_id",
    "grade",
    "device_model",
    "grader_version",
    "problem",
    "state",
    "outcome",
    "deny_reason",
    "payout_minor",
    "payout_currency",
    "opened_via",
    "created_at",
    "received_at",
    "decided_at",
    "resolved_at",
    "closed_at",
]


FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: object) -> object:
    """A text cell a spreadsheet would run as a formula (``=HYPERLINK(...)`` in an order
    reference) gets a leading single quote, so it is shown as text (OWASP "CSV injection")."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def claims_csv(session: Session, scope: Scope, batch: int = 2000) -> Iterator[str]:
    """CSV of every claim in ``scope`` (no buyer contact), streamed in batches so a big export stays
    small in memory."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(CSV_COLUMNS)
    yield buf.getvalue()
    last = 0
    while True:
        stmt = (
            select(Claim)
            .where(col(Claim.id) > last, scope.stations(Claim.station_id))
            .order_by(col(Claim.id))
            .limit(batch)
        )
        rows = list(session.exec(stmt))
        if not rows:
            return
        buf = io.StringIO()
        writer = csv.writer(buf)
        for c in rows:
            values = []
            for name in CSV_COLUMNS:
                v = getattr(c, name)
                values.append(
                    v.isoformat() if hasattr(v, "isoformat") else ("" if v is None else spreadsheet_safe(v))
                )
            writer.writerow(values)
        last = rows[-1].id or last
        yield buf.getvalue()


def rates_csv(session: Session, scope: Scope) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["dimension", "value", "sold", "claims", "approved", "denied", "claim_rate"])
    for dim in DIMENSIONS:
        for r in claim_rates(session, dim, scope):
            rate = "" if r.rate is None else f"{r.rate:.4f}"
            writer.writerow([dim, spreadsheet_safe(r.value), r.sold, r.claims, r.approved, r.denied, rate])
    return buf.getvalue()
