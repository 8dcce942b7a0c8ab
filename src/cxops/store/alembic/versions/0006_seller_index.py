"""memberships by seller: every seller page and seller API call reads a seller's memberships in all
programs, which no index led by the seller served (a scan of the primary key: 6 ms at 100 k
memberships, ~60 ms at 1 M)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05 15:05:00

"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_memberships_seller", "memberships", ["seller_id", "marketplace_id"])


def downgrade() -> None:
    op.drop_index("ix_memberships_seller", table_name="memberships")
