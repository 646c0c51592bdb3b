"""Certificate tables: signing keys, issued certificates, the transparency log and its tree heads."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


class SigningKey(SQLModel, table=True):
    """A public Ed25519 key: the issuer root, or a station key certified by the root."""

    __tablename__ = "cert_key"

    id: int | None = Field(default=None, primary_key=True)
    fingerprint: str = Field(index=True, unique=True, max_length=64)  # publicKeyMultibase (z6Mk...)
    role: str = Field(max_length=16)  # "root" | "station"
    station_id: str | None = Field(default=None, index=True, max_length=64)
    created_at: datetime
    retired_at: datetime | None = None  # rotated out: old certificates stay valid
    revoked_at: datetime | None = None  # compromised: every certificate it signed is distrusted
    revoke_reason: str = Field(default="", max_length=256)
    certification: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))


class Certificate(SQLModel, table=True):
    __tablename__ = "cert_certificate"
    __table_args__ = (UniqueConstraint("status_list", "status_index", name="uq_cert_status_slot"),)

    id: int | None = Field(default=None, primary_key=True)
    human_id: str = Field(index=True, unique=True, max_length=16)
    inspection_id: str = Field(index=True, max_length=128)
    item_kind: str = Field(max_length=16)
    station_id: str = Field(index=True, max_length=64)
    key_fingerprint: str = Field(max_length=64)
    issued_at: datetime
    credential: str = Field(sa_column=Column(Text, nullable=False))
    status_list: int
    status_index: int
    revoked_at: datetime | None = None
    suspended_at: datetime | None = None
    status_reason: str = Field(default="", max_length=512)
    log_index: int | None = None
    supersedes: str | None = Field(default=None, max_length=16)


class LogLeaf(SQLModel, table=True):
    """One entry of the append-only transparency log; ``idx`` is its position (0-based)."""

    __tablename__ = "cert_log_leaf"

    idx: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    human_id: str = Field(index=True, max_length=16)
    leaf_hash: str = Field(max_length=64)
    entry: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime


class TreeHead(SQLModel, table=True):
    """A signed tree head (STH) for every size the log has had."""

    __tablename__ = "cert_tree_head"

    tree_size: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    root_hash: str = Field(max_length=64)
    timestamp: datetime
    signed: str = Field(sa_column=Column(Text, nullable=False))


class IssuerSecret(SQLModel, table=True):
    """Issuer-side secrets that must travel with the data, not the station (identity hash key)."""

    __tablename__ = "cert_secret"

    name: str = Field(primary_key=True, max_length=64)
    value: str = Field(max_length=128)
    created_at: datetime
