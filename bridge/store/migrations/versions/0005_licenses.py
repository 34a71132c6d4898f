"""License tokens cached by key digest (license Activate/Verify, DESIGN.md §8).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

from bridge.store.migration_ops import create_table

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_TABLE: dict[str, Any] = {"mysql_engine": "InnoDB", "mysql_charset": "utf8mb4"}


def upgrade() -> None:
    """Create the license token table (unless it exists)."""
    create_table(
        "mod_voipbridge_licenses",
        sa.Column("key_sha256", sa.String(64), primary_key=True),
        sa.Column("key_hint", sa.String(16), nullable=False),
        sa.Column("token", sa.Text(), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(), nullable=False),
        sa.Column("refresh_failed_at", sa.DateTime(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        **_TABLE,
    )


def downgrade() -> None:
    """Drop the license token table."""
    op.drop_table("mod_voipbridge_licenses")
