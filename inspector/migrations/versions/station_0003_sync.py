"""station: enrolment with a platform and the outbox of certificates and photos to send it

Revision ID: station_0003
Revises: station_0002
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "station_0003"
down_revision: str | Sequence[str] | None = "station_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sync_enrolment",
        sa.Column("station_id", sa.String(64), primary_key=True),
        sa.Column("platform_url", sa.String(512), nullable=False),
        sa.Column("issuer_id", sa.String(600), nullable=False),
        sa.Column("root_key", sa.String(64), nullable=False),
        sa.Column("key_fingerprint", sa.String(64), nullable=False),
        sa.Column("key_certification", sa.Text(), nullable=False),
        sa.Column("status_list_first", sa.Integer(), nullable=False),
        sa.Column("status_list_count", sa.Integer(), nullable=False),
        sa.Column("enrolled_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("condition", sa.String(16), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=False, server_default=""),
        sa.Column("last_error_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_success_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "sync_outbox",
        sa.Column("seq", sa.Integer(), primary_key=True),
        sa.Column("station_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("ref", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("refused_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("refusal", sa.Text(), nullable=False, server_default=""),
        sa.Column("receipt", sa.Text(), nullable=False, server_default=""),
        sa.UniqueConstraint("station_id", "kind", "ref", name="uq_sync_outbox_item"),
    )
    # The pusher asks "this station's oldest item not yet sent nor refused".
    op.create_index("ix_sync_outbox_waiting", "sync_outbox", ["station_id", "sent_at", "refused_at", "seq"])


def downgrade() -> None:
    op.drop_index("ix_sync_outbox_waiting", table_name="sync_outbox")
    op.drop_table("sync_outbox")
    op.drop_table("sync_enrolment")
