"""A seller's staff following the platform's event stream hear only their own stations' events."""

from __future__ import annotations

from sqlalchemy.engine import Engine
from sqlmodel import Session

from inspector.auth.sellers import add_seller
from inspector.auth.tenancy import EVERYTHING, PLATFORM_OWN, Scope
from inspector.eventbus import Event, EventType
from inspector.platform.live import SellerFilter
from inspector.platform.tables import EnrolledStation


def _station(session: Session, station_id: str, first: int, seller: str | None) -> None:
    session.add(
        EnrolledStation(
            station_id=station_id, status_list_first=first, status_list_count=64, seller_id=seller
        )
    )


def _event(n: int, kind: EventType, **data: object) -> Event:
    return Event(id=n, type=kind, data=dict(data), at=0.0)


def test_each_viewer_hears_the_events_of_the_stations_they_may_see(engine: Engine) -> None:
    """Seller A's staff hear A's claims and certificates, not B's; the platform's own staff hear the
    stations no seller runs; only the platform admin hears events that name no station."""
    with Session(engine) as session:
        add_seller(session, "shop-a", "Shop A")
        add_seller(session, "shop-b", "Shop B")
        session.commit()
        _station(session, "a-1", 1_000_000, "shop-a")
        _station(session, "b-1", 1_000_064, "shop-b")
        _station(session, "own-1", 1_000_128, None)
        session.commit()
    events = [
        _event(1, EventType.CLAIM_OPENED, ref="C1", station_id="a-1"),
        _event(2, EventType.CLAIM_CHANGED, ref="C2", station_id="b-1"),
        _event(3, EventType.CERTIFICATE_RECEIVED, human_id="X", station_id="own-1"),
        _event(4, EventType.CERTIFICATE_STATUS_CHANGED, human_id="Y", station_id="b-1"),
        _event(5, EventType.STATION_ENROLLED, key="z6Mk"),  # names no station
    ]

    def heard(scope: Scope) -> list[int]:
        seen = SellerFilter(scope, engine)
        seen.load()
        return [e.id for e in events if seen.shows(e)]

    assert heard(Scope(seller_id="shop-a")) == [1]
    assert heard(Scope(seller_id="shop-b")) == [2, 4]
    assert heard(PLATFORM_OWN) == [3]
    assert heard(EVERYTHING) == [1, 2, 3, 4, 5]


def test_a_station_moved_to_another_seller_is_heard_by_its_new_seller_after_a_reload(engine: Engine) -> None:
    """Enrolling again with another seller's code moves a station; the stream reloads the map then."""
    with Session(engine) as session:
        add_seller(session, "shop-a", "Shop A")
        add_seller(session, "shop-b", "Shop B")
        session.commit()
        _station(session, "s-1", 1_000_000, "shop-a")
        session.commit()
    seen = SellerFilter(Scope(seller_id="shop-b"), engine)
    seen.load()
    claim = _event(1, EventType.CLAIM_OPENED, ref="C1", station_id="s-1")
    assert not seen.shows(claim)
    with Session(engine) as session:
        station = session.get(EnrolledStation, "s-1")
        assert station is not None
        station.seller_id = "shop-b"
        session.add(station)
        session.commit()
    seen.load()
    assert seen.shows(claim)
