"""SQLAlchemy Core tables for the WHMCS columns the bridge uses, and nothing more.

WHMCS owns these tables: the bridge never creates or alters them (``METADATA.create_all`` is never
called). ``bridge doctor`` compares exactly these columns with the live database, so a column is
declared here only when some query reads or writes it.

Two WHMCS habits are handled by column types instead of at every call site:

* zero dates (``0000-00-00``) come back from PyMySQL as strings; :class:`WhmcsDate` and
  :class:`WhmcsDateTime` turn them into ``None`` and write ``None`` back as the zero date where the
  column is ``NOT NULL``;
* money is ``DECIMAL(16,2)``; :data:`MONEY` returns :class:`decimal.Decimal`.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Column, Integer, MetaData, Numeric, String, Table, Text
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

from bridge.db import inserted_id

__all__ = ["inserted_id"]  # re-exported: the WHMCS write modules use it

ZERO_DATE = "0000-00-00"
ZERO_DATETIME = "0000-00-00 00:00:00"

METADATA = MetaData()
MONEY = Numeric(16, 2, asdecimal=True)


class WhmcsDate(TypeDecorator[date]):
    """A WHMCS ``DATE`` column: zero dates read as ``None``; ``None`` writes the zero date."""

    impl = String(10)
    cache_ok = True

    def process_bind_param(self, value: date | None, dialect: Dialect) -> str:
        """Write a date as ``YYYY-MM-DD`` and ``None`` as WHMCS's zero date."""
        return ZERO_DATE if value is None else value.isoformat()

    def process_result_value(self, value: Any, dialect: Dialect) -> date | None:
        """Read a date, mapping WHMCS's zero date (and SQL NULL) to ``None``."""
        if value is None or isinstance(value, date):
            return value
        text = str(value)
        return None if text.startswith(ZERO_DATE) else date.fromisoformat(text[:10])


class WhmcsDateTime(TypeDecorator[datetime]):
    """A WHMCS ``DATETIME``: naive local wall-clock time; zero datetimes read as ``None``."""

    impl = String(19)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> str:
        """Write a naive datetime as ``YYYY-MM-DD HH:MM:SS`` and ``None`` as the zero datetime."""
        if value is None:
            return ZERO_DATETIME
        if value.tzinfo is not None:
            raise ValueError("WHMCS stores naive local times; convert with clock.to_whmcs_time")
        return value.strftime("%Y-%m-%d %H:%M:%S")

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        """Read a datetime, mapping WHMCS's zero datetime (and SQL NULL) to ``None``."""
        if value is None or isinstance(value, datetime):
            return value
        text = str(value)
        return None if text.startswith(ZERO_DATE) else datetime.fromisoformat(text[:19])


def _configoptions() -> list[Column[Any]]:
    return [Column(f"configoption{n}", Text) for n in range(1, 25)]


clients = Table(
    "tblclients",
    METADATA,
    Column("id", Integer, primary_key=True),
    Column("firstname", Text),
    Column("lastname", Text),
    Column("companyname", Text),
    Column("email", Text),
    Column("currency", Integer),
    Column("credit", MONEY),
    Column("status", String(16)),
    Column("language", Text),
    Column("datecreated", WhmcsDate),
)

currencies = Table(
    "tblcurrencies",
    METADATA,
    Column("id", Integer, primary_key=True),
    Column("code", Text),
    Column("prefix", Text),
    Column("suffix", Text),
    Column("format", Integer),
    Column("rate", Numeric(10, 5, asdecimal=True)),
    Column("default", Integer),
)

product_groups = Table(
    "tblproductgroups",
    METADATA,
    Column("id", Integer, primary_key=True),
    Column("name", Text),
)

products = Table(
    "tblproducts",
    METADATA,
    Column("id", Integer, primary_key=True),
    Column("type", Text),
    Column("gid", Integer),
    Column("name", Text),
    Column("paytype", Text),
    Column("servertype", Text),
    Column("servergroup", Integer),
    *_configoptions(),
)

bundles = Table(
    "tblbundles",
    METADATA,
    Column("id", Integer, primary_key=True),
    Column("name", Text),
    Column("gid", Integer),
    Column("itemdata", Text),
)

servers = Table(
    "tblservers",
    METADATA,
    Column("id", Integer, primary_key=True),
    Column("name", Text),
    Column("type", Text),
    Column("hostname", Text),
    Column("ipaddress", Text),
    Column("port", Integer),
    Column("secure", Text),
    Column("username", Text),
    Column("password", Text),
    Column("accesshash", Text),
    Column("active", Integer),
    Column("disabled", Integer),
)

hosting = Table(
    "tblhosting",
    METADATA,
    Column("id", Integer, primary_key=True),
    Column("userid", Integer),
    Column("packageid", Integer),
    Column("server", Integer),
    Column("regdate", WhmcsDate),
    Column("domain", Text),
    Column("username", Text),
    Column("billingcycle", Text),
    Column("amount", MONEY),
    Column("nextduedate", WhmcsDate),
    Column("nextinvoicedate", WhmcsDate),
    Column("termination_date", WhmcsDate),
    Column("domainstatus", String(16)),
    Column("suspendreason", Text),
    Column("overideautosuspend", Integer),
    Column("overidesuspenduntil", WhmcsDate),
)

custom_fields = Table(
    "tblcustomfields",
    METADATA,
    Column("id", Integer, primary_key=True),
    Column("type", Text),
    Column("relid", Integer),
    Column("fieldname", Text),
    Column("fieldtype", Text),
    Column("fieldoptions", Text),
    Column("adminonly", Text),
    Column("sortorder", Integer),
)

custom_field_values = Table(
    "tblcustomfieldsvalues",
    METADATA,
    Column("id", Integer, primary_key=True),
    Column("fieldid", Integer),
    Column("relid", Integer),
    Column("value", Text),
    Column("created_at", WhmcsDateTime),
    Column("updated_at", WhmcsDateTime),
)

email_templates = Table(
    "tblemailtemplates",
    METADATA,
    Column("id", Integer, primary_key=True),
    Column("type", Text),
    Column("name", Text),
    Column("subject", Text),
    Column("message", Text),
    Column("fromname", Text),
    Column("fromemail", Text),
    Column("disabled", Integer),
    Column("language", Text),
    Column("copyto", Text),
    Column("blind_copy_to", Text),
    Column("plaintext", Integer),
)

emails = Table(
    "tblemails",
    METADATA,
    Column("id", Integer, primary_key=True),
    Column("userid", Integer),
    Column("subject", Text),
    Column("message", Text),
    Column("date", WhmcsDateTime),
    Column("to", Text),
    Column("cc", Text),
    Column("bcc", Text),
    Column("pending", Integer),
    Column("failed", Integer),
    Column("failure_reason", String(250)),
)

invoices = Table(
    "tblinvoices",
    METADATA,
    Column("id", Integer, primary_key=True),
    Column("userid", Integer),
    Column("date", WhmcsDate),
    Column("duedate", WhmcsDate),
    Column("total", MONEY),
    Column("status", Text),
)

invoice_items = Table(
    "tblinvoiceitems",
    METADATA,
    Column("id", Integer, primary_key=True),
    Column("invoiceid", Integer),
    Column("userid", Integer),
    Column("type", String(30)),
    Column("relid", Integer),
    Column("description", Text),
    Column("amount", MONEY),
)

billable_items = Table(
    "tblbillableitems",
    METADATA,
    Column("id", Integer, primary_key=True),
    Column("userid", Integer),
    Column("description", Text),
    Column("hours", Numeric(5, 2, asdecimal=True)),
    Column("amount", MONEY),
    Column("recur", Integer),
    Column("recurcycle", Text),
    Column("recurfor", Integer),
    Column("invoiceaction", Integer),
    Column("unit", Integer),
    Column("duedate", WhmcsDate),
    Column("invoicecount", Integer),
)

credit = Table(
    "tblcredit",
    METADATA,
    Column("id", Integer, primary_key=True),
    Column("clientid", Integer),
    Column("admin_id", Integer),
    Column("date", WhmcsDate),
    Column("description", Text),
    Column("amount", MONEY),
    Column("relid", Integer),
)

accounts = Table(
    "tblaccounts",
    METADATA,
    Column("id", Integer, primary_key=True),
    Column("userid", Integer),
    Column("invoiceid", Integer),
    Column("amountin", MONEY),
    Column("amountout", MONEY),
)

configuration = Table(
    "tblconfiguration",
    METADATA,
    Column("setting", String(64), primary_key=True),
    Column("value", Text),
)

activity_log = Table(
    "tblactivitylog",
    METADATA,
    Column("id", Integer, primary_key=True),
    Column("date", WhmcsDateTime),
    Column("description", Text),
    Column("user", Text),
    Column("userid", Integer),
    Column("user_id", Integer),
    Column("admin_id", Integer),
    Column("ipaddr", Text),
)

module_log = Table(
    "tblmodulelog",
    METADATA,
    Column("id", Integer, primary_key=True),
    Column("date", WhmcsDateTime),
    Column("module", Text),
    Column("action", Text),
    Column("request", Text),
    Column("response", Text),
    Column("arrdata", Text),
)


# The WHMCS tables the bridge changes, and how; every other table in METADATA is only read.
# `bridge grants` turns this into the GRANT statements for the bridge's database user.
WRITES: dict[str, tuple[str, ...]] = {
    clients.name: ("UPDATE",),
    hosting.name: ("UPDATE",),
    custom_field_values.name: ("INSERT", "UPDATE"),
    credit.name: ("INSERT",),
    billable_items.name: ("INSERT",),
    activity_log.name: ("INSERT",),
    module_log.name: ("INSERT",),
    emails.name: ("INSERT", "UPDATE"),
}

# The WHMCS text columns the bridge writes: each is fitted to its real character set
# (bridge/whmcs/charsets.py), and `bridge doctor` reports which sets they are in.
WRITTEN_TEXT = (
    credit.c.description,
    billable_items.c.description,
    custom_field_values.c.value,
    hosting.c.suspendreason,
    activity_log.c.description,
    module_log.c.request,
    module_log.c.response,
    module_log.c.arrdata,
    emails.c.subject,
    emails.c.message,
)
