"""station: since when the sync is in its condition, and what kind of problem stopped it last

Revision ID: station_0004
Revises: station_0003
Create Date: 2026-12-08
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "station_0004"
down_revision: str | Sequence[str] | None = "station_0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # The console says "unreachable since 14:02" and "its key was revoked" in the operator's
    # language: the moment the condition began and a code for the problem, not only its English text.
    with op.batch_alter_table("sync_enrolment") as batch:
        batch.add_column(sa.Column("condition_since", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("last_error_kind", sa.String(32), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("sync_enrolment") as batch:
        batch.drop_column("last_error_kind")
        batch.drop_column("condition_since")
