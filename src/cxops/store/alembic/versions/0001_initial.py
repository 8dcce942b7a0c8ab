"""initial schema: runs, memberships, events, benefits, managers, assignments, actions, notes, job locks

Revision ID: 0001
Revises:
Create Date: 2026-12-04 21:47:53.318677
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from cxops.store.types import UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
BIGID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

# The event log is append-only: the database itself refuses UPDATE and DELETE (and TRUNCATE).
APPEND_ONLY = {
    "sqlite": [
        "CREATE TRIGGER events_no_update BEFORE UPDATE ON events "
        "BEGIN SELECT RAISE(ABORT, 'events is append-only: UPDATE refused'); END",
        "CREATE TRIGGER events_no_delete BEFORE DELETE ON events "
        "BEGIN SELECT RAISE(ABORT, 'events is append-only: DELETE refused'); END",
    ],
    "postgresql": [
        "CREATE FUNCTION cxops_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP "
        "USING ERRCODE = 'restrict_violation'; END $$",
        "CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON events "
        "FOR EACH ROW EXECUTE FUNCTION cxops_append_only()",
        "CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events "
        "FOR EACH STATEMENT EXECUTE FUNCTION cxops_append_only()",
    ],
}
DROP_APPEND_ONLY = {
    "sqlite": ["DROP TRIGGER events_no_update", "DROP TRIGGER events_no_delete"],
    "postgresql": [
        "DROP TRIGGER events_append_only ON events",
        "DROP TRIGGER events_no_truncate ON events",
        "DROP FUNCTION cxops_append_only()",
    ],
}


def upgrade() -> None:
    op.create_table(
        "account_managers",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("languages", JSON, nullable=False),
        sa.Column("categories", JSON, nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("capacity > 0", name=op.f("ck_account_managers_capacity_positive")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_managers")),
    )
    op.create_table(
        "job_locks",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("owner", sa.String(length=300), nullable=False),
        sa.Column("host", sa.String(length=200), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("acquired_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("heartbeat_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_job_locks")),
    )
    op.create_table(
        "notes",
        sa.Column("id", BIGID, nullable=False),
        sa.Column("program", sa.String(length=64), nullable=False),
        sa.Column("seller_id", sa.String(length=64), nullable=False),
        sa.Column("marketplace_id", sa.String(length=64), nullable=False),
        sa.Column("author", sa.String(length=200), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notes")),
    )
    op.create_index(
        op.f("ix_notes_program"),
        "notes",
        ["program", "seller_id", "marketplace_id", "created_at"],
        unique=False,
    )

    op.create_table(
        "runs",
        sa.Column("id", BIGID, nullable=False),
        sa.Column("program", sa.String(length=64), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("policy_name", sa.String(length=64), nullable=False),
        sa.Column("policy_version", sa.String(length=64), nullable=False),
        sa.Column("policy_hash", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), server_default="running", nullable=False),
        sa.Column("started_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("rebuild_from", sa.Date(), nullable=True),
        sa.Column("timings", JSON, nullable=True),
        sa.Column("counts", JSON, nullable=True),
        sa.Column("owner", sa.String(length=200), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.CheckConstraint("status IN ('running', 'succeeded', 'failed')", name=op.f("ck_runs_status")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_runs")),
    )
    op.create_index(op.f("ix_runs_program"), "runs", ["program", "as_of"], unique=False)

    op.create_table(
        "actions",
        sa.Column("id", BIGID, nullable=False),
        sa.Column("program", sa.String(length=64), nullable=False),
        sa.Column("seller_id", sa.String(length=64), nullable=False),
        sa.Column("marketplace_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=12), server_default="pending", nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("until", sa.Date(), nullable=True),
        sa.Column("manager_id", sa.String(length=64), nullable=True),
        sa.Column("requested_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("applied_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("run_id", BIGID, nullable=True),
        sa.Column("outcome", sa.Text(), nullable=True),
        sa.Column("idempotency_key", sa.String(length=200), nullable=True),
        sa.CheckConstraint(
            "kind IN ('exempt', 'suspend', 'reinstate', 'accept_plan', 'reject_plan', 'lift_block', "
            "'assign_manager')",
            name=op.f("ck_actions_kind"),
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'applied', 'rejected', 'cancelled')", name=op.f("ck_actions_status")
        ),
        sa.ForeignKeyConstraint(
            ["manager_id"], ["account_managers.id"], name=op.f("fk_actions_manager_id_account_managers")
        ),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], name=op.f("fk_actions_run_id_runs")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_actions")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_actions_idempotency_key")),
    )
    op.create_index(
        op.f("ix_actions_program"), "actions", ["program", "seller_id", "marketplace_id"], unique=False
    )
    op.create_index(op.f("ix_actions_status"), "actions", ["status", "requested_at"], unique=False)

    op.create_table(
        "benefits",
        sa.Column("id", BIGID, nullable=False),
        sa.Column("program", sa.String(length=64), nullable=False),
        sa.Column("seller_id", sa.String(length=64), nullable=False),
        sa.Column("marketplace_id", sa.String(length=64), nullable=False),
        sa.Column("benefit", sa.String(length=64), nullable=False),
        sa.Column("tier", sa.String(length=200), nullable=True),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("effective_to", sa.Date(), nullable=True),
        sa.Column("run_id", BIGID, nullable=True),
        sa.Column("closed_run_id", BIGID, nullable=True),
        sa.ForeignKeyConstraint(["closed_run_id"], ["runs.id"], name=op.f("fk_benefits_closed_run_id_runs")),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], name=op.f("fk_benefits_run_id_runs")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_benefits")),
    )
    op.create_index(
        op.f("ix_benefits_program"),
        "benefits",
        ["program", "seller_id", "marketplace_id", "benefit", "effective_from"],
        unique=False,
    )
    op.create_index(
        "uq_benefits_open",
        "benefits",
        ["program", "seller_id", "marketplace_id", "benefit"],
        unique=True,
        sqlite_where=sa.text("effective_to IS NULL"),
        postgresql_where=sa.text("effective_to IS NULL"),
    )

    op.create_table(
        "memberships",
        sa.Column("program", sa.String(length=64), nullable=False),
        sa.Column("seller_id", sa.String(length=64), nullable=False),
        sa.Column("marketplace_id", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("since", sa.Date(), nullable=True),
        sa.Column("consecutive_breaches", sa.Integer(), server_default="0", nullable=False),
        sa.Column("breach_counts", JSON, nullable=True),
        sa.Column("recovery_streak", sa.Integer(), server_default="0", nullable=False),
        sa.Column("repeat_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("immunity_until", sa.Date(), nullable=True),
        sa.Column("exemption_until", sa.Date(), nullable=True),
        sa.Column("account_manager_id", sa.String(length=64), nullable=True),
        sa.Column("primary_category", sa.String(length=200), nullable=True),
        sa.Column("reason_key", sa.String(length=64), nullable=True),
        sa.Column("reason_params", JSON, nullable=True),
        sa.Column("state_data", JSON, nullable=True),
        sa.Column("last_evaluated", sa.Date(), nullable=True),
        sa.Column("last_run_id", BIGID, nullable=True),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_manager_id"],
            ["account_managers.id"],
            name=op.f("fk_memberships_account_manager_id_account_managers"),
        ),
        sa.ForeignKeyConstraint(["last_run_id"], ["runs.id"], name=op.f("fk_memberships_last_run_id_runs")),
        sa.PrimaryKeyConstraint("program", "seller_id", "marketplace_id", name=op.f("pk_memberships")),
    )
    op.create_index(
        op.f("ix_memberships_account_manager_id"), "memberships", ["account_manager_id"], unique=False
    )
    op.create_index(
        op.f("ix_memberships_program"), "memberships", ["program", "state", "marketplace_id"], unique=False
    )

    op.create_table(
        "events",
        sa.Column("id", BIGID, nullable=False),
        sa.Column("program", sa.String(length=64), nullable=True),
        sa.Column("seller_id", sa.String(length=64), nullable=True),
        sa.Column("marketplace_id", sa.String(length=64), nullable=True),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("from_state", sa.String(length=32), nullable=True),
        sa.Column("to_state", sa.String(length=32), nullable=True),
        sa.Column("rule_id", sa.String(length=64), nullable=True),
        sa.Column("metric", sa.String(length=64), nullable=True),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("numerator", sa.Float(), nullable=True),
        sa.Column("denominator", sa.Float(), nullable=True),
        sa.Column("threshold", sa.Float(), nullable=True),
        sa.Column("operator", sa.String(length=4), nullable=True),
        sa.Column("window_days", sa.Integer(), nullable=True),
        sa.Column("event_date", sa.Date(), nullable=True),
        sa.Column("as_of", sa.Date(), nullable=True),
        sa.Column("policy_version", sa.String(length=64), nullable=True),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("reason_key", sa.String(length=64), nullable=True),
        sa.Column("reason_params", JSON, nullable=True),
        sa.Column("details", JSON, nullable=True),
        sa.Column("occurred_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("run_id", BIGID, nullable=True),
        sa.Column("action_id", BIGID, nullable=True),
        sa.Column("idempotency_key", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(["action_id"], ["actions.id"], name=op.f("fk_events_action_id_actions")),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], name=op.f("fk_events_run_id_runs")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_events_idempotency_key")),
    )
    op.create_index(op.f("ix_events_kind"), "events", ["kind"], unique=False)
    op.create_index(op.f("ix_events_occurred_at"), "events", ["occurred_at"], unique=False)
    op.create_index(
        op.f("ix_events_program"), "events", ["program", "seller_id", "marketplace_id", "id"], unique=False
    )
    op.create_index(op.f("ix_events_run_id"), "events", ["run_id"], unique=False)

    op.create_table(
        "manager_assignments",
        sa.Column("id", BIGID, nullable=False),
        sa.Column("program", sa.String(length=64), nullable=False),
        sa.Column("seller_id", sa.String(length=64), nullable=False),
        sa.Column("marketplace_id", sa.String(length=64), nullable=False),
        sa.Column("manager_id", sa.String(length=64), nullable=False),
        sa.Column("assigned_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("run_id", BIGID, nullable=True),
        sa.Column("action_id", BIGID, nullable=True),
        sa.ForeignKeyConstraint(
            ["action_id"], ["actions.id"], name=op.f("fk_manager_assignments_action_id_actions")
        ),
        sa.ForeignKeyConstraint(
            ["manager_id"],
            ["account_managers.id"],
            name=op.f("fk_manager_assignments_manager_id_account_managers"),
        ),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], name=op.f("fk_manager_assignments_run_id_runs")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_manager_assignments")),
    )
    op.create_index(
        op.f("ix_manager_assignments_manager_id"),
        "manager_assignments",
        ["manager_id", "ended_at"],
        unique=False,
    )
    op.create_index(
        "uq_manager_assignments_open",
        "manager_assignments",
        ["program", "seller_id", "marketplace_id"],
        unique=True,
        sqlite_where=sa.text("ended_at IS NULL"),
        postgresql_where=sa.text("ended_at IS NULL"),
    )
    for statement in APPEND_ONLY[op.get_bind().dialect.name]:
        op.execute(statement)


def downgrade() -> None:
    for statement in DROP_APPEND_ONLY[op.get_bind().dialect.name]:
        op.execute(statement)
    op.drop_index(
        "uq_manager_assignments_open",
        table_name="manager_assignments",
        sqlite_where=sa.text("ended_at IS NULL"),
        postgresql_where=sa.text("ended_at IS NULL"),
    )
    op.drop_index(op.f("ix_manager_assignments_manager_id"), table_name="manager_assignments")

    op.drop_table("manager_assignments")
    op.drop_index(op.f("ix_events_run_id"), table_name="events")
    op.drop_index(op.f("ix_events_program"), table_name="events")
    op.drop_index(op.f("ix_events_occurred_at"), table_name="events")
    op.drop_index(op.f("ix_events_kind"), table_name="events")

    op.drop_table("events")
    op.drop_index(op.f("ix_memberships_program"), table_name="memberships")
    op.drop_index(op.f("ix_memberships_account_manager_id"), table_name="memberships")

    op.drop_table("memberships")
    op.drop_index(
        "uq_benefits_open",
        table_name="benefits",
        sqlite_where=sa.text("effective_to IS NULL"),
        postgresql_where=sa.text("effective_to IS NULL"),
    )
    op.drop_index(op.f("ix_benefits_program"), table_name="benefits")

    op.drop_table("benefits")
    op.drop_index(op.f("ix_actions_status"), table_name="actions")
    op.drop_index(op.f("ix_actions_program"), table_name="actions")

    op.drop_table("actions")
    op.drop_index(op.f("ix_runs_program"), table_name="runs")

    op.drop_table("runs")
    op.drop_index(op.f("ix_notes_program"), table_name="notes")

    op.drop_table("notes")
    op.drop_table("job_locks")
    op.drop_table("account_managers")
