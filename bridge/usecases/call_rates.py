"""The client area's Call Rates tab: the service's package rates, as the client is charged them.

Outbound rates are the package's custom rates (used as is) and its tariff's rows with the package
markup applied, each with the billing increment rating uses (the package's outbound increment,
else the row's own as ``inc/inc``); a custom prefix hides every tariff row it starts, since
rating tries custom prefixes first. The client searches by prefix or number
(:func:`find_rates`) or by destination name. Special-rate products show their rules instead.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy.engine import Connection

from bridge.rating import DEFAULT_INCREMENT, Increment, Package, RatePlan, SpecialRule
from bridge.rating.money import ZERO, apply_markup
from bridge.usecases.usage import RatePlans
from bridge.whmcs.services import Product

MAX_RATES = 100
_PUNCTUATION = str.maketrans("", "", "+ -().")


@dataclass(frozen=True, slots=True)
class RateLine:
    """One destination the client can call: prefix, name, price per minute, increment."""

    prefix: str
    destination: str
    rate: Decimal
    increment: Increment
    connection_fee: Decimal


@dataclass(frozen=True, slots=True)
class CallRates:
    """The rates matching a search, with the package terms shown beside them."""

    package: str
    search: str
    rates: tuple[RateLine, ...]
    matching: int
    free_minutes: int
    outbound_increment: Increment | None
    inbound_rate: Decimal | None
    inbound_increment: Increment | None
    special_rules: tuple[SpecialRule, ...]


def show_call_rates(
    conn: Connection, product: Product, search: str, *, plans: RatePlans | None = None
) -> CallRates:
    """Return the product's package rates that match ``search`` (all when it is empty)."""
    stored = (plans or RatePlans()).plan_for(conn, product)
    plan = stored.plan
    package = plan.package
    needle = search.strip()
    found = find_rates(iter_rate_lines(plan), needle)
    found.sort(key=lambda line: (line.prefix, line.destination))
    special = plan.special
    rules = tuple(rule for rule in special.rules if rule.enabled) if special.enabled else ()
    return CallRates(
        package=stored.package,
        search=needle,
        rates=tuple(found[:MAX_RATES]),
        matching=len(found),
        free_minutes=package.free_minutes,
        outbound_increment=package.outbound_increment,
        inbound_rate=package.inbound_rate if package.bill_inbound else None,
        inbound_increment=package.inbound_increment,
        special_rules=rules,
    )


def iter_rate_lines(plan: RatePlan) -> Iterator[RateLine]:
    """Yield every outbound rate of the plan at the price rating charges."""
    package: Package = plan.package
    own = package.outbound_increment
    customs = tuple(custom.prefix for custom in package.custom_rates)
    for custom in package.custom_rates:
        description = custom.description
        if not description and plan.tariff is not None:
            row = plan.tariff.lookup(custom.prefix)
            description = row.description if row is not None else ""
        yield RateLine(
            prefix=custom.prefix,
            destination=description or f"Custom rate {custom.prefix}",
            rate=custom.rate,
            increment=own or custom.increment or DEFAULT_INCREMENT,
            connection_fee=ZERO,
        )
    if plan.tariff is None:
        return
    for row in plan.tariff:
        if customs and row.prefix.startswith(customs):
            continue
        yield RateLine(
            prefix=row.prefix,
            destination=row.description,
            rate=apply_markup(row.rate, package.markup_percent),
            increment=own or Increment(row.increment, row.increment),
            connection_fee=row.connection_fee,
        )


def find_rates(lines: Iterable[RateLine], needle: str) -> list[RateLine]:
    """Return the lines a search finds.

    Digits find the prefixes that start with them and the one rate a number starting with them
    is charged (its longest prefix); other text finds destinations by name, case-blind.
    """
    if not needle:
        return list(lines)
    digits = needle.translate(_PUNCTUATION)
    if not (digits.isascii() and digits.isdigit()):
        return [line for line in lines if needle.casefold() in line.destination.casefold()]
    found: list[RateLine] = []
    charged: RateLine | None = None
    for line in lines:
        if line.prefix.startswith(digits):
            found.append(line)
        if digits.startswith(line.prefix) and (
            charged is None or len(line.prefix) > len(charged.prefix)
        ):
            charged = line
    return found if charged is None or charged in found else [charged, *found]
