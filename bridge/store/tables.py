"""The bridge's own tables (``mod_voipbridge_*``), created and upgraded only by Alembic.

These definitions are what the code queries; ``bridge/store/migrations/versions`` are what builds
them. A test checks that a freshly migrated database matches this metadata.

Identifiers the bridge owns (call ids, tariff and package names, prefixes, nonces, scopes, license
key digests, job names, outbox keys) are :class:`Identifier` columns, compared exactly: MySQL's
and MariaDB's default collations fold case and accents, which made ``CaseTest-A1b2`` and
``casetest-a1b2`` one call and ``tm`` the same tariff as ``TM``. SQLite compares text exactly (its
default ``BINARY`` collation) already.
"""

from __future__ import annotations

from typing import Any

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
from sqlalchemy.dialects import mysql
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

VERSION_TABLE = "mod_voipbridge_alembic_version"


def identifier_collation(dialect: Dialect) -> str:
    """Return the exact (binary, no-pad where the server has one) utf8mb4 collation to use."""
    # utf8mb4_bin still pads: it finds 'TM' equal to 'TM '. MariaDB (10.2+) and MySQL 8.0.17+
    # have binary collations that do not; MySQL 5.7 has only utf8mb4_bin.
    if getattr(dialect, "is_mariadb", False):
        return "utf8mb4_nopad_bin"
    if (dialect.server_version_info or (0,)) >= (8, 0, 17):
        return "utf8mb4_0900_bin"
    return "utf8mb4_bin"


class Identifier(TypeDecorator[str]):
    """A ``VARCHAR(length)`` compared exactly: a binary collation on MySQL/MariaDB."""

    impl = String
    cache_ok = True

    def __init__(self, length: int) -> None:
        super().__init__(length)
        self.length = length

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        """Return the dialect's column type: with a binary collation on MySQL/MariaDB."""
        if dialect.name in ("mysql", "mariadb"):
            collation = identifier_collation(dialect)
            return dialect.type_descriptor(
                mysql.VARCHAR(self.length, charset="utf8mb4", collation=collation)
            )
        return dialect.type_descriptor(String(self.length))


METADATA = MetaData()

nonces = Table(
    "mod_voipbridge_nonces",
    METADATA,
    Column("nonce", Identifier(64), primary_key=True),
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
    Column("name", Identifier(128), nullable=False, unique=True),
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
    Column("prefix", Identifier(32), nullable=False),
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
    Column("name", Identifier(128), nullable=False, unique=True),
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
    Column("prefix", Identifier(32), nullable=False),
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
    Column("uuid", Identifier(64), nullable=False),
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
    Column("caller_name", String(255), nullable=False, server_default=""),
    UniqueConstraint("server_id", "uuid", name="uq_mod_voipbridge_cdrs_server_uuid"),
    Index("ix_mod_voipbridge_cdrs_service_start", "service_id", "start_utc"),
    Index("ix_mod_voipbridge_cdrs_domain_start", "server_id", "domain", "start_utc"),
    mysql_engine="InnoDB",
    mysql_charset="utf8mb4",
)

# Call records that could not be stored (DESIGN: one bad record never blocks collection): kept aside
# with the reason, once per server and id. ``uuid`` is the id as the CDR store would key it (a
# digest when over-long or absent); ``pbx_uuid`` the PBX's own id, whole.
cdr_quarantine = Table(
    "mod_voipbridge_cdr_quarantine",
    METADATA,
    Column("id", _BIG_ID, primary_key=True, autoincrement=True),
    Column("server_id", Integer, nullable=False),
    Column("uuid", Identifier(64), nullable=False),
    Column("pbx_uuid", Text, nullable=False),
    Column("service_id", Integer, nullable=True),
    Column("reason", String(255), nullable=False),
    Column("record", Text, nullable=False),
    Column("quarantined_at", DateTime(), nullable=False),
    UniqueConstraint("server_id", "uuid", name="uq_mod_voipbridge_cdr_quarantine_server_uuid"),
    mysql_engine="InnoDB",
    mysql_charset="utf8mb4",
)

cdr_watermarks = Table(
    "mod_voipbridge_cdr_watermarks",
    METADATA,
    Column("server_id", Integer, primary_key=True),
    Column("scope", Identifier(255), primary_key=True),
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
    Column("key_sha256", Identifier(64), primary_key=True),
    Column("key_hint", String(16), nullable=False),
    Column("token", Text, nullable=False),
    Column("confirmed_at", DateTime(), nullable=False),
    Column("refresh_failed_at", DateTime(), nullable=True),
    Column("updated_at", DateTime(), nullable=False),
    mysql_engine="InnoDB",
    mysql_charset="utf8mb4",
)

MONEY = Numeric(12, 2, asdecimal=True)
COST = Numeric(18, 6, asdecimal=True)

# One row per call a billing job has dealt with (billed, free, or not billable at all), so that no
# job looks at it again: unique on (service, stored call). Costs keep their 6 decimals here.
billed_calls = Table(
    "mod_voipbridge_billed_calls",
    METADATA,
    Column("id", _BIG_ID, primary_key=True, autoincrement=True),
    Column("service_id", Integer, nullable=False),
    Column("cdr_id", BigInteger, nullable=False),
    Column("client_id", Integer, nullable=False),
    Column("period_start", Date(), nullable=False),
    Column("period_end", Date(), nullable=False),
    Column("job", String(16), nullable=False),
    Column("status", String(24), nullable=False),
    Column("calltype", String(16), nullable=False),
    Column("billed_seconds", Integer, nullable=False),
    Column("free_seconds", Integer, nullable=False),
    Column("cost", COST, nullable=False),
    Column("posting_id", BigInteger, nullable=True),
    Column("rated_at", DateTime(), nullable=False),
    UniqueConstraint("service_id", "cdr_id", name="uq_mod_voipbridge_billed_calls_service_cdr"),
    Index("ix_mod_voipbridge_billed_calls_period", "service_id", "period_start"),
    mysql_engine="InnoDB",
    mysql_charset="utf8mb4",
)

# Every amount a job posted to WHMCS (a billable item, or a credit movement), in the client's
# currency: positive charges the client, negative gives back. Rows of one WHMCS credit movement
# share its id (real-time billing posts one ledger row per service per run).
postings = Table(
    "mod_voipbridge_postings",
    METADATA,
    Column("id", _BIG_ID, primary_key=True, autoincrement=True),
    Column("job", String(16), nullable=False),
    Column("service_id", Integer, nullable=False),
    Column("client_id", Integer, nullable=False),
    Column("currency_id", Integer, nullable=False),
    Column("period_start", Date(), nullable=False),
    Column("period_end", Date(), nullable=False),
    Column("amount", MONEY, nullable=False),
    Column("calls", Integer, nullable=False),
    Column("whmcs_table", String(32), nullable=False),
    Column("whmcs_id", Integer, nullable=True),
    Column("adjusts_posting_id", BigInteger, nullable=True),
    Column("description", Text, nullable=False),
    Column("created_at", DateTime(), nullable=False),
    Index("ix_mod_voipbridge_postings_period", "service_id", "period_start"),
    mysql_engine="InnoDB",
    mysql_charset="utf8mb4",
)

# Real-time billing's running totals per service and billing period: the exact cost of the calls
# taken so far and the whole cents already moved, so cents taken = the rounded sum of the costs.
realtime_totals = Table(
    "mod_voipbridge_realtime_totals",
    METADATA,
    Column("service_id", Integer, primary_key=True, autoincrement=False),
    Column("period_start", Date(), primary_key=True),
    Column("cost", COST, nullable=False),
    Column("taken", MONEY, nullable=False),
    Column("updated_at", DateTime(), nullable=False),
    mysql_engine="InnoDB",
    mysql_charset="utf8mb4",
)

# Job locks where the database has no named locks (SQLite, the demo): one row per running job.
job_locks = Table(
    "mod_voipbridge_job_locks",
    METADATA,
    Column("job", Identifier(64), primary_key=True),
    Column("holder", String(128), nullable=False),
    Column("expires_at", DateTime(), nullable=False),
    mysql_engine="InnoDB",
    mysql_charset="utf8mb4",
)

# The merge fields are JSON written with ASCII escapes, longer than TEXT's 64 KiB only for a client
# with huge custom fields.
_LONG_TEXT = Text().with_variant(mysql.MEDIUMTEXT(), "mysql")

# Mail the billing jobs decided to send (DESIGN.md §7), queued in the job's own transaction and
# delivered after it committed. The dedupe key ("low-balance:<client>:<day>") is unique, so one
# alert is queued once whatever reruns; the merge fields are a JSON snapshot taken at the decision.
outbox = Table(
    "mod_voipbridge_outbox",
    METADATA,
    Column("id", _BIG_ID, primary_key=True, autoincrement=True),
    Column("dedupe_key", Identifier(191), nullable=False),
    Column("template_name", String(255), nullable=False),
    Column("client_id", Integer, nullable=False),
    Column("merge_fields", _LONG_TEXT, nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", DateTime(), nullable=False),
    Column("last_error", String(500), nullable=False),
    Column("created_at", DateTime(), nullable=False),
    Column("sent_at", DateTime(), nullable=True),
    UniqueConstraint("dedupe_key", name="uq_mod_voipbridge_outbox_key"),
    Index("ix_mod_voipbridge_outbox_due", "status", "next_attempt_at"),
    mysql_engine="InnoDB",
    mysql_charset="utf8mb4",
)

# Each time autosuspend suspends a client (automatically or by its Manual VoIP Suspend field): the
# "VoIP Zero Balance" mail of an automatic one is keyed by this row, so it goes out once per time.
suspensions = Table(
    "mod_voipbridge_suspensions",
    METADATA,
    Column("id", _BIG_ID, primary_key=True, autoincrement=True),
    Column("client_id", Integer, nullable=False),
    Column("reason", String(16), nullable=False),
    Column("started_at", DateTime(), nullable=False),
    Column("ended_at", DateTime(), nullable=True),
    Index("ix_mod_voipbridge_suspensions_client", "client_id", "ended_at"),
    mysql_engine="InnoDB",
    mysql_charset="utf8mb4",
)
