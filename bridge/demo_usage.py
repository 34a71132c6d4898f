"""The rating part of the demo: a tariff, three packages, special rules, and a usage preview.

:func:`seed_rating` stores what the demo products refer to (their "VoIP Package" setting) through
the same store functions ``bridge tariff import`` and ``bridge package import`` use.
:func:`preview_usage` then rates a handful of demo calls per service with the stored plans and
returns the invoice lines the billing run would add, in each client's currency. Nothing is billed:
collecting real CDRs from the PBXes is a later capability.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy.engine import Connection

from bridge.rating import Cdr, invoice_sections, rate_calls
from bridge.rating.groups import InvoiceSection
from bridge.rating.package_toml import parse_package_toml
from bridge.store.packages import load_rate_plan, save_package, save_special_rules
from bridge.store.tariffs import import_tariff
from bridge.whmcs.clients import get_client, list_client_ids
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


@dataclass(frozen=True, slots=True)
class UsagePreview:
    """What one demo service would be billed for its demo calls."""

    service: Service
    sections: tuple[InvoiceSection, ...]
    currency: tuple[str, str]


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


def preview_usage(conn: Connection, services: list[Service], *, today: date) -> list[UsagePreview]:
    """Rate each service's demo calls with its stored plan and return the invoice lines."""
    previews = []
    for service in services:
        settings = service.product.settings
        special = settings.get("Special Number Billing") == "on"
        calls = SPECIAL_CALLS if special else DEMO_CALLS.get(service.product.module, ())
        package = settings.get("VoIP Package", "")
        if not calls or not package:
            continue
        plan = load_rate_plan(conn, package, product_id=service.product.id, special_billing=special)
        result = rate_calls(
            (_cdr(service.id, n, call, today) for n, call in enumerate(calls)), plan
        )
        currency = get_client(conn, service.client_id).currency
        previews.append(
            UsagePreview(
                service=service,
                sections=invoice_sections(
                    result.calls, period_start=today - timedelta(days=30), period_end=today
                ),
                currency=(currency.prefix, currency.suffix),
            )
        )
    return previews


def _cdr(service_id: int, n: int, call: tuple[int, int, str, str, int], today: date) -> Cdr:
    offset, hour, direction, number, billsec = call
    start = datetime.combine(today + timedelta(days=offset), time(hour), tzinfo=UTC)
    inbound = direction == "inbound"
    return Cdr(
        uuid=f"demo-{service_id}-{n}",
        direction=direction,  # type: ignore[arg-type]
        caller_number=number if inbound else "2112",
        caller_destination=number if inbound else "",
        destination_number="2112" if inbound else number,
        start=start,
        billsec=billsec,
    )


def describe_usage(conn: Connection, *, today: date) -> str:
    """Return the demo's usage preview: per service, the invoice lines its calls would add."""
    services = [
        service
        for client_id in list_client_ids(conn)
        for service in list_voip_services(conn, client_id)
    ]
    blocks = []
    for preview in preview_usage(conn, services, today=today):
        prefix, suffix = preview.currency
        text = "\n".join(
            section.text(currency_prefix=prefix, currency_suffix=suffix)
            for section in preview.sections
        )
        service = preview.service
        blocks.append(
            f"Service #{service.id} ({service.product.name}, package "
            f"{service.product.settings.get('VoIP Package')!r}):\n{text or '(nothing billed)'}"
        )
    return "\n\n".join(blocks)
