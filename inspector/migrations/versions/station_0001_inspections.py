"""station: inspections and their steps

Revision ID: station_0001
Revises:
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "station_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("station",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "station_inspection",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("item_kind", sa.String(16), nullable=False),
        sa.Column("status", sa.String(24), nullable=False),
        sa.Column("station_id", sa.String(64), nullable=False),
        sa.Column("operator", sa.String(64), nullable=False),
        sa.Column("started_by", sa.String(16), nullable=False),
        sa.Column("supersedes", sa.String(64), nullable=True),
        sa.Column("auto_finish", sa.Boolean(), nullable=False),
        sa.Column("flow", sa.JSON(), nullable=False),
        sa.Column("current_step", sa.Integer(), nullable=False),
        sa.Column("identity", sa.JSON(), nullable=False),
        sa.Column("grade", sa.String(16), nullable=True),
        sa.Column("grade_reasons", sa.JSON(), nullable=False),
        sa.Column("verdict", sa.String(16), nullable=True),
        sa.Column("certificate_id", sa.String(64), nullable=True),
        sa.Column("certificate_url", sa.String(512), nullable=True),
        sa.Column("error", sa.String(2000), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_station_inspection_status", "station_inspection", ["status"])
    op.create_table(
        "station_step",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("inspection_id", sa.Integer(), sa.ForeignKey("station_inspection.id"), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(48), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("label", sa.String(200), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.Column("error", sa.String(2000), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("answered_by", sa.String(64), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=True),
        sa.UniqueConstraint("inspection_id", "position", name="uq_station_step_position"),
    )
    op.create_index("ix_station_step_inspection_id", "station_step", ["inspection_id"])


def downgrade() -> None:
    op.drop_table("station_step")
    op.drop_table("station_inspection")
