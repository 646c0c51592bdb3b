"""Enrolment: an admin's one-time code lets a station's own key be certified by the platform's root.

The root key never leaves the platform and a station's private key never leaves the station: the
station sends its public key, signed with itself over the code (so it holds the private half),
and the platform answers with the certification and what the station needs to sign for it.
A code is 100 random bits, kept only as its SHA-256, used once and expires.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import func, update
from sqlmodel import Session, col, select

from inspector.auth.sellers import SellerError, existing_seller
from inspector.certificates.encoding import EncodingError, ed25519_from_multikey
from inspector.certificates.humanid import ALPHABET
from inspector.certificates.identity import identity_key
from inspector.certificates.keys import SigningKeyError, issuer_id, keys_dir, register_station_key, root_key
from inspector.config import Settings
from inspector.eventbus import EventType, publish_in
from inspector.platform.tables import EnrolCode, EnrolledStation
from inspector.refusal import Refused
from inspector.sync.wire import EnrolGrant, EnrolIn, check_signature, enrol_statement

CODE_TTL = timedelta(hours=24)
CODE_SYMBOLS = 20  # Crockford base32: 100 bits
# Each station signs into status lists of its own (it cannot see the others' slots): a block of
# 64 lists of 131,072 entries, half of each used, is 4 million certificates. A stand-alone
# issuer numbers its lists from 1, far below the first block.
STATUS_LISTS_PER_STATION = 64
FIRST_STATION_LIST = 1_000_000
_STATION_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_LOOKALIKES = str.maketrans({"O": "0", "I": "1", "L": "1"})


class EnrolmentRefused(Refused):
    """An enrolment the platform will not do; ``status`` and ``code`` say how to answer it."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(when: datetime) -> datetime:
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def normalize_code(code: str) -> str:
    """Codes are read aloud and typed: spacing, dashes, case and lookalikes are forgiven."""
    return re.sub(r"[\s-]", "", code).upper().translate(_LOOKALIKES)


def _code_hash(code: str) -> str:
    return hashlib.sha256(normalize_code(code).encode()).hexdigest()


def check_station_id(station_id: str) -> str:
    if not _STATION_ID.match(station_id):
        raise EnrolmentRefused(
            422,
            "bad_station_id",
            "a station id is 1-64 letters, digits, dots, dashes or underscores, starting with a letter "
            "or digit",
        )
    return station_id


@dataclass(frozen=True)
class NewCode:
    code: str
    station_id: str
    expires_at: datetime
    seller_id: str | None = None


def make_code(
    session: Session, station_id: str, ttl: timedelta = CODE_TTL, seller_id: str | None = None
) -> NewCode:
    """A one-time enrolment code for ``station_id`` (shown once; only its hash is stored).

    With ``seller_id`` the station enrols as that seller's: its claims, sales and reports are
    seen by that seller's staff (and the platform admin) only. Without, it is the platform's own.
    """
    check_station_id(station_id)
    if ttl <= timedelta(0):
        raise EnrolmentRefused(422, "bad_ttl", "a code must be valid for some time")
    if seller_id is not None:
        try:
            existing_seller(session, seller_id)
        except SellerError as exc:
            raise EnrolmentRefused(422, "unknown_seller", str(exc)) from exc
    raw = "".join(secrets.choice(ALPHABET) for _ in range(CODE_SYMBOLS))
    code = "-".join(raw[i : i + 4] for i in range(0, CODE_SYMBOLS, 4))
    expires = _now() + ttl
    session.add(
        EnrolCode(
            station_id=station_id, seller_id=seller_id, code_sha256=_code_hash(code), expires_at=expires
        )
    )
    session.flush()
    return NewCode(code, station_id, expires, seller_id)


def _usable_code(session: Session, given: EnrolIn) -> EnrolCode:
    row = session.exec(select(EnrolCode).where(EnrolCode.code_sha256 == _code_hash(given.code))).first()
    if row is None:
        raise EnrolmentRefused(
            403,
            "unknown_code",
            "this enrolment code is not known here: mistyped, or made on another platform",
        )
    if row.used_at is not None:
        raise EnrolmentRefused(
            403, "code_used", "this enrolment code was used already; ask the platform admin for a new one"
        )
    if _aware(row.expires_at) <= _now():
        raise EnrolmentRefused(
            403, "code_expired", "this enrolment code has expired; ask the platform admin for a new one"
        )
    if row.station_id != given.station_id:
        raise EnrolmentRefused(
            403,
            "code_for_another_station",
            f"this code was made for station {row.station_id!r}, but this station is {given.station_id!r} "
            "(INSPECTOR_STATION_ID)",
        )
    return row


def _status_block(session: Session, station_id: str, seller_id: str | None) -> EnrolledStation:
    """The station's own status lists: kept when it enrols again, so its slots never collide.

    Its seller is the one its newest code names: enrolling again is how a station changes hands.
    """
    station = session.get(EnrolledStation, station_id)
    if station is None:
        last = session.exec(select(func.max(EnrolledStation.status_list_first))).one()
        first = FIRST_STATION_LIST if last is None else last + STATUS_LISTS_PER_STATION
        station = EnrolledStation(
            station_id=station_id, status_list_first=first, status_list_count=STATUS_LISTS_PER_STATION
        )
    station.enrolled_at = _now()
    station.seller_id = seller_id
    session.add(station)
    session.flush()  # IntegrityError: two stations took the same block at once; the caller retries
    return station


def enrol(session: Session, settings: Settings, given: EnrolIn) -> EnrolGrant:
    """Certify the station's key and use up the code (in the caller's transaction; commit it).

    The station's earlier key, if any, is retired: certificates it signed stay valid.
    """
    check_station_id(given.station_id)
    code = _usable_code(session, given)
    try:
        public = Ed25519PublicKey.from_public_bytes(ed25519_from_multikey(given.public_key))
    except (EncodingError, ValueError) as exc:
        raise EnrolmentRefused(422, "bad_key", f"not an Ed25519 publicKeyMultibase: {exc}") from exc
    if not check_signature(
        public, given.proof, enrol_statement(given.code, given.station_id, given.public_key)
    ):
        raise EnrolmentRefused(422, "bad_proof", "the enrolment statement is not signed by the key it names")
    used = session.execute(
        update(EnrolCode)
        .where(col(EnrolCode.id) == code.id, col(EnrolCode.used_at).is_(None))
        .values(used_at=_now(), key_fingerprint=given.public_key)
    )
    if used.rowcount != 1:  # type: ignore[attr-defined]
        raise EnrolmentRefused(403, "code_used", "this enrolment code was used meanwhile; ask for a new one")
    try:
        key = register_station_key(session, settings, given.station_id, given.public_key)
    except SigningKeyError as exc:
        raise EnrolmentRefused(409, "key_registered", str(exc)) from exc
    station = _status_block(session, given.station_id, code.seller_id)
    root, _ = root_key(session, settings)
    publish_in(session, EventType.STATION_ENROLLED, station_id=given.station_id, key=key.fingerprint)
    return EnrolGrant(
        station_id=given.station_id,
        issuer_id=issuer_id(settings),
        public_base_url=settings.public_base_url.rstrip("/"),
        root_key=root.fingerprint,
        key_certification=json.loads(key.certification),
        status_list_first=station.status_list_first,
        status_list_count=station.status_list_count,
        identity_key=identity_key(session, keys_dir(settings)).hex(),
    )
