"""Nonce store for shim request replay protection (DESIGN.md §3).

Revision ID: 0001
Revises:
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bridge.store.migration_ops import create_table

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create ``mod_voipbridge_nonces`` (whatever of it is missing)."""
    create_table(
        "mod_voipbridge_nonces",
        sa.Column("nonce", sa.String(64), primary_key=True),
        sa.Column("seen_at", sa.DateTime(), nullable=False),
        sa.Index("ix_mod_voipbridge_nonces_seen_at", "seen_at"),
        mysql_engine="InnoDB",
        mysql_charset="utf8mb4",
    )


def downgrade() -> None:
    """Drop ``mod_voipbridge_nonces``."""
    op.drop_table("mod_voipbridge_nonces")
