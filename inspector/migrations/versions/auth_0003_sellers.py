"""auth: sellers (tenants) on a shared platform, and the seller a user works for

Revision ID: auth_0003
Revises: auth_0002
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "auth_0003"
down_revision: str | Sequence[str] | None = "auth_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "auth_seller",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    # NULL for every existing user: they keep working as the platform's own people. The
    # reference is inline (ADD COLUMN ... REFERENCES), which SQLite takes without a table copy.
    op.add_column(
        "auth_user",
        sa.Column("seller_id", sa.String(32), sa.ForeignKey("auth_seller.id"), nullable=True),
        inline_references=True,
    )
    op.create_index("ix_auth_user_seller_id", "auth_user", ["seller_id"])


def downgrade() -> None:
    op.drop_index("ix_auth_user_seller_id", table_name="auth_user")
    op.drop_column("auth_user", "seller_id")
    op.drop_table("auth_seller")
