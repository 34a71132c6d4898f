"""CDR quarantine: call records that cannot be stored, kept aside with the reason.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

from bridge.store.migration_ops import create_table
from bridge.store.tables import Identifier

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

_TABLE: dict[str, Any] = {"mysql_engine": "InnoDB", "mysql_charset": "utf8mb4"}
_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    """Create the quarantine table (unless an interrupted run already did)."""
    create_table(
        "mod_voipbridge_cdr_quarantine",
        sa.Column("id", _BIG_ID, primary_key=True, autoincrement=True),
        sa.Column("server_id", sa.Integer(), nullable=False),
        sa.Column("uuid", Identifier(64), nullable=False),
        sa.Column("pbx_uuid", sa.Text(), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.String(255), nullable=False),
        sa.Column("record", sa.Text(), nullable=False),
        sa.Column("quarantined_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint(
            "server_id", "uuid", name="uq_mod_voipbridge_cdr_quarantine_server_uuid"
        ),
        **_TABLE,
    )


def downgrade() -> None:
    """Drop the quarantine table."""
    op.drop_table("mod_voipbridge_cdr_quarantine")
