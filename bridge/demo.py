"""``bridge demo``: a WHMCS in a SQLite file, filled with a realistic VoIP customer base.

The demo database holds the WHMCS tables from ``bridge/whmcs/schema/whmcs.sql`` (translated for
SQLite), the bridge's own migrated tables, and the data below: clients with credit and unpaid
invoices, FusionPBX, Vodia and LesNet products and services in the documented assignment formats
(DESIGN.md §4), the client custom fields the billing jobs read, and the two alert templates.

To grow the demo, add a ``_seed_*`` step to :data:`SEED_STEPS`; each receives the connection and
the ids created so far. :mod:`bridge.demo_rating` adds the tariff, packages and special rules the
demo products use, and previews what their calls would be billed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from rich.markup import escape
from rich.table import Table
from sqlalchemy import create_engine, inspect
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import DBAPIError

from bridge.db import sqlite_url
from bridge.demo_rating import seed_calls, seed_rating
from bridge.errors import ConfigError
from bridge.store.migrate import upgrade_database
from bridge.whmcs import seeding
from bridge.whmcs.clients import get_client, get_due_balance, list_client_ids
from bridge.whmcs.configuration import get_setting
from bridge.whmcs.customfields import get_client_fields
from bridge.whmcs.schema import create_whmcs_schema
from bridge.whmcs.services import list_voip_services

DEMO_MARKER = "VoipBridgeDemo"
# The demo services' next due date is this many days after the day the demo is built.
DUE_IN_DAYS = 9

LOW_BALANCE_ALERT = """Dear {$client_first_name},

This is a friendly reminder that your account is low in funding. Please log into the Client Area \
and add funds to your account.

All VoIP service accounts must carry a positive balance in order to maintain service.

Your current balance for your service(s)
Account# {$client_id} is: {$client_credit}
Your current low balance notification is set at ${$client_custom_field_lowbalancethreshold}.00

If you do not wish to receive email notifications from our system anymore, please contact us."""

VOIP_ZERO_BALANCE = """Dear {$client_name},

This is a friendly reminder that your VoIP service must carry a positive balance.
The details of this are below:

VoIP not Active: No VoIP Credit Balance
Credit Balance: ${$client_credit}
Outstanding Balance: {$client_due_invoices_balance}
Low Balance Threshold: ${$client_custom_field_lowbalancethreshold}.00

All VoIP/SIP accounts must carry a positive balance in order for service connection.
Please allow up to 1min for your deposit to synchronize with the system before your account is \
able to place calls.
If you cannot make a deposit please contact us as soon as possible to get your service \
reactivated."""


@dataclass
class DemoIds:
    """Ids created while seeding, by name, for later steps to refer to."""

    today: date
    ids: dict[str, int] = field(default_factory=dict)


SeedStep = Callable[[Connection, DemoIds], None]


@dataclass(frozen=True, slots=True)
class DemoClientLine:
    """One row of the summary ``bridge demo`` prints."""

    client: str
    credit: str
    due: str
    threshold: str
    has_voip: str
    services: tuple[str, ...]


def build_demo_database(path: Path, *, today: date) -> URL:
    """(Re)create the demo SQLite database at ``path`` and return its URL."""
    url = sqlite_url(path)
    if path.exists():
        _refuse_foreign_file(path)
    # Built beside the target and renamed into place, so a failed build never leaves a half-made
    # file that the next run would refuse to replace.
    building = path.with_name(path.name + ".building")
    building.unlink(missing_ok=True)
    engine = create_engine(f"sqlite:///{building}")
    try:
        with engine.begin() as conn:
            create_whmcs_schema(conn)
        upgrade_database(engine)
        with engine.begin() as conn:
            ids = DemoIds(today=today)
            for step in SEED_STEPS:
                step(conn, ids)
    finally:
        engine.dispose()
    building.replace(path)
    return make_url(url)


def summarize_demo(conn: Connection) -> list[DemoClientLine]:
    """Read the demo clients back through the WHMCS data layer, as the billing jobs will."""
    lines = []
    for client_id in list_client_ids(conn):
        client = get_client(conn, client_id)
        fields = get_client_fields(conn, client_id)
        services = tuple(
            f"#{s.id} {s.product.module} {s.domain} [{s.status}]"
            for s in list_voip_services(conn, client_id)
        )
        lines.append(
            DemoClientLine(
                client=f"#{client.id} {client.full_name} ({client.company_name or 'personal'})",
                credit=client.currency.format_amount(client.credit),
                due=client.currency.format_amount(get_due_balance(conn, client_id)),
                threshold=fields.get("Low Balance Threshold", "") or "-",
                has_voip=fields.get("Has VoIP Service", "") or "-",
                services=services,
            )
        )
    return lines


def render_summary(lines: list[DemoClientLine]) -> Table:
    """Return the demo summary as a rich table."""
    table = Table(title="Demo WHMCS clients (read through the bridge's data layer)")
    for heading in ("Client", "Credit", "Due", "Low bal.", "VoIP", "VoIP services"):
        table.add_column(heading)
    for line in lines:
        # Client data may contain [brackets]; escape it so rich never reads it as markup.
        cells = (line.client, line.credit, line.due, line.threshold, line.has_voip)
        table.add_row(*map(escape, cells), escape("\n".join(line.services) or "-"))
    return table


def _refuse_foreign_file(path: Path) -> None:
    engine = create_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as conn:
            is_demo = "tblconfiguration" in inspect(conn).get_table_names() and (
                get_setting(conn, DEMO_MARKER) == "1"
            )
    except DBAPIError:  # not a database at all, or not one we can read: not ours
        is_demo = False
    finally:
        engine.dispose()
    if not is_demo:
        raise ConfigError(
            f"{path} exists and is not a voipbridge demo database; refusing to overwrite it. "
            "Move it away or pass --db with another path."
        )


def _seed_settings(conn: Connection, ids: DemoIds) -> None:
    seeding.insert_setting(conn, DEMO_MARKER, "1")
    seeding.insert_setting(conn, "SystemURL", "https://billing.example.net/")
    seeding.insert_setting(conn, "Version", "8.13.1-release.1")
    ids.ids["cad"] = seeding.insert_currency(conn, code="CAD", prefix="$", suffix=" CAD")
    ids.ids["gbp"] = seeding.insert_currency(
        conn, code="GBP", prefix="£", suffix=" GBP", default=False
    )


def _seed_catalog(conn: Connection, ids: DemoIds) -> None:
    group = seeding.insert_product_group(conn, "VoIP Services")
    servers = {
        "fusionpbx": ("FusionPBX Toronto", "pbx1.example.net"),
        "vodia": ("Vodia Cloud", "vodia.example.net"),
        "lesnet": ("LesNet API", "api.les.net"),
    }
    for module, (name, hostname) in servers.items():
        ids.ids[f"server_{module}"] = seeding.insert_server(
            conn, name=name, module=module, hostname=hostname, port=443
        )
    products = {
        "fusionpbx": ("Hosted PBX &amp; Trunking", {"VoIP Package": "Canada Metered"}),
        "vodia": ("Vodia Cloud PBX", {"VoIP Package": "Canada Prepaid"}),
        "lesnet": ("SIP Trunk (LesNet)", {"VoIP Package": "Canada Metered"}),
    }
    for module, (name, settings) in products.items():
        ids.ids[f"product_{module}"] = seeding.insert_product(
            conn, group_id=group, name=name, module=module, settings=settings
        )
    ids.ids["product_tollfree"] = seeding.insert_product(
        conn,
        group_id=group,
        name="UK Special Numbers (0800/0845/09)",
        module="fusionpbx",
        settings={"VoIP Package": "UK Special Numbers", "Special Number Billing": "on"},
    )
    for product, names in (
        ("product_vodia", ("First Name", "Inbound Search String")),
        ("product_lesnet", ("Peer ID", "DID(s) Attached to Peer", "CDR Link")),
    ):
        for name in names:
            ids.ids[f"{product}:{name}"] = seeding.insert_custom_field(
                conn, name=name, field_type="product", relid=ids.ids[product]
            )
    for name, input_type, options in (
        ("Has VoIP Service", "dropdown", "Yes,No"),
        ("Manual VoIP Suspend", "dropdown", "No,Yes"),
        ("VoIP Suspended", "dropdown", "None,Yes,No"),
        ("Low Balance Threshold", "text", ""),
    ):
        ids.ids[f"field:{name}"] = seeding.insert_custom_field(
            conn, name=name, input_type=input_type, options=options
        )
    # The documented bodies are plain text (line breaks, no markup), so the templates say so.
    seeding.insert_email_template(
        conn,
        name="Low Balance Alert",
        subject="Low Balance Alert",
        message=LOW_BALANCE_ALERT,
        plaintext=True,
    )
    seeding.insert_email_template(
        conn,
        name="VoIP Zero Balance",
        subject="VoIP service paused: zero balance",
        message=VOIP_ZERO_BALANCE,
        plaintext=True,
    )


def _add_client(
    conn: Connection,
    ids: DemoIds,
    key: str,
    fields: dict[str, str],
    *,
    firstname: str,
    lastname: str,
    companyname: str,
    credit: str,
    currency: str = "cad",
) -> int:
    client_id = seeding.insert_client(
        conn,
        currency_id=ids.ids[currency],
        firstname=firstname,
        lastname=lastname,
        companyname=companyname,
        email=f"{key}@customer.example",
        credit=Decimal(credit),
    )
    ids.ids[key] = client_id
    for name, value in fields.items():
        seeding.insert_custom_field_value(conn, ids.ids[f"field:{name}"], client_id, value)
    return client_id


def _add_service(
    conn: Connection,
    ids: DemoIds,
    client_id: int,
    module: str,
    domain: str,
    username: str,
    **extra: str,
) -> int:
    product = extra.pop("product", f"product_{module}")
    service_id = seeding.insert_service(
        conn,
        client_id=client_id,
        product_id=ids.ids[product],
        server_id=ids.ids[f"server_{module}"],
        domain=domain,
        username=username,
        status=extra.pop("status", "Active"),
        amount=Decimal("19.95"),
        next_due=ids.today + timedelta(days=DUE_IN_DAYS),
    )
    for name, value in extra.items():
        seeding.insert_custom_field_value(conn, ids.ids[f"{product}:{name}"], service_id, value)
    return service_id


def _seed_clients(conn: Connection, ids: DemoIds) -> None:
    # A healthy prepaid customer whose names WHMCS stored HTML-encoded.
    marie = _add_client(
        conn,
        ids,
        "marie",
        {"Has VoIP Service": "Yes", "VoIP Suspended": "None", "Low Balance Threshold": "10"},
        firstname="Marie",
        lastname="C&ocirc;t&eacute;",
        companyname="C&ocirc;t&eacute; &amp; Fils Plomberie",
        credit="42.50",
    )
    _add_service(
        conn,
        ids,
        marie,
        "fusionpbx",
        "mcon.wat7.ictvoip.ca | 5192229000",
        "2112 | 2113 | 2114 | 2115 | 2216",
    )
    # Low on credit and owing more than he holds: a low-balance alert and an autosuspend candidate.
    dave = _add_client(
        conn,
        ids,
        "dave",
        {"Has VoIP Service": "Yes", "VoIP Suspended": "None", "Low Balance Threshold": "5"},
        firstname="Dave",
        lastname="O&#039;Neil",
        companyname="Rucken Logistics",
        credit="3.20",
    )
    _add_service(
        conn,
        ids,
        dave,
        "vodia",
        "rucken.wat1.ictvoip.ca | 5484815577 | 5197830020 | 8300",
        "8300",
        **{"First Name": "Dave", "Inbound Search String": "8300"},
    )
    invoice = seeding.insert_invoice(
        conn,
        client_id=dave,
        total=Decimal("25.00"),
        issued=ids.today - timedelta(days=20),
        due=ids.today - timedelta(days=6),
    )
    seeding.insert_transaction(conn, client_id=dave, invoice_id=invoice, amount_in=Decimal("10.00"))
    # Suspended by hand by an admin; a LesNet trunk with its CDR file link.
    priya = _add_client(
        conn,
        ids,
        "priya",
        {"Has VoIP Service": "Yes", "Manual VoIP Suspend": "Yes", "VoIP Suspended": "Yes"},
        firstname="Priya",
        lastname="Shah",
        companyname="",
        credit="0.00",
    )
    _add_service(
        conn,
        ids,
        priya,
        "lesnet",
        "D4E3CD2BFC791 | 12046664021",
        "12046664021",
        status="Suspended",
        **{
            "Peer ID": "D4E3CD2BFC791",
            "DID(s) Attached to Peer": "12046664021",
            "CDR Link": "https://portal.les.net/cdr/11330_0000.txt",
        },
    )
    # A UK customer, paid up, billed in pounds, on a special-number (toll-free) product; a blank
    # threshold disables low-balance alerts.
    oliver = _add_client(
        conn,
        ids,
        "oliver",
        {"Has VoIP Service": "Yes", "VoIP Suspended": "None", "Low Balance Threshold": ""},
        firstname="Oliver",
        lastname="Hughes",
        companyname="Hughes Dental",
        credit="120.00",
        currency="gbp",
    )
    _add_service(
        conn,
        ids,
        oliver,
        "fusionpbx",
        "hughesdental.pbx1.example.net | 442071234567",
        "201 | 202",
        product="product_tollfree",
    )


def _seed_rating(conn: Connection, ids: DemoIds) -> None:
    seed_rating(conn, today=ids.today, special_product_id=ids.ids["product_tollfree"])


def _seed_calls(conn: Connection, ids: DemoIds) -> None:
    seed_calls(conn, today=ids.today)


SEED_STEPS: list[SeedStep] = [
    _seed_settings,
    _seed_catalog,
    _seed_clients,
    _seed_rating,
    _seed_calls,
]
