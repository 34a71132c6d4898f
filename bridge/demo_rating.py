"""The rating part of the demo: a tariff, three packages, special rules, calls, and a preview.

:func:`seed_rating` stores what the demo products refer to (their "VoIP Package" setting) through
the same store functions ``bridge tariff import`` and ``bridge package import`` use, and
:func:`seed_calls` puts a handful of calls per service into the CDR store, as ``bridge cdr
collect`` would. :func:`describe_usage` then asks the usage use case
(:mod:`bridge.usecases.usage`) — what autobill and the client area ask — for each service's
current billing period, and shows the invoice lines its calls would add, in each client's
currency. Nothing is billed.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Connection

from bridge.calls import CollectedCdr
from bridge.rating import Cdr, Direction
from bridge.rating.package_toml import parse_package_toml
from bridge.store.cdrs import store_cdrs
from bridge.store.packages import save_package, save_special_rules
from bridge.store.tariffs import import_tariff
from bridge.usecases.usage import RatePlans, rate_service_usage
from bridge.whmcs.clients import list_client_ids
from bridge.whmcs.cycles import period_containing
from bridge.whmcs.services import Service, list_voip_services

TARIFF = "Canada_Outbound_2026_01"
RATE_CARD = """Description,Prefix,RateValue,Increment
USA/Canada,1,0.0100,6
Jamaica,1876,0.2100,60
United Kingdom,44,0.0250,60
United Kingdom Mobile,447,0.0800,60
Mexico,52,0.0450,60
France,33,0.0300,60
"""
PACKAGES = {
    "Canada Metered": """
country_code = "1"
nanp_10_digit = true
markup_percent = "15"
free_minutes = 30
outbound_increment = "60/6"
bill_inbound = true
inbound_rate = "0.0050"
[filters]
suppress = "*xx,*xxx"
exclude = "911,1800xxxxxxx,1888xxxxxxx"
""",
    "Canada Prepaid": """
country_code = "1"
nanp_10_digit = true
markup_percent = "20"
outbound_increment = "30/6"
realtime_billing = true
[filters]
suppress = "*xx,*xxx"
exclude = "911"
""",
    "UK Special Numbers": """
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
name = "Non-geographic 0845"
pattern = "0845*"
type = "prefix"
direction = "outbound"
mode = "per_minute"
per_minute = "0.05"
[[special_rules]]
name = "Premium 09"
pattern = "09\\\\d{8}"
type = "regex"
direction = "outbound"
mode = "hybrid"
flat = "0.25"
per_minute = "1.50"
""",
}
# Calls per service module: (day offset, hour, direction, number, billsec).
DEMO_CALLS: dict[str, tuple[tuple[int, int, str, str, int], ...]] = {
    "fusionpbx": (
        (-20, 9, "outbound", "4165550100", 95),
        (-19, 10, "outbound", "876 555 0123", 300),
        (-18, 11, "outbound", "011447700900123", 420),
        (-15, 14, "inbound", "5192229000", 180),
        (-12, 16, "outbound", "18005550199", 600),
        (-10, 9, "outbound", "*97", 20),
        (-8, 13, "outbound", "6135550188", 2400),
        (-5, 15, "outbound", "4165550100", 0),
    ),
    "vodia": (
        (-6, 10, "outbound", "5145550111", 125),
        (-3, 11, "outbound", "+33 1 42 68 53 00", 240),
    ),
}
SPECIAL_CALLS = (
    (-9, 10, "outbound", "08001234567", 300),
    (-7, 11, "outbound", "08451234567", 190),
    (-4, 20, "outbound", "0909876543", 125),
    (-2, 12, "outbound", "02071234567", 60),
)


def seed_rating(conn: Connection, *, today: date, special_product_id: int) -> None:
    """Store the demo tariff, packages and the special product's rules."""
    now = datetime.combine(today, time(), tzinfo=UTC)
    import_tariff(conn, TARIFF, RATE_CARD.splitlines(keepends=True), source="demo", now=now)
    for name, text in PACKAGES.items():
        parsed = parse_package_toml(f'name = "{name}"\n{text}', source=f"demo package {name}")
        tariff = None if parsed.special.rules else TARIFF
        save_package(
            conn, parsed.package, tariff=tariff, realtime_billing=parsed.realtime_billing, now=now
        )
        if parsed.special.rules:
            save_special_rules(conn, special_product_id, parsed.special.rules)


def seed_calls(conn: Connection, *, today: date) -> int:
    """Store each demo service's calls in the CDR store, as collection would; return how many."""
    now = datetime.combine(today, time(), tzinfo=UTC)
    stored = 0
    for service in _voip_services(conn):
        calls = _demo_calls(service)
        if not calls or service.server is None:
            continue
        tenant = service.domain.split("|", 1)[0].strip()
        records = [_collected(service.id, n, call, today, tenant) for n, call in enumerate(calls)]
        stored += store_cdrs(
            conn, service.server.id, records, now=now, service_id=service.id
        ).inserted
    return stored


def _voip_services(conn: Connection) -> list[Service]:
    return [
        service
        for client_id in list_client_ids(conn)
        for service in list_voip_services(conn, client_id)
    ]


def _demo_calls(service: Service) -> tuple[tuple[int, int, str, str, int], ...]:
    if service.product.billing.special_number_billing:
        return SPECIAL_CALLS
    return DEMO_CALLS.get(service.product.module, ())


def _collected(
    service_id: int, n: int, call: tuple[int, int, str, str, int], today: date, tenant: str
) -> CollectedCdr:
    offset, hour, direction, number, billsec = call
    inbound = direction == "inbound"
    cdr = Cdr(
        uuid=f"demo-{service_id}-{n}",
        direction=Direction(direction),
        caller_number=number if inbound else "2112",
        caller_destination=number if inbound else "",
        destination_number="2112" if inbound else number,
        start=datetime.combine(today + timedelta(days=offset), time(hour), tzinfo=UTC),
        billsec=billsec,
    )
    return CollectedCdr(cdr, domain=tenant)


def describe_usage(conn: Connection, *, today: date, zone: ZoneInfo) -> str:
    """Return the demo's usage preview: per service, the invoice lines its period would add."""
    plans = RatePlans()
    blocks = []
    for service in _voip_services(conn):
        if service.next_due_date is None:
            continue
        period = period_containing(today, service.next_due_date, service.billing_cycle)
        if period is None:
            continue
        usage = rate_service_usage(conn, service, period, plans=plans, zone=zone)
        if not usage.result.calls:
            continue
        text = "\n".join(
            section.text(
                currency_prefix=usage.currency.prefix, currency_suffix=usage.currency.suffix
            )
            for section in usage.sections
        )
        blocks.append(
            f"Service #{service.id} ({service.product.name}, package {usage.plan.package!r}), "
            f"{len(usage.result.calls)} stored calls:\n{text or '(nothing billed)'}"
        )
    return "\n\n".join(blocks)
