"""Warranty tables: sales, claims and the append-only claim audit log.

Claims copy a few certificate facts (kind, station, grade, device model, grader version) at
opening time so the queue and the supervisor reports are plain indexed queries that do not
parse signed credentials row by row.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column, Index, Text
from sqlmodel import Field, SQLModel


class Sale(SQLModel, table=True):
    """The sale of a certified item; coverage dates start from ``sold_at``."""

    __tablename__ = "warranty_sale"

    id: int | None = Field(default=None, primary_key=True)
    cert_human_id: str = Field(index=True, unique=True, max_length=32)
    order_ref: str = Field(index=True, max_length=64)
    price_minor: int = Field(sa_type=BigInteger)  # BIGINT: a jewel's price in fen passes 2**31
    currency: str = Field(max_length=3)
    sold_at: datetime
    buyer_contact: str = Field(default="", max_length=256)  # private: staff only, never public
    plan_id: str = Field(max_length=48)
    recorded_by: str = Field(default="", max_length=64)
    created_at: datetime
    item_kind: str = Field(default="", max_length=16)
    station_id: str = Field(default="", max_length=64)
    grade: str = Field(default="", max_length=16)
    device_model: str = Field(default="", max_length=96)
    grader_version: str = Field(default="", max_length=48)


class Claim(SQLModel, table=True):
    __tablename__ = "warranty_claim"
    __table_args__ = (
        Index("ix_warranty_claim_state_created", "state", "created_at"),
        Index("ix_warranty_claim_station_state", "station_id", "state"),
    )

    id: int | None = Field(default=None, primary_key=True)
    ref: str = Field(index=True, unique=True, max_length=16)
    cert_human_id: str = Field(index=True, max_length=32)
    # Equals cert_human_id while the claim is open, NULL once closed: a unique index on it makes
    # "one open claim per certificate" a database guarantee, even under concurrent submissions.
    open_cert: str | None = Field(default=None, unique=True, max_length=32)
    sale_id: int | None = Field(default=None, foreign_key="warranty_sale.id")
    order_ref: str = Field(default="", index=True, max_length=64)
    plan_id: str = Field(max_length=48)
    item_kind: str = Field(index=True, max_length=16)
    station_id: str = Field(default="", max_length=64)
    grade: str = Field(default="", max_length=16)
    device_model: str = Field(default="", max_length=96)
    grader_version: str = Field(default="", max_length=48)
    problem: str = Field(max_length=40)
    description: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    buyer_photos: str = Field(default="[]", sa_column=Column(Text, nullable=False, server_default="[]"))
    buyer_secret_hash: str = Field(unique=True, max_length=64)
    opened_via: str = Field(max_length=16)  # "buyer" | "staff"
    opened_by: str = Field(default="", max_length=64)
    state: str = Field(max_length=16)
    version: int = Field(default=1)
    outcome: str | None = Field(default=None, max_length=16)  # repair | replace | refund
    deny_reason: str | None = Field(default=None, max_length=40)
    payout_minor: int | None = Field(default=None, sa_type=BigInteger)  # up to 10x a price
    payout_currency: str | None = Field(default=None, max_length=3)
    received_identity: str | None = Field(default=None, max_length=64)  # masked IMEI/serial
    received_weight_mg: int | None = None
    reinspection: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: datetime
    updated_at: datetime
    received_at: datetime | None = None
    decided_at: datetime | None = None
    resolved_at: datetime | None = None
    closed_at: datetime | None = None


class ClaimEvent(SQLModel, table=True):
    """One transition of a claim: who, when, why. Rows are never updated or deleted
    (database triggers refuse it), so the log is evidence in a dispute."""

    __tablename__ = "warranty_claim_event"

    id: int | None = Field(default=None, primary_key=True)
    claim_id: int = Field(foreign_key="warranty_claim.id", index=True)
    at: datetime
    actor: str = Field(max_length=64)  # username, or "buyer"
    actor_role: str = Field(max_length=16)  # buyer | operator | staff | supervisor | admin | system
    action: str = Field(max_length=24)
    from_state: str | None = Field(default=None, max_length=16)
    to_state: str = Field(max_length=16)
    reason: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    data: str = Field(default="{}", sa_column=Column(Text, nullable=False, server_default="{}"))


class ClaimUpload(SQLModel, table=True):
    """A photo uploaded for a claim (by the buyer, or by staff with a re-inspection).

    Written in the same transaction as the claim it belongs to, so a row exists only for a
    request that passed every check. Uploaded files that no row names expire
    (``warranty.uploads``): that is how a transaction that failed after writing its files
    cleans up.
    """

    __tablename__ = "warranty_upload"

    id: int | None = Field(default=None, primary_key=True)
    claim_id: int = Field(foreign_key="warranty_claim.id", index=True)
    sha256: str = Field(index=True, max_length=64)
    purpose: str = Field(max_length=16)  # UploadPurpose
    size_bytes: int
    created_at: datetime
