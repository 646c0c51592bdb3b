"""The station's side of the sync: its enrolment with a platform and the outbox of what to send.

An outbox row is written in the transaction that issues the certificate it belongs to, so a
certificate is never issued without being queued, and never queued without being issued.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Column, Field, SQLModel, Text


def _now() -> datetime:
    return datetime.now(UTC)


def _when(nullable: bool = False) -> Column:
    return Column(sa.DateTime(timezone=True), nullable=nullable)


class ItemKind(StrEnum):
    """What an outbox row carries; photos of a certificate are queued before it."""

    PHOTO = "photo"
    CERTIFICATE = "certificate"


class Problem(StrEnum):
    """What kind of problem the sync met last, besides a refusal (``wire.Refusal`` values)."""

    NO_CONNECTION = "no_connection"
    """No connection to the platform (down, network, address)."""
    TIMEOUT = "timeout"
    """The platform took too long to answer."""
    ERROR_ANSWER = "error_answer"
    """The platform answered with an error or with something that is not the protocol's."""
    BAD_RECEIPT = "bad_receipt"
    """The platform's inclusion proof did not check."""
    KEY_MISSING = "key_missing"
    """The enrolled key's private half is not in the data directory."""
    DATABASE = "database"
    """This station's own database did not answer."""
    UNEXPECTED = "unexpected"
    """Anything else (logged with its traceback)."""


class Enrolment(SQLModel, table=True):
    """This station's enrolment: the platform it signs for and the key the platform certified.

    The private half of the key is ``keys/station-<fingerprint>.pem`` in the data directory.
    ``condition`` (since ``condition_since``) and ``last_error`` (of ``last_error_kind``: a
    ``Problem`` or a ``wire.Refusal`` value) are the pusher's state, written when it changes.
    """

    __tablename__ = "sync_enrolment"

    station_id: str = Field(primary_key=True, max_length=64)
    platform_url: str = Field(max_length=512)
    issuer_id: str = Field(max_length=600)
    root_key: str = Field(max_length=64)
    key_fingerprint: str = Field(max_length=64)
    key_certification: str = Field(sa_column=Column(Text, nullable=False))
    status_list_first: int
    status_list_count: int
    enrolled_at: datetime = Field(default_factory=_now, sa_column=_when())
    condition: str = Field(default="idle", max_length=16)
    condition_since: datetime | None = Field(default=None, sa_column=_when(nullable=True))
    last_error: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    last_error_kind: str = Field(
        default="", sa_column=Column(sa.String(32), nullable=False, server_default="")
    )
    last_error_at: datetime | None = Field(default=None, sa_column=_when(nullable=True))
    last_success_at: datetime | None = Field(default=None, sa_column=_when(nullable=True))


class OutboxItem(SQLModel, table=True):
    """One thing to send to the platform, in order (``seq``); sent once, kept for good."""

    __tablename__ = "sync_outbox"
    __table_args__ = (
        sa.UniqueConstraint("station_id", "kind", "ref", name="uq_sync_outbox_item"),
        sa.Index("ix_sync_outbox_waiting", "station_id", "sent_at", "refused_at", "seq"),
    )

    seq: int | None = Field(default=None, primary_key=True)
    station_id: str = Field(max_length=64)
    kind: str = Field(max_length=16)  # ItemKind
    ref: str = Field(max_length=64)  # photo: SHA-256 hex; certificate: its human id
    created_at: datetime = Field(default_factory=_now, sa_column=_when())
    attempts: int = 0
    sent_at: datetime | None = Field(default=None, sa_column=_when(nullable=True))
    refused_at: datetime | None = Field(default=None, sa_column=_when(nullable=True))
    refusal: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    refusal_kind: str = Field(  # a ``wire.Refusal`` value, or "" when the station itself set it aside
        default="", sa_column=Column(sa.String(32), nullable=False, server_default="")
    )
    receipt: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
