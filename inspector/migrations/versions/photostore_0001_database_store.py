"""photostore: photos kept in the database in chunks (INSPECTOR_PHOTO_STORE=database)

Revision ID: photostore_0001
Revises:
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "photostore_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("photostore",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "photo_upload",
        sa.Column("upload_id", sa.String(32), primary_key=True),
        sa.Column("shelf", sa.String(16), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_photo_upload_started_at", "photo_upload", ["started_at"])
    op.create_table(
        "photo_chunk",
        sa.Column(
            "upload_id",
            sa.String(32),
            sa.ForeignKey("photo_upload.upload_id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("seq", sa.Integer(), primary_key=True),
        sa.Column("data", sa.LargeBinary(), nullable=False),
    )
    op.create_table(
        "photo_object",
        sa.Column("shelf", sa.String(16), primary_key=True),
        sa.Column("sha256", sa.String(64), primary_key=True),
        sa.Column(
            "upload_id", sa.String(32), sa.ForeignKey("photo_upload.upload_id"), nullable=False, unique=True
        ),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("stored_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("photo_object")
    op.drop_table("photo_chunk")
    op.drop_index("ix_photo_upload_started_at", table_name="photo_upload")
    op.drop_table("photo_upload")
