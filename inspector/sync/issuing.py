"""Issue a certificate on an enrolled station: signed for the platform, queued in the same commit."""

from __future__ import annotations

from sqlmodel import Session

from inspector.certificates.service import CertificateRequest, IssuedCertificate, issue_certificate
from inspector.config import Settings
from inspector.sync.enrolment import signer_for
from inspector.sync.outbox import enqueue_certificate
from inspector.sync.tables import Enrolment


def issue_for_platform(
    session: Session, request: CertificateRequest, settings: Settings, enrolment: Enrolment
) -> IssuedCertificate:
    """Sign with the enrolled key under the platform's address and queue it with its photos.

    Idempotent per inspection like ``issue_certificate``: a retried call queues nothing twice.
    """
    issued = issue_certificate(session, request, settings=settings, signer=signer_for(settings, enrolment))
    enqueue_certificate(session, enrolment.station_id, issued.credential)
    return issued
