"""station: what kind of refusal set an outbox item aside (so people are told why in their language)

Revision ID: station_0005
Revises: station_0004
Create Date: 2026-12-09
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "station_0005"
down_revision: str | Sequence[str] | None = "station_0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("sync_outbox") as batch:
        batch.add_column(sa.Column("refusal_kind", sa.String(32), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("sync_outbox") as batch:
        batch.drop_column("refusal_kind")
