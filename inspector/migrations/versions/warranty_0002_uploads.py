"""warranty: uploaded claim photos, so unreferenced uploads can expire

Revision ID: warranty_0002
Revises: warranty_0001
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "warranty_0002"
down_revision: str | Sequence[str] | None = "warranty_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "warranty_upload",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("claim_id", sa.Integer(), sa.ForeignKey("warranty_claim.id"), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("purpose", sa.String(16), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_warranty_upload_claim_id", "warranty_upload", ["claim_id"])
    op.create_index("ix_warranty_upload_sha256", "warranty_upload", ["sha256"])


def downgrade() -> None:
    op.drop_table("warranty_upload")
