"""Caller names: the caller id name each PBX reports, kept beside the call for the client area.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bridge.store.migration_ops import add_column

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add ``caller_name`` to the CDR store (calls stored before it keep an empty name)."""
    add_column(
        "mod_voipbridge_cdrs",
        sa.Column("caller_name", sa.String(255), nullable=False, server_default=""),
    )


def downgrade() -> None:
    """Drop the caller names."""
    op.drop_column("mod_voipbridge_cdrs", "caller_name")
