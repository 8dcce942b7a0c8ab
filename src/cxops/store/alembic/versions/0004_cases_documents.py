"""cases (inquiries, disputes, appeals) with their status history, entries and files; documents

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-05 00:30:00

Case changes and document submissions and reviews are also recorded in the existing append-only
``events`` table (kinds ``case_*`` and ``document_*``). Files are stored outside the database under
their SHA-256 (``cxops.service.documents``); ``case_files.sha256`` and ``documents.sha256`` are the
references the garbage collector of unreferenced files reads.

"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from cxops.store.types import UTCDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

BIGID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True), "postgresql")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _id() -> sa.Column:
    return sa.Column("id", BIGID, nullable=False)


def _instant(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, UTCDateTime(timezone=True), nullable=nullable)


def _text(name: str, length: int | None, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.String(length=length) if length else sa.Text(), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "documents",
        _id(),
        _text("program", 64),
        _text("seller_id", 64),
        _text("marketplace_id", 64),
        _text("kind", 40),
        _text("period", 7, True),
        _text("status", 12),
        _text("sha256", 64),
        sa.Column("size", sa.BigInteger(), nullable=False),
        _text("content_type", 64),
        _text("filename", 300),
        _instant("submitted_at"),
        _text("submitted_by", 200),
        sa.Column("signed_on", sa.Date(), nullable=True),
        sa.Column("expires_on", sa.Date(), nullable=True),
        _instant("reviewed_at", True),
        _text("reviewed_by", 200, True),
        _text("review_reason", None, True),
        sa.CheckConstraint(
            _in("status", ("submitted", "accepted", "rejected")), name=op.f("ck_documents_status")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_documents")),
    )
    op.create_index(
        op.f("ix_documents_program"), "documents", ["program", "seller_id", "marketplace_id", "kind", "id"]
    )
    op.create_index(op.f("ix_documents_sha256"), "documents", ["sha256"])
    op.create_index("ix_documents_status_submitted", "documents", ["status", "submitted_at"])

    op.create_table(
        "cases",
        _id(),
        _text("kind", 16),
        _text("program", 64),
        _text("seller_id", 64),
        _text("marketplace_id", 64),
        _text("order_id", 200, True),
        _text("status", 16),
        _text("owner", 200, True),
        _text("subject", None),
        _text("source", 16),
        _instant("opened_at"),
        _text("opened_by", 200),
        _instant("due_at", True),
        _instant("first_response_at", True),
        _instant("escalated_at", True),
        _instant("closed_at", True),
        _instant("updated_at"),
        sa.Column("answer", JSON, nullable=True),
        sa.Column("details", JSON, nullable=True),
        sa.Column("action_id", BIGID, nullable=True),
        _text("idempotency_key", 200, True),
        sa.CheckConstraint(_in("kind", ("inquiry", "dispute", "appeal")), name=op.f("ck_cases_kind")),
        sa.CheckConstraint(_in("source", ("seller", "operator", "import")), name=op.f("ck_cases_source")),
        sa.CheckConstraint(
            _in("status", ("open", "answered", "responded", "escalated", "accepted", "rejected", "closed")),
            name=op.f("ck_cases_status"),
        ),
        sa.ForeignKeyConstraint(["action_id"], ["actions.id"], name=op.f("fk_cases_action_id_actions")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cases")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_cases_idempotency_key")),
    )
    op.create_index("ix_cases_kind_status_due", "cases", ["kind", "status", "due_at"])
    op.create_index(op.f("ix_cases_order_id"), "cases", ["order_id"])
    op.create_index(op.f("ix_cases_owner"), "cases", ["owner", "status"])
    op.create_index(op.f("ix_cases_seller_id"), "cases", ["seller_id", "marketplace_id", "opened_at"])

    op.create_table(
        "case_entries",
        _id(),
        sa.Column("case_id", BIGID, nullable=False),
        _text("kind", 16),
        _text("role", 16),
        _text("author", 200),
        _text("text", None),
        _instant("created_at"),
        sa.CheckConstraint(
            _in("kind", ("answer", "response", "action_plan", "note", "decision")),
            name=op.f("ck_case_entries_kind"),
        ),
        sa.CheckConstraint(_in("role", ("seller", "operator", "system")), name=op.f("ck_case_entries_role")),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_case_entries_case_id_cases")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_entries")),
    )
    op.create_index(op.f("ix_case_entries_case_id"), "case_entries", ["case_id", "id"])

    op.create_table(
        "case_status_changes",
        _id(),
        sa.Column("case_id", BIGID, nullable=False),
        _text("from_status", 16, True),
        _text("to_status", 16),
        _instant("at"),
        _text("actor", 200),
        _text("reason", None, True),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_case_status_changes_case_id_cases")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_status_changes")),
    )
    op.create_index(op.f("ix_case_status_changes_case_id"), "case_status_changes", ["case_id", "id"])

    op.create_table(
        "case_files",
        _id(),
        sa.Column("case_id", BIGID, nullable=False),
        sa.Column("entry_id", BIGID, nullable=False),
        _text("sha256", 64),
        _text("filename", 300),
        sa.Column("size", sa.BigInteger(), nullable=False),
        _text("content_type", 64),
        _instant("created_at"),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_case_files_case_id_cases")),
        sa.ForeignKeyConstraint(
            ["entry_id"], ["case_entries.id"], name=op.f("fk_case_files_entry_id_case_entries")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_files")),
    )
    op.create_index(op.f("ix_case_files_case_id"), "case_files", ["case_id"])
    op.create_index(op.f("ix_case_files_sha256"), "case_files", ["sha256"])


def downgrade() -> None:
    # dropping a table drops its indexes
    for table in ("case_files", "case_status_changes", "case_entries", "cases", "documents"):
        op.drop_table(table)
