"""Auth tables: sellers, users and their hashed tokens (API tokens and browser sessions)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel


class Seller(SQLModel, table=True):
    """A seller (tenant) on a shared platform: its staff see its stations' data only."""

    __tablename__ = "auth_seller"

    id: str = Field(primary_key=True, max_length=32)  # a short slug, e.g. "acme"
    name: str = Field(max_length=128)
    created_at: datetime


class User(SQLModel, table=True):
    __tablename__ = "auth_user"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(index=True, unique=True, max_length=64)
    display_name: str = Field(default="", max_length=128)
    role: str = Field(max_length=16)
    password_hash: str = Field(default="", max_length=256)
    disabled: bool = Field(default=False)
    created_at: datetime
    # The seller the user works for; None: the platform's own people (see inspector.auth.tenancy).
    seller_id: str | None = Field(default=None, foreign_key="auth_seller.id", index=True, max_length=32)


class ApiToken(SQLModel, table=True):
    __tablename__ = "auth_token"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="auth_user.id", index=True)
    token_hash: str = Field(index=True, unique=True, max_length=64)
    kind: str = Field(default="api", max_length=16)  # "api" or "session"
    name: str = Field(default="", max_length=64)
    created_at: datetime
    expires_at: datetime | None = None
    revoked_at: datetime | None = None
