"""The bridge's own tables (``mod_voipbridge_*``), created and upgraded only by Alembic.

These definitions are what the code queries; ``bridge/store/migrations/versions`` are what builds
them. A test checks that a freshly migrated database matches this metadata.
"""

from __future__ import annotations

from sqlalchemy import Column, DateTime, Index, MetaData, String, Table

VERSION_TABLE = "mod_voipbridge_alembic_version"

METADATA = MetaData()

nonces = Table(
    "mod_voipbridge_nonces",
    METADATA,
    Column("nonce", String(64), primary_key=True),
    Column("seen_at", DateTime(), nullable=False),
    Index("ix_mod_voipbridge_nonces_seen_at", "seen_at"),
    mysql_engine="InnoDB",
    mysql_charset="utf8mb4",
)
