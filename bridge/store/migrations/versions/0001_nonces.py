"""Nonce store for shim request replay protection (DESIGN.md §3).

Revision ID: 0001
Revises:
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create ``mod_voipbridge_nonces``."""
    op.create_table(
        "mod_voipbridge_nonces",
        sa.Column("nonce", sa.String(64), primary_key=True),
        sa.Column("seen_at", sa.DateTime(), nullable=False),
        mysql_engine="InnoDB",
        mysql_charset="utf8mb4",
    )
    op.create_index("ix_mod_voipbridge_nonces_seen_at", "mod_voipbridge_nonces", ["seen_at"])


def downgrade() -> None:
    """Drop ``mod_voipbridge_nonces``."""
    op.drop_table("mod_voipbridge_nonces")
