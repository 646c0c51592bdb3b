"""The platform's event log: every published event, kept a while so subscribers can catch up."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlmodel import Column, Field, SQLModel


def _now() -> datetime:
    return datetime.now(UTC)


class PlatformEvent(SQLModel, table=True):
    """One event; ``id`` comes from the table's sequence and is the SSE event id."""

    __tablename__ = "platform_event"

    id: int | None = Field(
        default=None, sa_column=Column(sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True)
    )
    type: str = Field(max_length=64)
    data: str = Field(sa_column=Column(sa.Text(), nullable=False))  # JSON object
    created_at: datetime = Field(
        default_factory=_now, sa_column=Column(sa.DateTime(timezone=True), nullable=False, index=True)
    )
