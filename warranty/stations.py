"""The enrolled stations a user may see, with their last upload and their claims (open and all).

A seller's staff see their own stations here, the platform admin every one (``inspector.auth.tenancy``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func
from sqlmodel import Session, col, select

from inspector.auth.tenancy import Scope
from inspector.platform.tables import EnrolledStation
from warranty.tables import Claim


@dataclass(frozen=True)
class StationRow:
    station_id: str
    seller_id: str | None
    enrolled_at: datetime
    last_upload_at: datetime | None
    open_claims: int
    claims: int


def station_rows(session: Session, scope: Scope) -> list[StationRow]:
    """The stations enrolled with this platform that ``scope`` covers, by id."""
    in_scope = scope.stations(EnrolledStation.station_id)
    stations = session.exec(select(EnrolledStation).where(in_scope).order_by(col(EnrolledStation.station_id)))
    is_open = func.sum(case((col(Claim.open_cert).is_not(None), 1), else_=0))
    counts = {
        station: (int(n), int(n_open or 0))
        for station, n, n_open in session.execute(
            select(Claim.station_id, func.count(), is_open)
            .where(scope.stations(Claim.station_id))
            .group_by(col(Claim.station_id))
        ).all()
    }
    return [
        StationRow(
            station_id=s.station_id,
            seller_id=s.seller_id,
            enrolled_at=s.enrolled_at,
            last_upload_at=s.last_upload_at,
            open_claims=counts.get(s.station_id, (0, 0))[1],
            claims=counts.get(s.station_id, (0, 0))[0],
        )
        for s in stations
    ]
