"""station: index inspections by station, for queries scoped to one station on a shared database

Revision ID: station_0002
Revises: station_0001
Create Date: 2026-12-06
"""

from collections.abc import Sequence

from alembic import op

revision: str = "station_0002"
down_revision: str | Sequence[str] | None = "station_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # The busy check, start-up recovery, the list and the live view all ask "this station's
    # inspections in this state" (or "this station's newest").
    op.create_index("ix_station_inspection_station_status", "station_inspection", ["station_id", "status"])


def downgrade() -> None:
    op.drop_index("ix_station_inspection_station_status", table_name="station_inspection")
