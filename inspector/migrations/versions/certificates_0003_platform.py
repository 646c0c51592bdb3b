"""certificates: the platform's enrolment codes, enrolled stations, seen upload nonces and photos

Revision ID: certificates_0003
Revises: certificates_0002
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "certificates_0003"
down_revision: str | Sequence[str] | None = "certificates_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "platform_enrol_code",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("station_id", sa.String(64), nullable=False),
        sa.Column("code_sha256", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("key_fingerprint", sa.String(64), nullable=False),
    )
    op.create_index("ix_platform_enrol_code_station_id", "platform_enrol_code", ["station_id"])
    op.create_table(
        "platform_station",
        sa.Column("station_id", sa.String(64), primary_key=True),
        sa.Column("status_list_first", sa.Integer(), nullable=False, unique=True),
        sa.Column("status_list_count", sa.Integer(), nullable=False),
        sa.Column("enrolled_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_upload_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "platform_nonce",
        sa.Column("nonce", sa.String(64), primary_key=True),
        sa.Column("station_id", sa.String(64), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_platform_nonce_seen_at", "platform_nonce", ["seen_at"])
    op.create_table(
        "platform_photo",
        sa.Column("sha256", sa.String(64), primary_key=True),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("station_id", sa.String(64), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("platform_photo")
    op.drop_index("ix_platform_nonce_seen_at", table_name="platform_nonce")
    op.drop_table("platform_nonce")
    op.drop_table("platform_station")
    op.drop_index("ix_platform_enrol_code_station_id", table_name="platform_enrol_code")
    op.drop_table("platform_enrol_code")
