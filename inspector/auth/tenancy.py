"""Who sees which stations' data: the one place that turns a signed-in user into a scope.

Several sellers share one platform. Each enrolled station belongs to at most one seller
(``platform_station.seller_id``) and each user to at most one seller (``auth_user.seller_id``):

* a user of a seller sees the claims, sales and reports of that seller's stations only, whatever
  the role (a seller's ``admin`` is that seller's admin);
* an ``admin`` of no seller is the platform's admin and sees everything;
* anyone else of no seller is the platform's own staff: they see the stations no seller runs.
  On a station server (no sellers at all) that is every station, as it always was.

Every staff query asks ``Scope.stations(column)`` for its WHERE clause, and every single row a
user names by its reference goes through ``Scope.covers``; out of scope is "not found", so a
seller's staff cannot learn that another seller's claim exists.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, true
from sqlalchemy.orm import InstrumentedAttribute
from sqlmodel import Session, col, select

from inspector.auth.service import Role
from inspector.auth.tables import Seller, User
from inspector.platform.tables import EnrolledStation


@dataclass(frozen=True)
class Scope:
    """The stations a user may see: all, those of ``seller_id``, or (``seller_id`` None) the
    platform's own."""

    seller_id: str | None = None
    everything: bool = False

    def stations(self, station_column: str | InstrumentedAttribute[str]) -> ColumnElement[bool]:
        """A WHERE clause keeping the rows whose ``station_column`` (e.g. ``Claim.station_id``,
        typed ``str`` on SQLModel classes) is in this scope."""
        if self.everything:
            return true()
        column = col(station_column)
        if self.seller_id is not None:
            return column.in_(
                select(EnrolledStation.station_id).where(EnrolledStation.seller_id == self.seller_id)
            )
        return column.not_in(
            select(EnrolledStation.station_id).where(col(EnrolledStation.seller_id).is_not(None))
        )

    def covers(self, session: Session, station_id: str) -> bool:
        """Is one row of ``station_id`` in scope? (The same rule as ``stations``, for one row.)"""
        return self.everything or seller_of_station(session, station_id) == self.seller_id


EVERYTHING = Scope(everything=True)
PLATFORM_OWN = Scope()


def scope_of(user: User) -> Scope:
    """The scope of a signed-in user (see the module's docstring)."""
    if user.seller_id is not None:
        return Scope(seller_id=user.seller_id)
    return EVERYTHING if user.role == Role.admin.value else PLATFORM_OWN


def seller_of_station(session: Session, station_id: str) -> str | None:
    station = session.get(EnrolledStation, station_id)
    return station.seller_id if station is not None else None


def sees_every_seller(session: Session, user: User | None) -> bool:
    """A platform admin on a platform that has sellers (their pages say they see them all)."""
    if user is None or scope_of(user) != EVERYTHING:
        return False
    return session.exec(select(Seller.id).limit(1)).first() is not None


def seller_of(session: Session, user: User | None) -> Seller | None:
    """The seller a user works for (shown at the top of their pages), if any."""
    if user is None or user.seller_id is None:
        return None
    return session.get(Seller, user.seller_id)
