"""Writing WHMCS rows the way WHMCS would, for ``bridge demo`` and the test factories.

The bridge itself never creates clients, products or services in a real WHMCS; this module exists
so the demo database and the tests hold realistic rows. Each ``insert_*`` function fills every
``NOT NULL`` column that has no default with WHMCS's own blank (``''``, ``0`` or the zero date), as
read from ``bridge/whmcs/schema/whmcs.sql``, so strict SQL modes accept the rows.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from typing import Any

from sqlalchemy import column, table
from sqlalchemy.engine import Connection

from bridge.errors import InvalidRequest
from bridge.whmcs.catalog import get_module
from bridge.whmcs.schema import SCHEMA_PATH
from bridge.whmcs.tables import ZERO_DATE, ZERO_DATETIME

_COLUMN = re.compile(r"^\s*`(\w+)`\s+(\w+)(.*?),?$")


@cache
def _required_blanks() -> dict[str, dict[str, Any]]:
    """Map each fixture table to the blank value of every NOT NULL column without a default."""
    blanks: dict[str, dict[str, Any]] = {}
    current: dict[str, Any] | None = None
    for line in SCHEMA_PATH.read_text(encoding="utf-8").splitlines():
        created = re.match(r"CREATE TABLE `(\w+)`", line)
        if created:
            current = blanks.setdefault(created.group(1), {})
            continue
        match = _COLUMN.match(line)
        if current is None or match is None:
            continue
        name, kind, rest = match.groups()
        rest = rest.upper()
        if "NOT NULL" not in rest or "DEFAULT" in rest or "AUTO_INCREMENT" in rest:
            continue
        kind = kind.lower()
        if kind == "date":
            current[name] = ZERO_DATE
        elif kind in ("datetime", "timestamp"):
            current[name] = ZERO_DATETIME
        elif kind in ("int", "tinyint", "smallint", "bigint", "decimal"):
            current[name] = 0
        else:
            current[name] = ""
    return blanks


def insert_row(conn: Connection, table_name: str, values: Mapping[str, Any]) -> int:
    """Insert one row into WHMCS table ``table_name`` with blanks for unset required columns."""
    row = {**_required_blanks()[table_name], **values}
    # Untyped columns get no SQLAlchemy conversion, and sqlite3 cannot bind Decimal.
    row = {name: str(value) if isinstance(value, Decimal) else value for name, value in row.items()}
    target = table(table_name, *(column(name) for name in row))
    # A lightweight table() has no primary key, so the driver's lastrowid names the new row.
    return int(conn.execute(target.insert().values(row)).lastrowid)


def insert_currency(
    conn: Connection,
    *,
    code: str = "USD",
    prefix: str = "$",
    suffix: str = " USD",
    number_format: int = 1,
    default: bool = True,
) -> int:
    """Insert a currency and return its id."""
    values = {"code": code, "prefix": prefix, "suffix": suffix, "format": number_format}
    return insert_row(conn, "tblcurrencies", {**values, "rate": 1, "default": int(default)})


def insert_client(
    conn: Connection,
    *,
    currency_id: int,
    firstname: str = "Alex",
    lastname: str = "Client",
    email: str = "alex@example.com",
    companyname: str = "",
    credit: Decimal = Decimal("0.00"),
    status: str = "Active",
    language: str = "",
    created: date = date(2025, 1, 1),
) -> int:
    """Insert a client (names as WHMCS stores them, entities and all) and return its id."""
    return insert_row(
        conn,
        "tblclients",
        {
            "uuid": str(uuid.uuid4()),
            "firstname": firstname,
            "lastname": lastname,
            "companyname": companyname,
            "email": email,
            "country": "CA",
            "currency": currency_id,
            "credit": credit,
            "status": status,
            "language": language,
            "datecreated": created.isoformat(),
        },
    )


def insert_product_group(conn: Connection, name: str = "VoIP Services") -> int:
    """Insert a product group and return its id."""
    return insert_row(conn, "tblproductgroups", {"name": name, "slug": name.lower()})


def insert_product(
    conn: Connection,
    *,
    group_id: int,
    name: str,
    module: str,
    settings: Mapping[str, str] | None = None,
) -> int:
    """Insert a product on ``module`` with module settings given by name; return its id."""
    values: dict[str, Any] = {
        "type": "other",
        "gid": group_id,
        "name": name,
        "paytype": "recurring",
        "servertype": module,
    }
    spec = get_module(module)
    known = {field.name: n for n, field in enumerate(spec.settings, 1)} if spec else {}
    for setting, value in (settings or {}).items():
        if setting not in known:
            raise InvalidRequest(f"Module {module!r} has no setting {setting!r}.")
        values[f"configoption{known[setting]}"] = value
    for n in range(1, 25):
        values.setdefault(f"configoption{n}", "")
    return insert_row(conn, "tblproducts", values)


def insert_server(
    conn: Connection,
    *,
    name: str,
    module: str,
    hostname: str,
    ip_address: str = "127.0.0.1",
    port: int | None = None,
    secure: bool = True,
    username: str = "admin",
    password_encrypted: str = "",
    access_hash: str = "",
) -> int:
    """Insert a server for ``module`` and return its id."""
    return insert_row(
        conn,
        "tblservers",
        {
            "name": name,
            "type": module,
            "hostname": hostname,
            "ipaddress": ip_address,
            "port": port,
            "secure": "on" if secure else "",
            "username": username,
            "password": password_encrypted,
            "accesshash": access_hash,
            "active": 1,
            "disabled": 0,
        },
    )


def insert_service(
    conn: Connection,
    *,
    client_id: int,
    product_id: int,
    server_id: int = 0,
    domain: str = "",
    username: str = "",
    status: str = "Active",
    billing_cycle: str = "Monthly",
    amount: Decimal = Decimal("0.00"),
    registered: date = date(2025, 1, 1),
    next_due: date | None = None,
) -> int:
    """Insert a service (``tblhosting``) and return its id; no next due date means the zero date."""
    due = next_due.isoformat() if next_due else ZERO_DATE
    return insert_row(
        conn,
        "tblhosting",
        {
            "userid": client_id,
            "packageid": product_id,
            "server": server_id,
            "regdate": registered.isoformat(),
            "domain": domain,
            "username": username,
            "paymentmethod": "banktransfer",
            "billingcycle": billing_cycle,
            "amount": amount,
            "firstpaymentamount": amount,
            "nextduedate": due,
            "nextinvoicedate": due,
            "domainstatus": status,
            "overidesuspenduntil": ZERO_DATE,
        },
    )


def insert_custom_field(
    conn: Connection,
    *,
    name: str,
    field_type: str = "client",
    relid: int = 0,
    input_type: str = "text",
    options: str = "",
    admin_only: bool = True,
) -> int:
    """Insert a custom field definition (client, or product with ``relid``) and return its id."""
    return insert_row(
        conn,
        "tblcustomfields",
        {
            "type": field_type,
            "relid": relid,
            "fieldname": name,
            "fieldtype": input_type,
            "fieldoptions": options,
            "adminonly": "on" if admin_only else "",
        },
    )


def insert_custom_field_value(conn: Connection, field_id: int, relid: int, value: str) -> int:
    """Insert a custom field value for client or service ``relid`` and return its id."""
    return insert_row(
        conn, "tblcustomfieldsvalues", {"fieldid": field_id, "relid": relid, "value": value}
    )


def insert_invoice(
    conn: Connection,
    *,
    client_id: int,
    total: Decimal,
    status: str = "Unpaid",
    issued: date = date(2026, 1, 1),
    due: date = date(2026, 1, 15),
) -> int:
    """Insert an invoice with one total and return its id."""
    return insert_row(
        conn,
        "tblinvoices",
        {
            "userid": client_id,
            "date": issued.isoformat(),
            "duedate": due.isoformat(),
            "subtotal": total,
            "total": total,
            "status": status,
            "paymentmethod": "banktransfer",
        },
    )


def insert_transaction(
    conn: Connection,
    *,
    client_id: int,
    invoice_id: int,
    amount_in: Decimal = Decimal("0.00"),
    amount_out: Decimal = Decimal("0.00"),
    at: datetime = datetime(2026, 1, 2, 12, 0),
) -> int:
    """Insert a payment (``amount_in``) or refund (``amount_out``) against an invoice."""
    return insert_row(
        conn,
        "tblaccounts",
        {
            "userid": client_id,
            "currency": 0,
            "gateway": "banktransfer",
            "date": at.strftime("%Y-%m-%d %H:%M:%S"),
            "description": f"Invoice Payment (#{invoice_id})",
            "amountin": amount_in,
            "amountout": amount_out,
            "transid": uuid.uuid4().hex[:12],
            "invoiceid": invoice_id,
        },
    )


def insert_email_template(
    conn: Connection,
    *,
    name: str,
    subject: str,
    message: str,
    template_type: str = "general",
    language: str = "",
    disabled: bool = False,
    plaintext: bool = False,
    from_name: str = "",
    from_email: str = "",
    copy_to: str = "",
) -> int:
    """Insert an email template (a General Messages template by default) and return its id."""
    return insert_row(
        conn,
        "tblemailtemplates",
        {
            "type": template_type,
            "name": name,
            "subject": subject,
            "message": message,
            "disabled": int(disabled),
            "custom": 1,
            "language": language,
            "plaintext": int(plaintext),
            "fromname": from_name,
            "fromemail": from_email,
            "copyto": copy_to,
        },
    )


def insert_setting(conn: Connection, setting: str, value: str) -> int:
    """Insert a WHMCS general setting (``tblconfiguration``) and return its id."""
    return insert_row(conn, "tblconfiguration", {"setting": setting, "value": value})
