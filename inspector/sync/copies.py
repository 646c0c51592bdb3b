"""An enrolled station's certificates are verified on the platform; the station keeps a copy.

Its ``/c/{id}`` pages send a reader there (303) instead of checking the certificate against keys
this station does not hold (and making an issuer root of its own to try).
"""

from __future__ import annotations

from collections.abc import Callable

from sqlmodel import Session

from inspector.certificates.service import CertificateRecord
from inspector.sync.outbox import on_platform

Elsewhere = Callable[[Session, CertificateRecord], str | None]


def platform_home(station_id: str) -> Elsewhere:
    """For ``create_app``: the signed URL of a certificate this station issued for its platform."""

    def elsewhere(session: Session, record: CertificateRecord) -> str | None:
        if on_platform(session, station_id, record.human_id) is None:  # its own, stand-alone
            return None
        signed = record.credential.get("id")
        return signed if isinstance(signed, str) and signed.startswith(("https://", "http://")) else None

    return elsewhere
