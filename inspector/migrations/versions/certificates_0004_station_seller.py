"""certificates: the seller an enrolled station (and its enrolment code) belongs to

Revision ID: certificates_0004
Revises: certificates_0003
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "certificates_0004"
down_revision: str | Sequence[str] | None = "certificates_0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = "auth_0003"  # the sellers table


def upgrade() -> None:
    # NULL for stations enrolled before sellers existed: they stay the platform's own. Inline
    # references (ADD COLUMN ... REFERENCES) need no table copy on SQLite.
    for table in ("platform_station", "platform_enrol_code"):
        op.add_column(
            table,
            sa.Column("seller_id", sa.String(32), sa.ForeignKey("auth_seller.id"), nullable=True),
            inline_references=True,
        )
    op.create_index("ix_platform_station_seller_id", "platform_station", ["seller_id"])


def downgrade() -> None:
    op.drop_index("ix_platform_station_seller_id", table_name="platform_station")
    for table in ("platform_enrol_code", "platform_station"):
        op.drop_column(table, "seller_id")
