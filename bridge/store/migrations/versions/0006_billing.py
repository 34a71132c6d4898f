"""Billing: the ledger of billed calls, postings to WHMCS, real-time totals and job locks.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

from bridge.store.migration_ops import create_table

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_TABLE: dict[str, Any] = {"mysql_engine": "InnoDB", "mysql_charset": "utf8mb4"}
# SQLite only auto-increments an INTEGER PRIMARY KEY.
_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_COST = sa.Numeric(18, 6)
_MONEY = sa.Numeric(12, 2)


def upgrade() -> None:
    """Create the billing tables (whatever of them is missing)."""
    create_table(
        "mod_voipbridge_billed_calls",
        sa.Column("id", _BIG_ID, primary_key=True, autoincrement=True),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("cdr_id", sa.BigInteger(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("job", sa.String(16), nullable=False),
        sa.Column("status", sa.String(24), nullable=False),
        sa.Column("calltype", sa.String(16), nullable=False),
        sa.Column("billed_seconds", sa.Integer(), nullable=False),
        sa.Column("free_seconds", sa.Integer(), nullable=False),
        sa.Column("cost", _COST, nullable=False),
        sa.Column("posting_id", sa.BigInteger(), nullable=True),
        sa.Column("rated_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint(
            "service_id", "cdr_id", name="uq_mod_voipbridge_billed_calls_service_cdr"
        ),
        sa.Index("ix_mod_voipbridge_billed_calls_period", "service_id", "period_start"),
        **_TABLE,
    )
    create_table(
        "mod_voipbridge_postings",
        sa.Column("id", _BIG_ID, primary_key=True, autoincrement=True),
        sa.Column("job", sa.String(16), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("currency_id", sa.Integer(), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("amount", _MONEY, nullable=False),
        sa.Column("calls", sa.Integer(), nullable=False),
        sa.Column("whmcs_table", sa.String(32), nullable=False),
        sa.Column("whmcs_id", sa.Integer(), nullable=True),
        sa.Column("adjusts_posting_id", sa.BigInteger(), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Index("ix_mod_voipbridge_postings_period", "service_id", "period_start"),
        **_TABLE,
    )
    create_table(
        "mod_voipbridge_realtime_totals",
        sa.Column("service_id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("period_start", sa.Date(), primary_key=True),
        sa.Column("cost", _COST, nullable=False),
        sa.Column("taken", _MONEY, nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        **_TABLE,
    )
    create_table(
        "mod_voipbridge_job_locks",
        sa.Column("job", sa.String(64), primary_key=True),
        sa.Column("holder", sa.String(128), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        **_TABLE,
    )


def downgrade() -> None:
    """Drop the billing tables."""
    for table in (
        "mod_voipbridge_job_locks",
        "mod_voipbridge_realtime_totals",
        "mod_voipbridge_postings",
        "mod_voipbridge_billed_calls",
    ):
        op.drop_table(table)
