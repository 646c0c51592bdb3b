"""certificates: signing keys, certificates, transparency log, tree heads

Revision ID: certificates_0001
Revises:
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "certificates_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("certificates",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "cert_key",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("station_id", sa.String(64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoke_reason", sa.String(256), nullable=False, server_default=""),
        sa.Column("certification", sa.Text(), nullable=False, server_default=""),
    )
    op.create_index("ix_cert_key_fingerprint", "cert_key", ["fingerprint"], unique=True)
    op.create_index("ix_cert_key_station_id", "cert_key", ["station_id"])
    op.create_table(
        "cert_certificate",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("human_id", sa.String(16), nullable=False),
        sa.Column("inspection_id", sa.String(128), nullable=False),
        sa.Column("item_kind", sa.String(16), nullable=False),
        sa.Column("station_id", sa.String(64), nullable=False),
        sa.Column("key_fingerprint", sa.String(64), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("credential", sa.Text(), nullable=False),
        sa.Column("status_list", sa.Integer(), nullable=False),
        sa.Column("status_index", sa.Integer(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("suspended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status_reason", sa.String(512), nullable=False, server_default=""),
        sa.Column("log_index", sa.Integer(), nullable=True),
        sa.Column("supersedes", sa.String(16), nullable=True),
        sa.UniqueConstraint("status_list", "status_index", name="uq_cert_status_slot"),
    )
    op.create_index("ix_cert_certificate_human_id", "cert_certificate", ["human_id"], unique=True)
    op.create_index("ix_cert_certificate_inspection_id", "cert_certificate", ["inspection_id"])
    op.create_index("ix_cert_certificate_station_id", "cert_certificate", ["station_id"])
    op.create_table(
        "cert_log_leaf",
        sa.Column("idx", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("human_id", sa.String(16), nullable=False),
        sa.Column("leaf_hash", sa.String(64), nullable=False),
        sa.Column("entry", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_cert_log_leaf_human_id", "cert_log_leaf", ["human_id"])
    op.create_table(
        "cert_tree_head",
        sa.Column("tree_size", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("root_hash", sa.String(64), nullable=False),
        sa.Column("timestamp", sa.DateTime(timezone=True), nullable=False),
        sa.Column("signed", sa.Text(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("cert_tree_head")
    op.drop_table("cert_log_leaf")
    op.drop_table("cert_certificate")
    op.drop_table("cert_key")
