"""Client-area test data: a tariff, three packages, clients with VoIP services and their calls."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy.engine import Connection

from bridge.calls import CollectedCdr
from bridge.rating import Cdr, Direction
from bridge.rating.package_toml import parse_package_toml
from bridge.store.cdrs import store_cdrs
from bridge.store.packages import save_package, save_special_rules
from bridge.store.tariffs import import_tariff
from bridge.whmcs.services import get_service
from tests.factories.whmcs import make_client, make_currency, make_product, make_service

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
TODAY = date(2026, 11, 21)
DUE = date(2026, 12, 1)
PERIOD_START = date(2026, 11, 1)
HOSTILE_NAME = "<script>alert(1)</script>"
FORMULA_NAME = '=HYPERLINK("http://evil.example","click")'
RATE_CARD = """Description,Prefix,RateValue,Increment
USA/Canada,1,0.0100,6
Jamaica,1876,0.2100,60
United Kingdom,44,0.0250,60
United Kingdom Mobile,447,0.0800,60
"""
PACKAGES = {
    "Metered": """
country_code = "1"
nanp_10_digit = true
markup_percent = "15"
free_minutes = 2
outbound_increment = "60/6"
bill_inbound = true
inbound_rate = "0.0050"
[[custom_rates]]
prefix = "1876"
rate = "0.1900"
[filters]
suppress = "*xx"
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
""",
}


@dataclass(frozen=True, slots=True)
class CallSpec:
    """One stored call: minutes after the period's start, which way, the number, how long."""

    minute: int
    direction: str
    number: str
    billsec: int
    caller_name: str = ""
    hangup_cause: str = "NORMAL_CLEARING"


# A month of the Metered service's calls: billed, free, excluded, suppressed, local, unanswered,
# an inbound call, calls from hostile caller names, one before and one after the period.
METERED_CALLS = (
    CallSpec(-5, "outbound", "4165550100", 60),  # before the period
    CallSpec(60, "outbound", "4165550100", 95, "Alice Example"),
    CallSpec(24 * 60, "outbound", "876 555 0123", 300, "Bob"),
    CallSpec(2 * 24 * 60, "outbound", "011447700900123", 420, "Carol"),
    CallSpec(3 * 24 * 60, "inbound", "5192229000", 180, HOSTILE_NAME),
    CallSpec(4 * 24 * 60, "outbound", "911", 30, "Emergency"),
    CallSpec(5 * 24 * 60, "outbound", "*97", 20, "Voicemail"),
    CallSpec(6 * 24 * 60, "local", "2113", 50, "Reception"),
    CallSpec(7 * 24 * 60, "outbound", "6135550188", 2400, FORMULA_NAME),
    CallSpec(8 * 24 * 60, "outbound", "4165550100", 0, "", "NO_ANSWER"),
    CallSpec(30 * 24 * 60 + 10, "outbound", "4165550100", 60),  # after the period
)
SPECIAL_CALLS = (
    CallSpec(60, "outbound", "08001234567", 300),
    CallSpec(120, "outbound", "08451234567", 190),
    CallSpec(180, "outbound", "02071234567", 60),  # no rule: hidden
)


def seed_plans(conn: Connection, *, special_product: int | None = None) -> None:
    """Store the tariff and the three packages (the special rules for ``special_product``)."""
    import_tariff(conn, "CA-Test", RATE_CARD.splitlines(keepends=True), source="test", now=NOW)
    for name, text in PACKAGES.items():
        parsed = parse_package_toml(f'name = "{name}"\n{text}', source=name)
        tariff = None if parsed.special.rules else "CA-Test"
        save_package(
            conn, parsed.package, tariff=tariff, realtime_billing=parsed.realtime_billing, now=NOW
        )
        if parsed.special.rules and special_product is not None:
            save_special_rules(conn, special_product, parsed.special.rules)


def make_voip_product(
    conn: Connection,
    package: str,
    *,
    module: str = "fusionpbx",
    special: bool = False,
    license_key: str = "",
) -> int:
    """Create a product on ``module`` rated with ``package``."""
    settings = {
        "License Key": license_key,
        "VoIP Package": package,
        "Special Number Billing": "on" if special else "",
    }
    return make_product(conn, module=module, name=f"{package} line", settings=settings)


def make_cad_client(conn: Connection, *, credit: Decimal = Decimal("25.00")) -> int:
    """Create a client billed in Canadian dollars."""
    cad = make_currency(conn, code="CAD", prefix="$", suffix=" CAD", default=False)
    return make_client(conn, currency_id=cad, credit=credit)


def store_calls(
    conn: Connection, service_id: int, calls: tuple[CallSpec, ...], *, prefix: str = "c"
) -> list[str]:
    """Store ``calls`` for the service (times counted from the period's start, UTC)."""
    service = get_service(conn, service_id)
    assert service.server is not None
    start = datetime(PERIOD_START.year, PERIOD_START.month, PERIOD_START.day, tzinfo=UTC)
    records = []
    for n, spec in enumerate(calls):
        inbound = spec.direction == "inbound"
        cdr = Cdr(
            uuid=f"{prefix}-{service_id}-{n}",
            direction=Direction(spec.direction),
            caller_number=spec.number if inbound else "2112",
            caller_destination="5195550100" if inbound else "",
            destination_number="2112" if inbound else spec.number,
            start=start + timedelta(minutes=spec.minute),
            billsec=spec.billsec,
        )
        record = CollectedCdr(
            cdr, domain="tenant.example.net", caller_name=spec.caller_name,
            hangup_cause=spec.hangup_cause,
        )  # fmt: skip
        records.append(record)
    store_cdrs(conn, service.server.id, records, now=NOW, service_id=service_id)
    return [record.uuid for record in records]


def make_metered_service(
    conn: Connection, client_id: int, *, module: str = "fusionpbx", license_key: str = ""
) -> int:
    """Create a Metered service for the client, with :data:`METERED_CALLS` stored."""
    product = make_voip_product(conn, "Metered", module=module, license_key=license_key)
    service_id = make_service(conn, client_id, product_id=product, module=module, next_due=DUE)
    store_calls(conn, service_id, METERED_CALLS)
    return service_id
