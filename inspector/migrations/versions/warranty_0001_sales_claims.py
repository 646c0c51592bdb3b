"""warranty: sales, claims and the append-only claim audit log

Revision ID: warranty_0001
Revises:
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "warranty_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("warranty",)
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "warranty_sale",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("cert_human_id", sa.String(32), nullable=False),
        sa.Column("order_ref", sa.String(64), nullable=False),
        sa.Column("price_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("sold_at", TS, nullable=False),
        sa.Column("buyer_contact", sa.String(256), nullable=False, server_default=""),
        sa.Column("plan_id", sa.String(48), nullable=False),
        sa.Column("recorded_by", sa.String(64), nullable=False, server_default=""),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("item_kind", sa.String(16), nullable=False, server_default=""),
        sa.Column("station_id", sa.String(64), nullable=False, server_default=""),
        sa.Column("grade", sa.String(16), nullable=False, server_default=""),
        sa.Column("device_model", sa.String(96), nullable=False, server_default=""),
        sa.Column("grader_version", sa.String(48), nullable=False, server_default=""),
        sa.CheckConstraint("price_minor >= 0", name="ck_warranty_sale_price"),
    )
    op.create_index("ix_warranty_sale_cert_human_id", "warranty_sale", ["cert_human_id"], unique=True)
    op.create_index("ix_warranty_sale_order_ref", "warranty_sale", ["order_ref"])

    op.create_table(
        "warranty_claim",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("ref", sa.String(16), nullable=False),
        sa.Column("cert_human_id", sa.String(32), nullable=False),
        sa.Column("open_cert", sa.String(32), nullable=True),
        sa.Column("sale_id", sa.Integer(), sa.ForeignKey("warranty_sale.id"), nullable=True),
        sa.Column("order_ref", sa.String(64), nullable=False, server_default=""),
        sa.Column("plan_id", sa.String(48), nullable=False),
        sa.Column("item_kind", sa.String(16), nullable=False),
        sa.Column("station_id", sa.String(64), nullable=False, server_default=""),
        sa.Column("grade", sa.String(16), nullable=False, server_default=""),
        sa.Column("device_model", sa.String(96), nullable=False, server_default=""),
        sa.Column("grader_version", sa.String(48), nullable=False, server_default=""),
        sa.Column("problem", sa.String(40), nullable=False),
        sa.Column("description", sa.Text(), nullable=False, server_default=""),
        sa.Column("buyer_photos", sa.Text(), nullable=False, server_default="[]"),
        sa.Column("buyer_secret_hash", sa.String(64), nullable=False),
        sa.Column("opened_via", sa.String(16), nullable=False),
        sa.Column("opened_by", sa.String(64), nullable=False, server_default=""),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False, server_default="1"),
        sa.Column("outcome", sa.String(16), nullable=True),
        sa.Column("deny_reason", sa.String(40), nullable=True),
        sa.Column("payout_minor", sa.BigInteger(), nullable=True),
        sa.Column("payout_currency", sa.String(3), nullable=True),
        sa.Column("received_identity", sa.String(64), nullable=True),
        sa.Column("received_weight_mg", sa.Integer(), nullable=True),
        sa.Column("reinspection", sa.Text(), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("received_at", TS, nullable=True),
        sa.Column("decided_at", TS, nullable=True),
        sa.Column("resolved_at", TS, nullable=True),
        sa.Column("closed_at", TS, nullable=True),
    )
    op.create_index("ix_warranty_claim_ref", "warranty_claim", ["ref"], unique=True)
    op.create_index("ix_warranty_claim_open_cert", "warranty_claim", ["open_cert"], unique=True)
    op.create_index(
        "ix_warranty_claim_buyer_secret_hash", "warranty_claim", ["buyer_secret_hash"], unique=True
    )
    op.create_index("ix_warranty_claim_cert_human_id", "warranty_claim", ["cert_human_id"])
    op.create_index("ix_warranty_claim_order_ref", "warranty_claim", ["order_ref"])
    op.create_index("ix_warranty_claim_item_kind", "warranty_claim", ["item_kind"])
    op.create_index("ix_warranty_claim_state_created", "warranty_claim", ["state", "created_at"])
    op.create_index("ix_warranty_claim_station_state", "warranty_claim", ["station_id", "state"])

    op.create_table(
        "warranty_claim_event",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("claim_id", sa.Integer(), sa.ForeignKey("warranty_claim.id"), nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("actor_role", sa.String(16), nullable=False),
        sa.Column("action", sa.String(24), nullable=False),
        sa.Column("from_state", sa.String(16), nullable=True),
        sa.Column("to_state", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False, server_default=""),
        sa.Column("data", sa.Text(), nullable=False, server_default="{}"),
    )
    op.create_index("ix_warranty_claim_event_claim_id", "warranty_claim_event", ["claim_id"])

    # The audit log is append-only: the database itself refuses UPDATE and DELETE.
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            """
            CREATE FUNCTION warranty_claim_event_append_only() RETURNS trigger AS $$
            BEGIN
              RAISE EXCEPTION 'warranty_claim_event is append-only';
            END;
            $$ LANGUAGE plpgsql
            """
        )
        op.execute(
            "CREATE TRIGGER warranty_claim_event_no_change BEFORE UPDATE OR DELETE ON warranty_claim_event "
            "FOR EACH ROW EXECUTE FUNCTION warranty_claim_event_append_only()"
        )
    else:
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER warranty_claim_event_no_{verb.lower()} "
                f"BEFORE {verb} ON warranty_claim_event "
                "BEGIN SELECT RAISE(ABORT, 'warranty_claim_event is append-only'); END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS warranty_claim_event_no_change ON warranty_claim_event")
        op.execute("DROP FUNCTION IF EXISTS warranty_claim_event_append_only()")
    op.drop_table("warranty_claim_event")
    op.drop_table("warranty_claim")
    op.drop_table("warranty_sale")
