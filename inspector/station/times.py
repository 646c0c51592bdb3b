"""Times as the station stores and shows them: aware UTC, ISO 8601."""

from __future__ import annotations

from datetime import UTC, datetime


def now() -> datetime:
    return datetime.now(UTC)


def aware(dt: datetime) -> datetime:
    """SQLite hands datetimes back without their zone; they were stored in UTC."""
    return dt if dt.tzinfo is not None else dt.replace(tzinfo=UTC)


def iso(dt: datetime | None) -> str | None:
    return aware(dt).isoformat() if dt else None
