"""The station's half of enrolment: make a key here, have the platform certify it, sign for it.

The private key is made in this data directory and never sent; what comes back is checked
before it is trusted (the certification is the platform root's and names this key and this
station). A station that never enrolled keeps issuing stand-alone, under its own root.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pydantic import ValidationError
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from inspector.certificates.dataintegrity import ProofError, TamperedProof, verify_proof
from inspector.certificates.encoding import EncodingError, ed25519_from_multikey
from inspector.certificates.identity import IdentityKeyError, adopt_identity_key
from inspector.certificates.keys import (
    forget_station_private_key,
    keys_dir,
    new_station_private_key,
    station_private_key,
)
from inspector.certificates.service import Signer
from inspector.certificates.tables import Certificate
from inspector.config import Settings
from inspector.db import session_scope
from inspector.sync.tables import Enrolment
from inspector.sync.wire import ENROL_PATH, EnrolGrant, EnrolIn, RefusalOut, sign_enrolment

ENROL_TIMEOUT = httpx.Timeout(30.0, connect=10.0)


class EnrolmentFailed(Exception):
    """Enrolment did not happen; the message says why and what to do. Nothing was changed."""


def current_enrolment(session: Session, station_id: str) -> Enrolment | None:
    return session.get(Enrolment, station_id)


def issuer_base(enrolment: Enrolment) -> str:
    return enrolment.issuer_id.removesuffix("/issuer")


def signer_for(settings: Settings, enrolment: Enrolment) -> Signer:
    """Sign for the platform with the enrolled key (``SigningKeyError`` when its file is missing)."""
    first = enrolment.status_list_first
    return Signer(
        base_url=issuer_base(enrolment),
        fingerprint=enrolment.key_fingerprint,
        private_key=station_private_key(settings, enrolment.key_fingerprint),
        status_lists=range(first, first + enrolment.status_list_count),
    )


def _refusal_text(response: httpx.Response) -> str:
    try:
        return RefusalOut.model_validate(response.json()).detail
    except (ValueError, ValidationError):
        return f"HTTP {response.status_code}"


def _check_grant(grant: EnrolGrant, station_id: str, fingerprint: str) -> None:
    """Trust nothing the platform said until its root's signature and the names agree."""
    if grant.station_id != station_id:
        raise EnrolmentFailed(f"the platform enrolled station {grant.station_id!r}, not {station_id!r}")
    if grant.issuer_id != grant.public_base_url.rstrip("/") + "/issuer":
        raise EnrolmentFailed("the platform's issuer id does not match its public address")
    try:
        root = Ed25519PublicKey.from_public_bytes(ed25519_from_multikey(grant.root_key))
    except (EncodingError, ValueError) as exc:
        raise EnrolmentFailed(f"the platform's root key is not an Ed25519 key: {exc}") from exc

    def only_root(vm: str) -> Ed25519PublicKey:
        if vm != f"{grant.issuer_id}#{grant.root_key}":
            raise TamperedProof("not signed by the platform's root key")
        return root

    cert = grant.key_certification
    try:
        verify_proof(cert, only_root)
    except (ProofError, ValueError) as exc:
        raise EnrolmentFailed(f"the key certification does not verify: {exc}") from exc
    subject: Any = cert.get("credentialSubject")
    if (
        not isinstance(subject, dict)
        or subject.get("publicKeyMultibase") != fingerprint
        or subject.get("station") != station_id
    ):
        raise EnrolmentFailed("the key certification names another key or station")
    if grant.status_list_count < 1:
        raise EnrolmentFailed("the platform set aside no status lists for this station")


def _ask_platform(platform_url: str, body: EnrolIn) -> EnrolGrant:
    url = platform_url.rstrip("/") + ENROL_PATH
    try:
        response = httpx.post(url, json=body.model_dump(), timeout=ENROL_TIMEOUT)
    except httpx.HTTPError as exc:
        raise EnrolmentFailed(f"could not reach the platform at {platform_url}: {exc}") from exc
    if response.status_code != 200:
        raise EnrolmentFailed(f"the platform refused: {_refusal_text(response)}")
    try:
        return EnrolGrant.model_validate(response.json())
    except (ValueError, ValidationError) as exc:
        raise EnrolmentFailed(f"the platform's answer is not an enrolment: {exc}") from exc


def enrol(engine: Engine, settings: Settings, platform_url: str, code: str) -> Enrolment:
    """Enrol this station with the platform at ``platform_url`` using an admin's one-time code.

    Raises ``EnrolmentFailed``; the new key file is removed again then. Enrolling again (a new
    key, e.g. after a revocation) replaces the enrolment; what is queued stays queued.
    """
    station_id = settings.station_id
    if not platform_url.startswith(("https://", "http://")):
        raise EnrolmentFailed("the platform URL must start with https:// (or http:// on a trusted network)")
    with Session(engine) as session:  # refuse before the code is used up
        issued = session.exec(select(func.count()).select_from(Certificate)).one()
        if issued and current_enrolment(session, station_id) is None:
            raise EnrolmentFailed(
                f"this station already issued {issued} certificate(s) on its own; enrol a fresh data "
                "directory so that those stay verifiable where they are"
            )
    fingerprint, private = new_station_private_key(settings)
    try:
        proof = sign_enrolment(private, code, station_id, fingerprint)
        grant = _ask_platform(
            platform_url, EnrolIn(code=code, station_id=station_id, public_key=fingerprint, proof=proof)
        )
        _check_grant(grant, station_id, fingerprint)
        with session_scope(engine) as session:
            issued = session.exec(select(func.count()).select_from(Certificate)).one()
            adopt_identity_key(session, keys_dir(settings), bytes.fromhex(grant.identity_key), issued=issued)
            row = current_enrolment(session, station_id) or Enrolment(
                station_id=station_id,
                platform_url="",
                issuer_id="",
                root_key="",
                key_fingerprint="",
                key_certification="",
                status_list_first=0,
                status_list_count=0,
            )
            row.platform_url = platform_url.rstrip("/")
            row.issuer_id = grant.issuer_id
            row.root_key = grant.root_key
            row.key_fingerprint = fingerprint
            row.key_certification = json.dumps(grant.key_certification, sort_keys=True)
            row.status_list_first = grant.status_list_first
            row.status_list_count = grant.status_list_count
            row.enrolled_at = datetime.now(UTC)
            row.condition, row.condition_since = "idle", row.enrolled_at
            row.last_error, row.last_error_kind, row.last_error_at = "", "", None
            session.add(row)
            session.flush()
            session.expunge(row)
    except (EnrolmentFailed, IdentityKeyError, ValueError) as exc:
        forget_station_private_key(settings, fingerprint)
        if isinstance(exc, EnrolmentFailed):
            raise
        raise EnrolmentFailed(str(exc)) from exc
    return row
