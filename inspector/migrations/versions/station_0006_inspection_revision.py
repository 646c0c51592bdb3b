"""station: count each inspection's changes, so a viewer can tell the newer of two views

Revision ID: station_0006
Revises: station_0005
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "station_0006"
down_revision: str | Sequence[str] | None = "station_0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("station_inspection") as batch:
        batch.add_column(sa.Column("revision", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("station_inspection") as batch:
        batch.drop_column("revision")
