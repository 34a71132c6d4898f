"""Packages (rating settings and custom rates) and per-product Special Number Billing rules.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

from bridge.store.migration_ops import create_table

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_RATE = sa.Numeric(18, 8)
_TABLE: dict[str, Any] = {"mysql_engine": "InnoDB", "mysql_charset": "utf8mb4"}


def upgrade() -> None:
    """Create the package, custom rate and special rule tables (whatever is missing)."""
    create_table(
        "mod_voipbridge_packages",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(128), nullable=False, unique=True),
        sa.Column("tariff_id", sa.Integer(), nullable=True),
        sa.Column("inbound_tariff_id", sa.Integer(), nullable=True),
        sa.Column("country_code", sa.String(3), nullable=False),
        sa.Column("exit_code", sa.String(4), nullable=True),
        sa.Column("local_prefix", sa.Boolean(), nullable=False),
        sa.Column("national_prefix", sa.String(2), nullable=False, server_default="0"),
        sa.Column("nanp_10_digit", sa.Boolean(), nullable=False),
        sa.Column("markup_percent", sa.Numeric(9, 4), nullable=False),
        sa.Column("free_minutes", sa.Integer(), nullable=False),
        sa.Column("bill_inbound", sa.Boolean(), nullable=False),
        sa.Column("inbound_rate", _RATE, nullable=True),
        sa.Column("outbound_increment", sa.String(16), nullable=True),
        sa.Column("inbound_increment", sa.String(16), nullable=True),
        sa.Column("realtime_billing", sa.Boolean(), nullable=False),
        sa.Column("suppress", sa.Text(), nullable=False),
        sa.Column("exclude", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        **_TABLE,
    )
    create_table(
        "mod_voipbridge_package_rates",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("package_id", sa.Integer(), nullable=False),
        sa.Column("prefix", sa.String(32), nullable=False),
        sa.Column("rate", _RATE, nullable=False),
        sa.Column("description", sa.String(255), nullable=False, server_default=""),
        sa.UniqueConstraint("package_id", "prefix", name="uq_mod_voipbridge_package_rates_prefix"),
        **_TABLE,
    )
    create_table(
        "mod_voipbridge_special_rules",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("pattern", sa.String(200), nullable=False),
        sa.Column("pattern_type", sa.String(8), nullable=False),
        sa.Column("direction", sa.String(8), nullable=False),
        sa.Column("mode", sa.String(16), nullable=False),
        sa.Column("flat", _RATE, nullable=False),
        sa.Column("per_minute", _RATE, nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Index("ix_mod_voipbridge_special_rules_product_id", "product_id"),
        **_TABLE,
    )


def downgrade() -> None:
    """Drop the package, custom rate and special rule tables."""
    op.drop_table("mod_voipbridge_special_rules")
    op.drop_table("mod_voipbridge_package_rates")
    op.drop_table("mod_voipbridge_packages")
