"""notifications: the outbox and its delivery attempts, seller contacts and preferences, webhook endpoints

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-05 09:00:00

See :mod:`cxops.store.notify_models`. ``ix_outbox_status`` (status, available_at) serves the sender's
claim (due messages of a status, oldest first) and the digest composition (held alerts that are due).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from cxops.store.types import UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
BIGID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
STATUSES = "status IN ('pending', 'sending', 'sent', 'failed', 'dead', 'held', 'bundled')"


def upgrade() -> None:
    op.create_table(
        "notify_contacts",
        sa.Column("id", BIGID, nullable=False),
        sa.Column("seller_id", sa.String(length=64), nullable=False),
        sa.Column("marketplace_id", sa.String(length=64), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("language", sa.String(length=16), nullable=False),
        sa.Column("muted", JSON, nullable=False),
        sa.Column("digest", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("unsubscribe_token", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notify_contacts")),
        sa.UniqueConstraint("seller_id", "marketplace_id", "email", name="uq_notify_contacts_address"),
        sa.UniqueConstraint("unsubscribe_token", name=op.f("uq_notify_contacts_unsubscribe_token")),
    )
    op.create_index(
        op.f("ix_notify_contacts_seller_id"), "notify_contacts", ["seller_id", "marketplace_id"], unique=False
    )
    op.create_table(
        "webhook_endpoints",
        sa.Column("id", BIGID, nullable=False),
        sa.Column("seller_id", sa.String(length=64), nullable=False),
        sa.Column("marketplace_id", sa.String(length=64), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("secret", sa.String(length=200), nullable=False),
        sa.Column("kinds", JSON, nullable=True),
        sa.Column("language", sa.String(length=16), nullable=False),
        sa.Column("description", sa.String(length=200), nullable=True),
        sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_endpoints")),
    )
    op.create_index(
        op.f("ix_webhook_endpoints_seller_id"),
        "webhook_endpoints",
        ["seller_id", "marketplace_id"],
        unique=False,
    )
    op.create_table(
        "outbox",
        sa.Column("id", BIGID, nullable=False),
        sa.Column("idempotency_key", sa.String(length=300), nullable=False),
        sa.Column("message_id", sa.String(length=300), nullable=False),
        sa.Column("program", sa.String(length=64), nullable=True),
        sa.Column("seller_id", sa.String(length=64), nullable=False),
        sa.Column("marketplace_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("contact_id", BIGID, nullable=True),
        sa.Column("endpoint_id", BIGID, nullable=True),
        sa.Column("recipient", sa.String(length=2000), nullable=False),
        sa.Column("language", sa.String(length=16), nullable=False),
        sa.Column("params", JSON, nullable=False),
        sa.Column("source_key", sa.String(length=300), nullable=True),
        sa.Column("subject", sa.Text(), nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("available_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=12), server_default="pending", nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("lease_owner", sa.String(length=300), nullable=True),
        sa.Column("lease_until", UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("sent_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("provider_message_id", sa.String(length=1000), nullable=True),
        sa.Column("bundle_id", BIGID, nullable=True),
        sa.CheckConstraint(STATUSES, name=op.f("ck_outbox_status")),
        sa.CheckConstraint("channel IN ('email', 'webhook')", name=op.f("ck_outbox_channel")),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["notify_contacts.id"], name=op.f("fk_outbox_contact_id_notify_contacts")
        ),
        sa.ForeignKeyConstraint(
            ["endpoint_id"], ["webhook_endpoints.id"], name=op.f("fk_outbox_endpoint_id_webhook_endpoints")
        ),
        sa.ForeignKeyConstraint(["bundle_id"], ["outbox.id"], name=op.f("fk_outbox_bundle_id_outbox")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_outbox_idempotency_key")),
    )
    op.create_index(op.f("ix_outbox_status"), "outbox", ["status", "available_at"], unique=False)
    op.create_index(
        op.f("ix_outbox_seller_id"), "outbox", ["seller_id", "marketplace_id", "id"], unique=False
    )
    op.create_index(op.f("ix_outbox_contact_id"), "outbox", ["contact_id", "status"], unique=False)
    op.create_index(op.f("ix_outbox_bundle_id"), "outbox", ["bundle_id"], unique=False)
    op.create_table(
        "outbox_attempts",
        sa.Column("id", BIGID, nullable=False),
        sa.Column("outbox_id", BIGID, nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("worker", sa.String(length=300), nullable=False),
        sa.Column("started_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=8), nullable=True),
        sa.Column("response", sa.Text(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.CheckConstraint("outcome IN ('sent', 'failed', 'dead')", name=op.f("ck_outbox_attempts_outcome")),
        sa.ForeignKeyConstraint(
            ["outbox_id"], ["outbox.id"], name=op.f("fk_outbox_attempts_outbox_id_outbox")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_attempts")),
    )
    op.create_index(
        op.f("ix_outbox_attempts_outbox_id"), "outbox_attempts", ["outbox_id", "attempt"], unique=False
    )


def downgrade() -> None:
    for table in ("outbox_attempts", "outbox", "webhook_endpoints", "notify_contacts"):
        op.drop_table(table)
