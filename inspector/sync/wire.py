"""What a station and its platform say to each other: enrolment, signed uploads, their answers.

Both sides import this module, so the format is written once. Every upload is signed with the
station's enrolled Ed25519 key over the method, path, station, key, time, a one-time nonce and
the SHA-256 of the body: the platform knows which station sent it, that nothing was changed on
the way, and refuses a request seen before or signed more than ``CLOCK_SKEW`` away from its
clock (a replay). Idempotency is a property of the content (a certificate id, a photo digest),
never of the request, so a station that lost an answer simply sends again with a new nonce.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from pydantic import BaseModel, Field

from inspector.certificates.encoding import b64url_decode, b64url_encode

PROTOCOL = "inspector-sync-v1"
CLOCK_SKEW = timedelta(minutes=5)

ENROL_PATH = "/api/platform/enrol"
PHOTO_PATH = "/api/platform/photos/{sha256}"
CERTIFICATE_PATH = "/api/platform/certificates/{human_id}"

H_STATION = "X-Inspector-Station"
H_KEY = "X-Inspector-Key"
H_DATE = "X-Inspector-Date"
H_NONCE = "X-Inspector-Nonce"
H_CONTENT = "X-Inspector-Content-SHA256"
H_SIGNATURE = "X-Inspector-Signature"


class Refusal(StrEnum):
    """Why the platform refused; the station reacts to the kind, people read ``detail``."""

    # the request: nothing this station sends is accepted until someone acts
    UNSIGNED = "unsigned"
    BAD_SIGNATURE = "bad_signature"
    UNKNOWN_STATION_KEY = "unknown_station_key"
    STATION_KEY_REVOKED = "station_key_revoked"
    STATION_KEY_RETIRED = "station_key_retired"
    STALE = "stale_request"
    REPLAYED = "replayed"
    # the item: this one stays on the station, the next ones go on
    MALFORMED = "malformed"
    TAMPERED = "tampered"
    CERTIFICATE_UNKNOWN_KEY = "certificate_unknown_key"
    CERTIFICATE_KEY_REVOKED = "certificate_key_revoked"
    ANOTHER_STATION = "another_station"
    FOREIGN_ISSUER = "foreign_issuer"
    FOREIGN_STATUS_LIST = "foreign_status_list"
    CONFLICT = "conflict"
    DIGEST_MISMATCH = "digest_mismatch"
    TOO_LARGE = "too_large"

    @property
    def stops_the_station(self) -> bool:
        """True when no upload of this station can succeed until its key or clock is fixed."""
        return self in _STATION_WIDE


_STATION_WIDE = frozenset(
    {
        Refusal.UNSIGNED,
        Refusal.BAD_SIGNATURE,
        Refusal.UNKNOWN_STATION_KEY,
        Refusal.STATION_KEY_REVOKED,
        Refusal.STATION_KEY_RETIRED,
        Refusal.STALE,
    }
)


class RefusalOut(BaseModel):
    """A refused upload or enrolment: ``error`` for the station, ``detail`` for a person."""

    error: str
    detail: str


class EnrolIn(BaseModel):
    code: str = Field(min_length=1, max_length=64, description="The one-time code an admin made.")
    station_id: str = Field(min_length=1, max_length=64)
    public_key: str = Field(
        min_length=1, max_length=64, description="The station's new Ed25519 key (publicKeyMultibase)."
    )
    proof: str = Field(
        min_length=1, max_length=128, description="The key's signature of the enrolment statement."
    )


class EnrolGrant(BaseModel):
    """What a station needs to sign for the platform, and to check what the platform tells it."""

    station_id: str
    issuer_id: str
    public_base_url: str
    root_key: str = Field(description="The platform's root key (publicKeyMultibase).")
    key_certification: dict[str, Any] = Field(description="The station key, certified by the root.")
    status_list_first: int
    status_list_count: int
    identity_key: str = Field(description="Hex; IMEIs and serials are hashed with it on every station.")


class PhotoReceipt(BaseModel):
    sha256: str
    size: int
    new: bool = Field(description="False when the platform already had this photo.")


class CertificateReceipt(BaseModel):
    human_id: str
    url: str
    new: bool = Field(description="False when the platform already had this very certificate.")
    inclusion_proof: dict[str, Any]


def enrol_statement(code: str, station_id: str, public_key: str) -> bytes:
    """What the new key signs at enrolment: proof that the station holds its private half."""
    return f"{PROTOCOL}\nenrol\n{code}\n{station_id}\n{public_key}".encode()


def sign_enrolment(private: Ed25519PrivateKey, code: str, station_id: str, public_key: str) -> str:
    return b64url_encode(private.sign(enrol_statement(code, station_id, public_key)))


def check_signature(public: Ed25519PublicKey, signature: str, message: bytes) -> bool:
    try:
        public.verify(b64url_decode(signature), message)
    except (InvalidSignature, ValueError):
        return False
    return True


def utc_stamp(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class SignedRequest:
    """The signed parts of one upload, as sent in its headers."""

    method: str
    path: str
    station_id: str
    key: str
    date: str
    nonce: str
    content_sha256: str

    def statement(self) -> bytes:
        return "\n".join(
            (
                PROTOCOL,
                self.method.upper(),
                self.path,
                self.station_id,
                self.key,
                self.date,
                self.nonce,
                self.content_sha256,
            )
        ).encode()

    def headers(self, private: Ed25519PrivateKey) -> dict[str, str]:
        return {
            H_STATION: self.station_id,
            H_KEY: self.key,
            H_DATE: self.date,
            H_NONCE: self.nonce,
            H_CONTENT: self.content_sha256,
            H_SIGNATURE: b64url_encode(private.sign(self.statement())),
        }

    @classmethod
    def new(cls, method: str, path: str, station_id: str, key: str, content_sha256: str) -> SignedRequest:
        return cls(
            method=method,
            path=path,
            station_id=station_id,
            key=key,
            date=utc_stamp(datetime.now(UTC)),
            nonce=b64url_encode(secrets.token_bytes(18)),
            content_sha256=content_sha256,
        )

    def sent_at(self) -> datetime | None:
        try:
            when = datetime.strptime(self.date, "%Y-%m-%dT%H:%M:%SZ")
        except ValueError:
            return None
        return when.replace(tzinfo=UTC)
