"""Stored packages (``mod_voipbridge_packages`` + custom rates) and per-product special rules.

Values are validated by building the pure rating objects (:class:`~bridge.rating.plan.Package`,
:class:`~bridge.rating.special.SpecialRule`) before anything is written, so a refused regex or a
negative rate never reaches the tables. Saving replaces a package's custom rates, or a product's
rules, in the caller's transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.engine import Connection, RowMapping

from bridge.db import inserted_id
from bridge.errors import NotFound
from bridge.rating.filters import FilterSet
from bridge.rating.models import CustomRate, Increment
from bridge.rating.plan import Package
from bridge.rating.special import (
    BillingMode,
    PatternType,
    RuleDirection,
    SpecialRule,
)
from bridge.store.column_fit import check_fits
from bridge.store.tables import package_rates, packages, special_rules, tariffs
from bridge.store.tariffs import get_tariff_info


@dataclass(frozen=True, slots=True)
class StoredPackage:
    """A package with the names of its tariffs and its real-time billing flag."""

    package: Package
    tariff: str | None
    inbound_tariff: str | None
    realtime_billing: bool


def save_package(
    conn: Connection,
    package: Package,
    *,
    tariff: str | None,
    inbound_tariff: str | None = None,
    realtime_billing: bool = False,
    now: datetime,
) -> int:
    """Create or replace package ``package.name`` (with its custom rates); return its id."""
    values = {
        "tariff_id": get_tariff_info(conn, tariff).id if tariff else None,
        "inbound_tariff_id": get_tariff_info(conn, inbound_tariff).id if inbound_tariff else None,
        "country_code": package.country_code,
        "exit_code": package.exit_code,
        "local_prefix": package.local_prefix,
        "national_prefix": package.national_prefix,
        "nanp_10_digit": package.nanp_10_digit,
        "markup_percent": package.markup_percent,
        "free_minutes": package.free_minutes,
        "bill_inbound": package.bill_inbound,
        "inbound_rate": package.inbound_rate,
        "outbound_increment": _increment_text(package.outbound_increment),
        "inbound_increment": _increment_text(package.inbound_increment),
        "realtime_billing": realtime_billing,
        "suppress": str(package.suppress),
        "exclude": str(package.exclude),
        "updated_at": now.replace(tzinfo=None),
    }
    what = f"package {package.name[:40]!r}"
    check_fits(packages, {"name": package.name, **values}, what=what)
    for custom in package.custom_rates:
        check_fits(
            package_rates,
            {"prefix": custom.prefix, "rate": custom.rate, "description": custom.description},
            what=f"{what} custom rate {custom.prefix[:40]!r}",
        )
    existing = conn.execute(
        select(packages.c.id).where(packages.c.name == package.name).with_for_update()
    ).scalar_one_or_none()
    if existing is None:
        result = conn.execute(packages.insert().values(name=package.name, **values))
        package_id = inserted_id(result)
    else:
        package_id = existing
        conn.execute(packages.update().where(packages.c.id == package_id).values(**values))
        conn.execute(package_rates.delete().where(package_rates.c.package_id == package_id))
    if package.custom_rates:
        conn.execute(
            package_rates.insert(),
            [
                {
                    "package_id": package_id,
                    "prefix": custom.prefix,
                    "rate": custom.rate,
                    "description": custom.description,
                }
                for custom in package.custom_rates
            ],
        )
    return package_id


def load_package(conn: Connection, name: str) -> StoredPackage:
    """Return package ``name`` with its custom rates, or raise :class:`NotFound`."""
    row = conn.execute(select(packages).where(packages.c.name == name)).mappings().first()
    if row is None:
        raise NotFound(
            f"No VoIP package named {name!r}; create it with `bridge package import {name} FILE`."
        )
    customs = conn.execute(
        select(package_rates)
        .where(package_rates.c.package_id == row["id"])
        .order_by(package_rates.c.id)
    ).mappings()
    return StoredPackage(
        package=_package(row, tuple(_custom(custom) for custom in customs)),
        tariff=_tariff_name(conn, row["tariff_id"]),
        inbound_tariff=_tariff_name(conn, row["inbound_tariff_id"]),
        realtime_billing=bool(row["realtime_billing"]),
    )


def list_package_names(conn: Connection) -> list[str]:
    """Return the names of every stored package, sorted."""
    return list(conn.execute(select(packages.c.name).order_by(packages.c.name)).scalars())


def save_special_rules(
    conn: Connection, product_id: int, rules: tuple[SpecialRule, ...]
) -> list[int]:
    """Replace the special rules of WHMCS product ``product_id``; return the new rule ids."""
    rows = [
        {
            "product_id": product_id,
            "name": rule.name,
            "pattern": rule.pattern,
            "pattern_type": rule.pattern_type.value,
            "direction": rule.direction.value,
            "mode": rule.mode.value,
            "flat": rule.flat,
            "per_minute": rule.per_minute,
            "priority": rule.priority,
            "enabled": rule.enabled,
        }
        for rule in rules
    ]
    for number, row in enumerate(rows, start=1):
        check_fits(special_rules, row, what=f"product #{product_id} special rule {number}")
    conn.execute(special_rules.delete().where(special_rules.c.product_id == product_id))
    ids = []
    for row in rows:
        ids.append(inserted_id(conn.execute(special_rules.insert().values(**row))))
    return ids


def load_special_rules(conn: Connection, product_id: int) -> tuple[SpecialRule, ...]:
    """Return the special rules of WHMCS product ``product_id``, ids as stored."""
    rows = conn.execute(
        select(special_rules)
        .where(special_rules.c.product_id == product_id)
        .order_by(special_rules.c.id)
    ).mappings()
    return tuple(
        SpecialRule(
            id=row["id"],
            pattern=row["pattern"],
            pattern_type=PatternType(row["pattern_type"]),
            direction=RuleDirection(row["direction"]),
            mode=BillingMode(row["mode"]),
            flat=row["flat"],
            per_minute=row["per_minute"],
            priority=row["priority"],
            name=row["name"],
            enabled=bool(row["enabled"]),
        )
        for row in rows
    )


def _package(row: RowMapping, customs: tuple[CustomRate, ...]) -> Package:
    return Package(
        name=row["name"],
        country_code=row["country_code"],
        exit_code=row["exit_code"],
        local_prefix=bool(row["local_prefix"]),
        national_prefix=row["national_prefix"],
        nanp_10_digit=bool(row["nanp_10_digit"]),
        markup_percent=row["markup_percent"],
        free_minutes=row["free_minutes"],
        bill_inbound=bool(row["bill_inbound"]),
        inbound_rate=row["inbound_rate"],
        outbound_increment=_increment(row["outbound_increment"]),
        inbound_increment=_increment(row["inbound_increment"]),
        custom_rates=customs,
        suppress=FilterSet.parse(row["suppress"]),
        exclude=FilterSet.parse(row["exclude"]),
    )


def _custom(row: RowMapping) -> CustomRate:
    return CustomRate(prefix=row["prefix"], rate=row["rate"], description=row["description"])


def _tariff_name(conn: Connection, tariff_id: int | None) -> str | None:
    if tariff_id is None:
        return None
    name = conn.execute(select(tariffs.c.name).where(tariffs.c.id == tariff_id)).scalar_one()
    return str(name)


def _increment(text: str | None) -> Increment | None:
    return Increment.parse(text) if text else None


def _increment_text(increment: Increment | None) -> str | None:
    return str(increment) if increment else None
