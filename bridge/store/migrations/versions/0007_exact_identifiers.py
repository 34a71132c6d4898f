"""Identifiers compared exactly: binary collation for call ids, names, prefixes, nonces, keys.

MySQL's and MariaDB's default utf8mb4 collations fold case, accents and trailing spaces, so two
distinct PBX call ids could be taken for one call and tariff ``tm`` could replace ``TM``'s rates.
SQLite already compares text exactly; there this migration changes nothing.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05
"""

from __future__ import annotations

from bridge.store.migration_ops import make_exact

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

# (table, column, length): every identifier in a key or a lookup (see tables.Identifier).
IDENTIFIERS = (
    ("mod_voipbridge_nonces", "nonce", 64),
    ("mod_voipbridge_tariffs", "name", 128),
    ("mod_voipbridge_tariff_rates", "prefix", 32),
    ("mod_voipbridge_packages", "name", 128),
    ("mod_voipbridge_package_rates", "prefix", 32),
    ("mod_voipbridge_cdrs", "uuid", 64),
    ("mod_voipbridge_cdr_watermarks", "scope", 255),
    ("mod_voipbridge_licenses", "key_sha256", 64),
    ("mod_voipbridge_job_locks", "job", 64),
)


def upgrade() -> None:
    """Give each identifier column the exact collation (those that lack it)."""
    for table, column, length in IDENTIFIERS:
        make_exact(table, column, length)


def downgrade() -> None:
    """Leave the exact collations: folding ones would refuse ids that differ only in case."""
