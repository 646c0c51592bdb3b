"""What the platform keeps about its stations: enrolment codes, enrolled stations, seen nonces, photos.

The stations' keys themselves are issuer keys (``cert_key``, certified by the root); these tables
hold what only the platform needs to let a station in and to take its uploads.
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlmodel import Column, Field, SQLModel


def _now() -> datetime:
    return datetime.now(UTC)


def _when(nullable: bool = False) -> Column:
    return Column(sa.DateTime(timezone=True), nullable=nullable)


class EnrolCode(SQLModel, table=True):
    """A one-time code an admin gave a station; only its SHA-256 is kept (it is 100 random bits)."""

    __tablename__ = "platform_enrol_code"

    id: int | None = Field(default=None, primary_key=True)
    station_id: str = Field(max_length=64, index=True)
    seller_id: str | None = Field(default=None, foreign_key="auth_seller.id", max_length=32)
    code_sha256: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(default_factory=_now, sa_column=_when())
    expires_at: datetime = Field(sa_column=_when())
    used_at: datetime | None = Field(default=None, sa_column=_when(nullable=True))
    key_fingerprint: str = Field(default="", max_length=64)  # the key it enrolled


class EnrolledStation(SQLModel, table=True):
    """A station the platform takes uploads from, and the status lists set aside for it."""

    __tablename__ = "platform_station"

    station_id: str = Field(primary_key=True, max_length=64)
    # The seller running the station (set from its enrolment code); None: the platform's own.
    seller_id: str | None = Field(default=None, foreign_key="auth_seller.id", index=True, max_length=32)
    status_list_first: int = Field(unique=True)
    status_list_count: int
    enrolled_at: datetime = Field(default_factory=_now, sa_column=_when())
    last_upload_at: datetime | None = Field(default=None, sa_column=_when(nullable=True))


class SeenNonce(SQLModel, table=True):
    """Nonces of signed uploads within the clock-skew window: a second use is a replay."""

    __tablename__ = "platform_nonce"

    nonce: str = Field(primary_key=True, max_length=64)
    station_id: str = Field(max_length=64)
    seen_at: datetime = Field(default_factory=_now, sa_column=Column(sa.DateTime(timezone=True), index=True))


class ReceivedPhoto(SQLModel, table=True):
    """A photo in the platform's store (named by its SHA-256), and which station sent it first."""

    __tablename__ = "platform_photo"

    sha256: str = Field(primary_key=True, max_length=64)
    size: int
    station_id: str = Field(max_length=64)
    received_at: datetime = Field(default_factory=_now, sa_column=_when())
