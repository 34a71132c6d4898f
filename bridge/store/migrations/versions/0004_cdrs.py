"""CDR store, collection watermarks and per-server PBX settings (secrets encrypted).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

from bridge.store.migration_ops import create_table

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_TABLE: dict[str, Any] = {"mysql_engine": "InnoDB", "mysql_charset": "utf8mb4"}
# SQLite only auto-increments an INTEGER PRIMARY KEY.
_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    """Create the CDR, watermark and server settings tables (whatever is missing)."""
    create_table(
        "mod_voipbridge_cdrs",
        sa.Column("id", _BIG_ID, primary_key=True, autoincrement=True),
        sa.Column("server_id", sa.Integer(), nullable=False),
        sa.Column("uuid", sa.String(64), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=True),
        sa.Column("domain", sa.String(255), nullable=False, server_default=""),
        sa.Column("direction", sa.String(8), nullable=False),
        sa.Column("caller_number", sa.String(64), nullable=False, server_default=""),
        sa.Column("caller_destination", sa.String(64), nullable=False, server_default=""),
        sa.Column("destination_number", sa.String(64), nullable=False, server_default=""),
        sa.Column("start_utc", sa.DateTime(), nullable=False),
        sa.Column("billsec", sa.Integer(), nullable=False),
        sa.Column("leg", sa.String(1), nullable=False, server_default="a"),
        sa.Column("hangup_cause", sa.String(64), nullable=False, server_default=""),
        sa.Column("collected_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("server_id", "uuid", name="uq_mod_voipbridge_cdrs_server_uuid"),
        sa.Index("ix_mod_voipbridge_cdrs_service_start", "service_id", "start_utc"),
        sa.Index("ix_mod_voipbridge_cdrs_domain_start", "server_id", "domain", "start_utc"),
        **_TABLE,
    )
    create_table(
        "mod_voipbridge_cdr_watermarks",
        sa.Column("server_id", sa.Integer(), primary_key=True),
        sa.Column("scope", sa.String(255), primary_key=True),
        sa.Column("collected_to", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        **_TABLE,
    )
    create_table(
        "mod_voipbridge_servers",
        sa.Column("server_id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("timezone", sa.String(64), nullable=False, server_default="UTC"),
        sa.Column("cdr_source", sa.String(16), nullable=False, server_default=""),
        sa.Column("secrets", sa.Text(), nullable=False),
        sa.Column("push_token_hash", sa.String(64), nullable=False, server_default=""),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        **_TABLE,
    )


def downgrade() -> None:
    """Drop the CDR, watermark and server settings tables."""
    op.drop_table("mod_voipbridge_servers")
    op.drop_table("mod_voipbridge_cdr_watermarks")
    op.drop_table("mod_voipbridge_cdrs")
