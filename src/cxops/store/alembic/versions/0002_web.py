"""the web: users and their sellers, login sessions, API tokens, login attempts; console indexes

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-04 23:30:00

Logins, logouts, failed logins, lockouts and user and token changes are recorded in the existing
append-only ``events`` table (kinds ``login``, ``login_failed``, ``logout``, ``user_*``, ``token_*``);
``ix_events_kind_id`` lists them newest first. The membership indexes serve the operator console's
filters and sorts as keyset scans (see ``cxops.store.listing``): 0001's ``(program, state,
marketplace_id)`` and ``(account_manager_id)`` become ``(program, state, seller_id, marketplace_id)``
and ``(account_manager_id, program, seller_id, marketplace_id)``, and ``(program, state, since,
seller_id, marketplace_id)`` sorts a state's sellers by the day they entered it (a missing day last).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from cxops.store.types import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

BIGID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
ROLES = "role IN ('operator-admin', 'operator-viewer', 'seller')"
SINCE = sa.text("coalesce(since, '9999-12-31')")


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", BIGID, nullable=False),
        sa.Column("login", sa.String(length=200), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("language", sa.String(length=16), nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("password_changed_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_login_at", UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(ROLES, name=op.f("ck_users_role")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("login", name=op.f("uq_users_login")),
    )
    op.create_table(
        "user_sellers",
        sa.Column("user_id", BIGID, nullable=False),
        sa.Column("seller_id", sa.String(length=64), nullable=False),
        sa.Column("marketplace_id", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_user_sellers_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", "seller_id", "marketplace_id", name=op.f("pk_user_sellers")),
    )
    op.create_index(op.f("ix_user_sellers_seller_id"), "user_sellers", ["seller_id"], unique=False)
    op.create_table(
        "web_sessions",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("user_id", BIGID, nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("ip", sa.String(length=64), nullable=True),
        sa.Column("user_agent", sa.String(length=300), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_web_sessions_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_web_sessions")),
    )
    op.create_index(op.f("ix_web_sessions_user_id"), "web_sessions", ["user_id"], unique=False)
    op.create_index(op.f("ix_web_sessions_expires_at"), "web_sessions", ["expires_at"], unique=False)
    op.create_table(
        "api_tokens",
        sa.Column("id", BIGID, nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_used_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_by", sa.String(length=200), nullable=True),
        sa.CheckConstraint(ROLES, name=op.f("ck_api_tokens_role")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_tokens_token_hash")),
    )
    op.create_table(
        "api_token_sellers",
        sa.Column("token_id", BIGID, nullable=False),
        sa.Column("seller_id", sa.String(length=64), nullable=False),
        sa.Column("marketplace_id", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["token_id"],
            ["api_tokens.id"],
            name=op.f("fk_api_token_sellers_token_id_api_tokens"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("token_id", "seller_id", "marketplace_id", name=op.f("pk_api_token_sellers")),
    )
    op.create_table(
        "login_attempts",
        sa.Column("id", BIGID, nullable=False),
        sa.Column("login", sa.String(length=200), nullable=False),
        sa.Column("ip", sa.String(length=64), nullable=False),
        sa.Column("at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.String(length=8), nullable=False),
        sa.Column("locked_until", UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "outcome IN ('ok', 'failed', 'refused', 'reset')", name=op.f("ck_login_attempts_outcome")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_attempts")),
    )
    op.create_index(op.f("ix_login_attempts_login"), "login_attempts", ["login", "at"], unique=False)
    op.create_index(op.f("ix_login_attempts_ip"), "login_attempts", ["ip", "at"], unique=False)
    op.create_index(op.f("ix_login_attempts_at"), "login_attempts", ["at"], unique=False)

    op.create_index("ix_events_kind_id", "events", ["kind", "id"], unique=False)
    m = "memberships"
    # wider versions of 0001's two indexes (they serve every query those did, in the lists' order)
    op.drop_index(op.f("ix_memberships_program"), table_name=m)
    op.drop_index(op.f("ix_memberships_account_manager_id"), table_name=m)
    op.create_index("ix_memberships_state_seller", m, ["program", "state", "seller_id", "marketplace_id"])
    op.create_index(
        "ix_memberships_manager_seller", m, ["account_manager_id", "program", "seller_id", "marketplace_id"]
    )
    op.create_index(
        "ix_memberships_state_since", m, ["program", "state", SINCE, "seller_id", "marketplace_id"]
    )


def downgrade() -> None:
    m = "memberships"
    for name in (
        "ix_memberships_state_since",
        "ix_memberships_manager_seller",
        "ix_memberships_state_seller",
    ):
        op.drop_index(name, table_name=m)
    op.create_index(op.f("ix_memberships_account_manager_id"), m, ["account_manager_id"], unique=False)
    op.create_index(op.f("ix_memberships_program"), m, ["program", "state", "marketplace_id"], unique=False)
    op.drop_index("ix_events_kind_id", table_name="events")
    for table in (
        "login_attempts",
        "api_token_sellers",
        "api_tokens",
        "web_sessions",
        "user_sellers",
        "users",
    ):
        op.drop_table(table)
