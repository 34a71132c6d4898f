"""Tariffs: named rate decks, their rates and the saved CSV column mapping.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bridge.store.migration_ops import create_table

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_RATE = sa.Numeric(18, 8)


def upgrade() -> None:
    """Create ``mod_voipbridge_tariffs`` and ``mod_voipbridge_tariff_rates`` (what is missing)."""
    create_table(
        "mod_voipbridge_tariffs",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(128), nullable=False, unique=True),
        sa.Column("column_map", sa.Text(), nullable=False),
        sa.Column("source_file", sa.String(255), nullable=False, server_default=""),
        sa.Column("rate_count", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("imported_at", sa.DateTime(), nullable=True),
        mysql_engine="InnoDB",
        mysql_charset="utf8mb4",
    )
    create_table(
        "mod_voipbridge_tariff_rates",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("tariff_id", sa.Integer(), nullable=False),
        sa.Column("prefix", sa.String(32), nullable=False),
        sa.Column("description", sa.String(255), nullable=False),
        sa.Column("rate", _RATE, nullable=False),
        sa.Column("increment", sa.Integer(), nullable=False),
        sa.Column("connection_fee", _RATE, nullable=False, server_default="0"),
        sa.Column("short_description", sa.String(64), nullable=False, server_default=""),
        sa.Column("last_rate_change", sa.Date(), nullable=True),
        sa.Column("old_rate", _RATE, nullable=True),
        sa.Column("rate_premium", _RATE, nullable=True),
        sa.UniqueConstraint("tariff_id", "prefix", name="uq_mod_voipbridge_tariff_rates_prefix"),
        mysql_engine="InnoDB",
        mysql_charset="utf8mb4",
    )


def downgrade() -> None:
    """Drop the tariff tables."""
    op.drop_table("mod_voipbridge_tariff_rates")
    op.drop_table("mod_voipbridge_tariffs")
