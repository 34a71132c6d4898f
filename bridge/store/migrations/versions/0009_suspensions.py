"""Automatic suspensions: one row per time autosuspend suspended a client, for its one email.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

from bridge.store.migration_ops import create_table

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_TABLE: dict[str, Any] = {"mysql_engine": "InnoDB", "mysql_charset": "utf8mb4"}
_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    """Create the suspensions table (unless an interrupted run already did)."""
    create_table(
        "mod_voipbridge_suspensions",
        sa.Column("id", _BIG_ID, primary_key=True, autoincrement=True),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(16), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("ended_at", sa.DateTime(), nullable=True),
        sa.Index("ix_mod_voipbridge_suspensions_client", "client_id", "ended_at"),
        **_TABLE,
    )


def downgrade() -> None:
    """Drop the suspensions table."""
    op.drop_table("mod_voipbridge_suspensions")
