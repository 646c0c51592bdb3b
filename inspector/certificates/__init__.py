"""Signed inspection certificates that a buyer can verify by URL and nobody can quietly rewrite.

Public API (stable; other components import only from ``inspector.certificates``)::

    issue_certificate(session, CertificateRequest(...), settings=settings) -> IssuedCertificate
        # .human_id (10 chars, e.g. "7KQ2M9X4TR"), .url (public verify page), .credential (dict)
        # Runs in the caller's transaction (commit it). Raises CertificateError on bad input.
    get_certificate(session, human_id) -> CertificateRecord | None
        # .human_id .inspection_id .item_kind .issued_at (aware UTC) .station_id .grade
        # .status ("valid"|"revoked"|"suspended") .status_reason
        # .key_status ("active"|"retired"|"revoked") .credential .warranty {plan_id, days}
        # .supersedes .log_index
    find_by_inspection(session, inspection_id) -> CertificateRecord | None
    identity_matches(session, human_id, value, settings=None) -> bool   # typed IMEI/serial vs keyed hashes
    certificate_url(settings, human_id) -> str;  qr_svg(url) -> str (inline <svg>)
    revoke_certificate / suspend_certificate(session, human_id, reason) -> CertificateRecord
    reinstate_certificate(session, human_id) -> CertificateRecord
    verify_stored(session, settings, human_id) -> VerificationResult | None

Format: W3C VC Data Model 2.0 credential, Data Integrity proof ``eddsa-jcs-2022`` signed
by the station's Ed25519 key (verificationMethod ``<base>/issuer#z6Mk...``; the issuer
document at ``/issuer`` lists keys, their certification by the issuer root key, and
revocations). Two Bitstring Status Lists (revocation, suspension; 131,072 entries each)
at ``/status/<purpose>/<n>``. Every certificate is appended to an RFC 9162 Merkle log
(``/log/sth``, ``/log/proof/<id>``, ``/log/consistency``).

Rules for callers: every value in the request is signed as-is, so measured values must be
integers in stated units (``weight_mg``, ``depth_um``) or strings; floats are refused.
IMEIs and serials are never stored in the credential, not even their last digits: only keyed,
salted hashes (``identity.py``; the key is ``<data_dir>/keys/identity-hash.key``).
For tests: ``inspector.certificates.testing.issue_sample_certificate(session, settings)``.
"""

from inspector.certificates.service import (
    CertificateError,
    CertificateRecord,
    CertificateRequest,
    IssuedCertificate,
    certificate_url,
    find_by_inspection,
    get_certificate,
    identity_matches,
    issue_certificate,
    qr_svg,
    reinstate_certificate,
    revoke_certificate,
    suspend_certificate,
    verify_stored,
)
from inspector.certificates.verify import Verdict, VerificationResult

__all__ = [
    "CertificateError",
    "CertificateRecord",
    "CertificateRequest",
    "IssuedCertificate",
    "Verdict",
    "VerificationResult",
    "certificate_url",
    "find_by_inspection",
    "get_certificate",
    "identity_matches",
    "issue_certificate",
    "qr_svg",
    "reinstate_certificate",
    "revoke_certificate",
    "suspend_certificate",
    "verify_stored",
]
