"""A billing data set for job tests: several clients, two currencies, three kinds of package,
hundreds of stored calls, and a snapshot of everything the billing jobs write.

Deterministic: the same seed gives the same clients, services and calls, so a test can compare
the state after an interrupted run and a rerun with the state after one clean run.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from bridge.calls import CollectedCdr
from bridge.rating import Cdr, Direction
from bridge.rating.package_toml import parse_package_toml
from bridge.store.cdrs import store_cdrs
from bridge.store.packages import save_package, save_special_rules
from bridge.store.tables import billed_calls, postings, realtime_totals
from bridge.store.tariffs import import_tariff
from bridge.whmcs import seeding
from bridge.whmcs.tables import billable_items, clients, credit

DUE = date(2026, 12, 1)
SEEDED_AT = datetime(2026, 11, 1, tzinfo=UTC)
RATE_CARD = """Description,Prefix,RateValue,Increment
USA/Canada,1,0.0100,6
Jamaica,1876,0.2100,60
United Kingdom,44,0.0250,60
United Kingdom Mobile,447,0.0800,60
"France 🇫🇷",33,0.0300,60
"""
PACKAGES = {
    "Metered": """
country_code = "1"
nanp_10_digit = true
markup_percent = "15"
free_minutes = 30
outbound_increment = "60/6"
bill_inbound = true
inbound_rate = "0.0050"
[filters]
exclude = "911"
""",
    "Prepaid": """
country_code = "1"
nanp_10_digit = true
markup_percent = "20"
outbound_increment = "30/6"
realtime_billing = true
""",
    "UK Special": """
country_code = "44"
local_prefix = true
[[special_rules]]
name = "Freephone"
pattern = "0800*"
type = "prefix"
direction = "outbound"
mode = "flat_per_call"
flat = "0"
[[special_rules]]
name = "Non-geographic"
pattern = "0845*"
type = "prefix"
direction = "outbound"
mode = "per_minute"
per_minute = "0.05"
[[special_rules]]
name = "Premium"
pattern = "09\\\\d{8}"
type = "regex"
direction = "outbound"
mode = "hybrid"
flat = "0.25"
per_minute = "1.50"
""",
}
NANP_NUMBERS = (
    "4165550100", "8765550123", "011447700900123", "01133142685300", "18005550199", "911",
    "6135550188",
)  # fmt: skip
UK_NUMBERS = ("08001234567", "08451234567", "0909876543", "02071234567")


@dataclass(frozen=True, slots=True)
class BillingData:
    """The ids the data set created."""

    server: int
    clients: dict[str, int]
    services: dict[str, int]
    products: dict[str, int]


def seed_billing_data(
    conn: Connection,
    *,
    calls_per_service: int = 40,
    seed: int = 7,
    due: date = DUE,
    more_clients: int = 0,
) -> BillingData:
    """Create the clients, products, services and calls the billing tests bill.

    Five named clients cover the kinds of package and both currencies; ``more_clients`` adds
    metered and prepaid ones, to give a job more to do.
    """
    rnd = random.Random(seed)
    import_tariff(
        conn, "Test Tariff", RATE_CARD.splitlines(keepends=True), source="t", now=SEEDED_AT
    )
    products: dict[str, int] = {}
    group = seeding.insert_product_group(conn, "VoIP")
    for name, text in PACKAGES.items():
        parsed = parse_package_toml(f'name = "{name}"\n{text}', source=name)
        tariff = None if parsed.special.rules else "Test Tariff"
        save_package(
            conn, parsed.package, tariff=tariff, realtime_billing=parsed.realtime_billing,
            now=SEEDED_AT,
        )  # fmt: skip
        settings = {"VoIP Package": name}
        if parsed.special.rules:
            settings["Special Number Billing"] = "on"
        products[name] = seeding.insert_product(
            conn, group_id=group, name=f"{name} PBX", module="fusionpbx", settings=settings
        )
        if parsed.special.rules:
            save_special_rules(conn, products[name], parsed.special.rules)
    cad = seeding.insert_currency(conn, code="CAD", prefix="$", suffix=" CAD")
    gbp = seeding.insert_currency(conn, code="GBP", prefix="£", suffix=" GBP", default=False)
    server = seeding.insert_server(conn, name="PBX", module="fusionpbx", hostname="pbx.test")
    plan = {
        "anna": (cad, "Metered", "50.00"),
        "ben": (cad, "Prepaid", "20.00"),
        "cleo": (gbp, "UK Special", "80.00"),
        "dev": (gbp, "Metered", "5.00"),
        "eve": (cad, "Metered", "0.00"),
        **{
            f"x{n:03d}": (cad if n % 2 else gbp, "Prepaid" if n % 3 == 0 else "Metered", "10.00")
            for n in range(more_clients)
        },
    }
    client_ids: dict[str, int] = {}
    service_ids: dict[str, int] = {}
    for name, (currency, package, balance) in plan.items():
        client_ids[name] = seeding.insert_client(
            conn, currency_id=currency, firstname=name.title(), lastname="Test",
            email=f"{name}@example.com", credit=Decimal(balance),
        )  # fmt: skip
        service_ids[name] = seeding.insert_service(
            conn, client_id=client_ids[name], product_id=products[package], server_id=server,
            domain=f"{name}.pbx.test | 519555{len(service_ids):04d}", username="2112",
            next_due=due,
        )  # fmt: skip
        numbers = UK_NUMBERS if package == "UK Special" else NANP_NUMBERS
        calls = [
            _call(rnd, f"{name}-{n}", numbers, due, tenant=f"{name}.pbx.test")
            for n in range(calls_per_service)
        ]
        store_cdrs(conn, server, calls, now=SEEDED_AT, service_id=service_ids[name])
    return BillingData(server, client_ids, service_ids, products)


def _call(
    rnd: random.Random, uuid: str, numbers: tuple[str, ...], due: date, *, tenant: str
) -> CollectedCdr:
    # Most calls in the month before the due date; some in the month before that; a few after.
    offset = rnd.choice((-45, -40, *range(-30, 0), 2, 5))
    start = datetime.combine(due + timedelta(days=offset), time(rnd.randint(0, 23)), tzinfo=UTC)
    inbound = rnd.random() < 0.15
    number = rnd.choice(numbers)
    call = Cdr(
        uuid=uuid,
        direction=Direction.INBOUND if inbound else Direction.OUTBOUND,
        caller_number=number if inbound else "2112",
        caller_destination="5195550100" if inbound else "",
        destination_number="2112" if inbound else number,
        start=start,
        billsec=rnd.choice((0, 7, 31, 59, 61, 95, 300, 601, 1800)),
    )
    return CollectedCdr(call, domain=tenant)


def billing_state(conn: Connection) -> dict[str, Any]:
    """Return everything the billing jobs write, without ids or times that differ run to run."""
    ledger = sorted(
        (r.service_id, r.cdr_id, str(r.period_start), r.status, r.billed_seconds,
         r.free_seconds, str(r.cost), r.posting_id is not None)
        for r in conn.execute(select(billed_calls))
    )  # fmt: skip
    posted = sorted(
        (r.job, r.service_id, str(r.period_start), str(r.amount), r.calls, r.whmcs_table,
         r.description)
        for r in conn.execute(select(postings))
    )  # fmt: skip
    items = sorted(
        (r.userid, r.description, str(r.amount), r.invoiceaction, str(r.duedate))
        for r in conn.execute(select(billable_items))
    )
    ledger_rows = sorted(
        (r.clientid, r.description, str(r.amount)) for r in conn.execute(select(credit))
    )
    balances = sorted((r.id, str(r.credit)) for r in conn.execute(select(clients)))
    totals = sorted(
        (r.service_id, str(r.period_start), str(r.cost), str(r.taken))
        for r in conn.execute(select(realtime_totals))
    )
    return {
        "billed_calls": ledger,
        "postings": posted,
        "billable_items": items,
        "credit_ledger": ledger_rows,
        "client_credit": balances,
        "realtime_totals": totals,
    }
