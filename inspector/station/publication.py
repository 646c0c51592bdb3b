"""Tell the stream when a certificate reaches the platform: from then on buyers can open its URL.

An enrolled station's public view withholds the certificate's URL (and so the overlay's QR code)
until the platform has it; this event brings the view that carries it.
"""

from __future__ import annotations

from sqlmodel import Session, select

from inspector.station.service import StationService
from inspector.station.tables import Inspection

PUBLISHED_EVENT = "certificate.published"


def announce_published(station: StationService, human_id: str) -> None:
    with Session(station.engine) as s:
        inspection_id = s.exec(
            select(Inspection.id).where(
                Inspection.station_id == station.station_id, Inspection.certificate_id == human_id
            )
        ).first()
    if inspection_id is None:  # issued outside an inspection (a test, a CLI)
        return
    view = station.get_public(inspection_id).model_dump(mode="json")
    station.bus.publish(PUBLISHED_EVENT, inspection_id=inspection_id, step=None, inspection=view)
