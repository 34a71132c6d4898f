"""The mail outbox: alerts queued by the billing jobs, delivered after their transaction commits.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

from bridge.store.migration_ops import create_table
from bridge.store.tables import Identifier

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_TABLE: dict[str, Any] = {"mysql_engine": "InnoDB", "mysql_charset": "utf8mb4"}
# SQLite only auto-increments an INTEGER PRIMARY KEY.
_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_LONG_TEXT = sa.Text().with_variant(mysql.MEDIUMTEXT(), "mysql")


def upgrade() -> None:
    """Create the outbox table (unless an interrupted run already did)."""
    create_table(
        "mod_voipbridge_outbox",
        sa.Column("id", _BIG_ID, primary_key=True, autoincrement=True),
        sa.Column("dedupe_key", Identifier(191), nullable=False),
        sa.Column("template_name", sa.String(255), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("merge_fields", _LONG_TEXT, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(), nullable=False),
        sa.Column("last_error", sa.String(500), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.UniqueConstraint("dedupe_key", name="uq_mod_voipbridge_outbox_key"),
        sa.Index("ix_mod_voipbridge_outbox_due", "status", "next_attempt_at"),
        **_TABLE,
    )


def downgrade() -> None:
    """Drop the outbox table."""
    op.drop_table("mod_voipbridge_outbox")
