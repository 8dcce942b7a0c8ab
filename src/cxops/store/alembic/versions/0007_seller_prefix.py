"""the console's seller-id search on PostgreSQL: ``seller_id LIKE 'prefix%'`` read every membership
(an index in the database's collation serves a prefix only when the collation is C; 11 ms at 100 k
memberships, ~110 ms at 1 M); an index with ``varchar_pattern_ops`` serves it. SQLite already reads
the prefix as a range of the primary key, so the index is made on PostgreSQL only.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05 18:15:00

"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.create_index(
            "ix_memberships_seller_prefix",
            "memberships",
            ["program", "seller_id"],
            postgresql_ops={"seller_id": "varchar_pattern_ops"},
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_memberships_seller_prefix", table_name="memberships")
