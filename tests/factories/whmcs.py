"""Typed builders for WHMCS rows, one call per concept, with sensible defaults.

They wrap :mod:`bridge.whmcs.seeding` (which the demo uses too) and return the new row's id.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy.engine import Connection

from bridge.whmcs import seeding

VOIP_CLIENT_FIELDS = (
    ("Has VoIP Service", "dropdown", "Yes,No"),
    ("Manual VoIP Suspend", "dropdown", "No,Yes"),
    ("VoIP Suspended", "dropdown", "None,Yes,No"),
    ("Low Balance Threshold", "text", ""),
)


def make_currency(
    conn: Connection,
    *,
    code: str = "USD",
    prefix: str = "$",
    suffix: str = " USD",
    number_format: int = 1,
    default: bool = True,
) -> int:
    """Create a currency."""
    return seeding.insert_currency(
        conn, code=code, prefix=prefix, suffix=suffix, number_format=number_format, default=default
    )


def make_client(
    conn: Connection,
    *,
    credit: Decimal = Decimal("0.00"),
    currency_id: int | None = None,
    firstname: str = "Alex",
    lastname: str = "Client",
    companyname: str = "",
    email: str = "alex@example.com",
    language: str = "",
) -> int:
    """Create a client (and a USD currency unless one is given)."""
    return seeding.insert_client(
        conn,
        currency_id=currency_id if currency_id is not None else make_currency(conn),
        firstname=firstname,
        lastname=lastname,
        companyname=companyname,
        email=email,
        credit=credit,
        language=language,
    )


def make_product(
    conn: Connection,
    *,
    module: str = "fusionpbx",
    name: str = "Hosted PBX",
    group: str = "VoIP Services",
    settings: dict[str, str] | None = None,
) -> int:
    """Create a product (in a new group) on ``module``."""
    group_id = seeding.insert_product_group(conn, group)
    return seeding.insert_product(
        conn, group_id=group_id, name=name, module=module, settings=settings
    )


def make_server(
    conn: Connection, *, module: str = "fusionpbx", hostname: str = "pbx1.example.net"
) -> int:
    """Create a server for ``module``."""
    return seeding.insert_server(
        conn, name=f"{module} server", module=module, hostname=hostname, port=443
    )


def make_service(
    conn: Connection,
    client_id: int,
    *,
    product_id: int | None = None,
    server_id: int | None = None,
    module: str = "fusionpbx",
    domain: str = "tenant.example.net | 5195550100",
    username: str = "2112 | 2113",
    status: str = "Active",
    next_due: date | None = date(2026, 12, 1),
) -> int:
    """Create a service for the client (with a product and server on ``module`` unless given)."""
    return seeding.insert_service(
        conn,
        client_id=client_id,
        product_id=product_id if product_id is not None else make_product(conn, module=module),
        server_id=server_id if server_id is not None else make_server(conn, module=module),
        domain=domain,
        username=username,
        status=status,
        next_due=next_due,
    )


def make_client_field(
    conn: Connection, name: str, *, input_type: str = "text", options: str = ""
) -> int:
    """Create a client custom field."""
    return seeding.insert_custom_field(conn, name=name, input_type=input_type, options=options)


def make_voip_client_fields(conn: Connection) -> dict[str, int]:
    """Create the four client custom fields the VoIP jobs read; return their ids by name."""
    return {
        name: make_client_field(conn, name, input_type=input_type, options=options)
        for name, input_type, options in VOIP_CLIENT_FIELDS
    }


def make_field_value(conn: Connection, field_id: int, relid: int, value: str) -> int:
    """Store a custom field value for a client or service."""
    return seeding.insert_custom_field_value(conn, field_id, relid, value)


def make_invoice(
    conn: Connection, client_id: int, total: Decimal, *, status: str = "Unpaid"
) -> int:
    """Create an invoice."""
    return seeding.insert_invoice(conn, client_id=client_id, total=total, status=status)


def make_payment(
    conn: Connection,
    client_id: int,
    invoice_id: int,
    *,
    amount_in: Decimal = Decimal("0.00"),
    amount_out: Decimal = Decimal("0.00"),
) -> int:
    """Record a payment (or, with ``amount_out``, a refund) against an invoice."""
    return seeding.insert_transaction(
        conn, client_id=client_id, invoice_id=invoice_id, amount_in=amount_in, amount_out=amount_out
    )


def make_email_template(
    conn: Connection,
    name: str,
    *,
    subject: str = "Alert for {$client_first_name}",
    message: str = "<p>Dear {$client_name}, your credit is {$client_credit}.</p>",
    language: str = "",
    disabled: bool = False,
    plaintext: bool = False,
    template_type: str = "general",
    from_email: str = "",
    from_name: str = "",
    copy_to: str = "",
) -> int:
    """Create an email template (General Messages, default language, HTML, enabled)."""
    return seeding.insert_email_template(
        conn,
        name=name,
        subject=subject,
        message=message,
        template_type=template_type,
        language=language,
        disabled=disabled,
        plaintext=plaintext,
        from_email=from_email,
        from_name=from_name,
        copy_to=copy_to,
    )
