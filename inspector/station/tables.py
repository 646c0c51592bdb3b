"""Persisted inspection state: one row per inspection, one row per step.

A step row is written when the step starts (status ``running``) and rewritten with its
result in one transaction when it ends, together with the inspection's progress, so the
database always shows either the step done (with all its data) or the step not done.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import JSON, Column, Field, SQLModel


def _now() -> datetime:
    return datetime.now(UTC)


class Inspection(SQLModel, table=True):
    __tablename__ = "station_inspection"
    # Stations may share a database: their queries ask for one station's inspections by state.
    __table_args__ = (sa.Index("ix_station_inspection_station_status", "station_id", "status"),)

    id: int | None = Field(default=None, primary_key=True)
    item_kind: str = Field(max_length=16)
    # an InspectionStatus (inspector/station/states.py)
    status: str = Field(max_length=24, index=True)
    station_id: str = Field(max_length=64)
    operator: str = Field(max_length=64)
    started_by: str = Field(default="api", max_length=16)  # api | console | rig_button | demo
    supersedes: str | None = Field(default=None, max_length=64)
    auto_finish: bool = True  # False: the result step waits for the operator's "finish"
    flow: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    current_step: int = 0
    identity: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    grade: str | None = Field(default=None, max_length=16)
    grade_reasons: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    verdict: str | None = Field(default=None, max_length=16)  # pass | fail
    certificate_id: str | None = Field(default=None, max_length=64)
    certificate_url: str | None = Field(default=None, max_length=512)
    error: str | None = Field(default=None, max_length=2000)
    created_at: datetime = Field(default_factory=_now, sa_column=Column(sa.DateTime(timezone=True)))
    updated_at: datetime = Field(default_factory=_now, sa_column=Column(sa.DateTime(timezone=True)))
    finished_at: datetime | None = Field(default=None, sa_column=Column(sa.DateTime(timezone=True)))
    # Counts the inspection's changes (see ``_count_change``): of two views, the higher one is newer.
    revision: int = Field(default=0, sa_column=Column(sa.Integer, nullable=False, server_default="0"))


@sa.event.listens_for(Inspection, "before_update")
def _count_change(_mapper: Any, _connection: Any, target: Inspection) -> None:
    """Every write of an inspection (its steps are written with it) counts one revision, in SQL, so
    a viewer that gets two views out of order (a slow poll, a late answer) keeps the newer one."""
    target.revision = Inspection.revision + 1


class InspectionStep(SQLModel, table=True):
    __tablename__ = "station_step"
    __table_args__ = (sa.UniqueConstraint("inspection_id", "position", name="uq_station_step_position"),)

    id: int | None = Field(default=None, primary_key=True)
    inspection_id: int = Field(foreign_key="station_inspection.id", index=True)
    position: int
    key: str = Field(max_length=48)
    action: str = Field(max_length=32)
    label: str = Field(max_length=200)
    # a StepStatus (inspector/station/states.py)
    status: str = Field(default="pending", max_length=16)
    result: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    error: str | None = Field(default=None, max_length=2000)
    attempts: int = 0
    answered_by: str | None = Field(default=None, max_length=64)
    answered_at: datetime | None = Field(default=None, sa_column=Column(sa.DateTime(timezone=True)))
    started_at: datetime | None = Field(default=None, sa_column=Column(sa.DateTime(timezone=True)))
    finished_at: datetime | None = Field(default=None, sa_column=Column(sa.DateTime(timezone=True)))
    duration_ms: int | None = None
