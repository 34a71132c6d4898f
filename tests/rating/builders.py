"""Small builders for rating tests: every argument has a dull default, tests override one."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from bridge.rating import (
    Cdr,
    Direction,
    FilterSet,
    Package,
    RatePlan,
    RateRow,
    SpecialBilling,
    Tariff,
)

START = datetime(2025, 12, 29, 9, 0, tzinfo=UTC)


def make_cdr(
    destination: str = "12125550100",
    billsec: int = 60,
    *,
    direction: Direction = Direction.OUTBOUND,
    caller_destination: str = "12045550199",
    uuid: str = "cdr-1",
    minute: int = 0,
) -> Cdr:
    """Return a CDR starting ``minute`` minutes after START."""
    return Cdr(
        uuid=uuid,
        direction=direction,
        caller_number="12045550199",
        caller_destination=caller_destination,
        destination_number=destination,
        start=START + timedelta(minutes=minute),
        billsec=billsec,
    )


def make_inbound(
    did: str = "12045550199", billsec: int = 60, *, uuid: str = "cdr-1", minute: int = 0
) -> Cdr:
    """Return an inbound CDR to ``did`` (rated on the caller destination)."""
    return make_cdr(
        "2112",
        billsec,
        direction=Direction.INBOUND,
        caller_destination=did,
        uuid=uuid,
        minute=minute,
    )


def make_row(
    prefix: str,
    rate: str,
    increment: int = 60,
    *,
    description: str | None = None,
    connection_fee: str = "0",
) -> RateRow:
    """Return a tariff row; the description defaults to ``Dest <prefix>``."""
    return RateRow(
        prefix,
        description if description is not None else f"Dest {prefix}",
        Decimal(rate),
        increment,
        connection_fee=Decimal(connection_fee),
    )


NANP_DECK = (
    RateRow("1", "USA/Canada", Decimal("0.0100"), 6),
    RateRow("1204", "Canada - Manitoba", Decimal("0.0080"), 6),
    RateRow("1876", "Jamaica", Decimal("0.2500"), 60),
    RateRow("44", "United Kingdom", Decimal("0.0200"), 60),
    RateRow("4420", "United Kingdom - London", Decimal("0.0150"), 60),
    RateRow("61", "Australia", Decimal("0.0300"), 60, connection_fee=Decimal("0.05")),
)


def make_tariff(rows: Iterable[RateRow] = NANP_DECK, name: str = "Test_Outbound") -> Tariff:
    """Return a tariff over ``rows`` (the small NANP deck by default)."""
    return Tariff.from_rows(name, rows)


def make_plan(
    package: Package | None = None,
    *,
    tariff: Tariff | None = None,
    inbound_tariff: Tariff | None = None,
    special: SpecialBilling | None = None,
    provider_suppress: str = "",
    provider_exclude: str = "",
) -> RatePlan:
    """Return a plan over the NANP deck with a plain country-code-1 package by default."""
    return RatePlan(
        package=package or Package(country_code="1"),
        tariff=tariff if tariff is not None else make_tariff(),
        inbound_tariff=inbound_tariff,
        special=special or SpecialBilling(),
        provider_suppress=FilterSet.parse(provider_suppress),
        provider_exclude=FilterSet.parse(provider_exclude),
    )
