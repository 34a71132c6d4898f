"""The bridge's own tables (``mod_voipbridge_*``), created and upgraded only by Alembic.

These definitions are what the code queries; ``bridge/store/migrations/versions`` are what builds
them. A test checks that a freshly migrated database matches this metadata.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
)

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

RATE = Numeric(18, 8, asdecimal=True)

tariffs = Table(
    "mod_voipbridge_tariffs",
    METADATA,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(128), nullable=False, unique=True),
    Column("column_map", Text, nullable=False),
    Column("source_file", String(255), nullable=False, server_default=""),
    Column("rate_count", Integer, nullable=False, server_default="0"),
    Column("imported_at", DateTime(), nullable=True),
    mysql_engine="InnoDB",
    mysql_charset="utf8mb4",
)

tariff_rates = Table(
    "mod_voipbridge_tariff_rates",
    METADATA,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("tariff_id", Integer, nullable=False),
    Column("prefix", String(32), nullable=False),
    Column("description", String(255), nullable=False),
    Column("rate", RATE, nullable=False),
    Column("increment", Integer, nullable=False),
    Column("connection_fee", RATE, nullable=False, server_default="0"),
    Column("short_description", String(64), nullable=False, server_default=""),
    Column("last_rate_change", Date(), nullable=True),
    Column("old_rate", RATE, nullable=True),
    Column("rate_premium", RATE, nullable=True),
    UniqueConstraint("tariff_id", "prefix", name="uq_mod_voipbridge_tariff_rates_prefix"),
    mysql_engine="InnoDB",
    mysql_charset="utf8mb4",
)

packages = Table(
    "mod_voipbridge_packages",
    METADATA,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(128), nullable=False, unique=True),
    Column("tariff_id", Integer, nullable=True),
    Column("inbound_tariff_id", Integer, nullable=True),
    Column("country_code", String(3), nullable=False),
    Column("exit_code", String(4), nullable=True),
    Column("local_prefix", Boolean, nullable=False),
    Column("national_prefix", String(2), nullable=False, server_default="0"),
    Column("nanp_10_digit", Boolean, nullable=False),
    Column("markup_percent", Numeric(9, 4, asdecimal=True), nullable=False),
    Column("free_minutes", Integer, nullable=False),
    Column("bill_inbound", Boolean, nullable=False),
    Column("inbound_rate", RATE, nullable=True),
    Column("outbound_increment", String(16), nullable=True),
    Column("inbound_increment", String(16), nullable=True),
    Column("realtime_billing", Boolean, nullable=False),
    Column("suppress", Text, nullable=False),
    Column("exclude", Text, nullable=False),
    Column("updated_at", DateTime(), nullable=False),
    mysql_engine="InnoDB",
    mysql_charset="utf8mb4",
)

package_rates = Table(
    "mod_voipbridge_package_rates",
    METADATA,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("package_id", Integer, nullable=False),
    Column("prefix", String(32), nullable=False),
    Column("rate", RATE, nullable=False),
    Column("description", String(255), nullable=False, server_default=""),
    UniqueConstraint("package_id", "prefix", name="uq_mod_voipbridge_package_rates_prefix"),
    mysql_engine="InnoDB",
    mysql_charset="utf8mb4",
)

special_rules = Table(
    "mod_voipbridge_special_rules",
    METADATA,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("product_id", Integer, nullable=False, index=True),
    Column("name", String(128), nullable=False),
    Column("pattern", String(200), nullable=False),
    Column("pattern_type", String(8), nullable=False),
    Column("direction", String(8), nullable=False),
    Column("mode", String(16), nullable=False),
    Column("flat", RATE, nullable=False),
    Column("per_minute", RATE, nullable=False),
    Column("priority", Integer, nullable=False),
    Column("enabled", Boolean, nullable=False),
    mysql_engine="InnoDB",
    mysql_charset="utf8mb4",
)

_BIG_ID = BigInteger().with_variant(Integer(), "sqlite")

cdrs = Table(
    "mod_voipbridge_cdrs",
    METADATA,
    Column("id", _BIG_ID, primary_key=True, autoincrement=True),
    Column("server_id", Integer, nullable=False),
    Column("uuid", String(64), nullable=False),
    Column("service_id", Integer, nullable=True),
    Column("domain", String(255), nullable=False, server_default=""),
    Column("direction", String(8), nullable=False),
    Column("caller_number", String(64), nullable=False, server_default=""),
    Column("caller_destination", String(64), nullable=False, server_default=""),
    Column("destination_number", String(64), nullable=False, server_default=""),
    Column("start_utc", DateTime(), nullable=False),
    Column("billsec", Integer, nullable=False),
    Column("leg", String(1), nullable=False, server_default="a"),
    Column("hangup_cause", String(64), nullable=False, server_default=""),
    Column("collected_at", DateTime(), nullable=False),
    UniqueConstraint("server_id", "uuid", name="uq_mod_voipbridge_cdrs_server_uuid"),
    Index("ix_mod_voipbridge_cdrs_service_start", "service_id", "start_utc"),
    Index("ix_mod_voipbridge_cdrs_domain_start", "server_id", "domain", "start_utc"),
    mysql_engine="InnoDB",
    mysql_charset="utf8mb4",
)

cdr_watermarks = Table(
    "mod_voipbridge_cdr_watermarks",
    METADATA,
    Column("server_id", Integer, primary_key=True),
    Column("scope", String(255), primary_key=True),
    Column("collected_to", DateTime(), nullable=False),
    Column("updated_at", DateTime(), nullable=False),
    mysql_engine="InnoDB",
    mysql_charset="utf8mb4",
)

servers = Table(
    "mod_voipbridge_servers",
    METADATA,
    Column("server_id", Integer, primary_key=True, autoincrement=False),
    Column("timezone", String(64), nullable=False, server_default="UTC"),
    Column("cdr_source", String(16), nullable=False, server_default=""),
    Column("secrets", Text, nullable=False),
    Column("push_token_hash", String(64), nullable=False, server_default=""),
    Column("updated_at", DateTime(), nullable=False),
    mysql_engine="InnoDB",
    mysql_charset="utf8mb4",
)

licenses = Table(
    "mod_voipbridge_licenses",
    METADATA,
    # The key itself is never stored: its SHA-256 names the row, its last characters show it.
    Column("key_sha256", String(64), primary_key=True),
    Column("key_hint", String(16), nullable=False),
    Column("token", Text, nullable=False),
    Column("confirmed_at", DateTime(), nullable=False),
    Column("refresh_failed_at", DateTime(), nullable=True),
    Column("updated_at", DateTime(), nullable=False),
    mysql_engine="InnoDB",
    mysql_charset="utf8mb4",
)
