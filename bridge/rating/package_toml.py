"""``PACKAGE.toml``: a package and its Special Number Billing rules in one readable file.

Used by ``bridge rate --package`` to preview rating without touching the database::

    name = "Canada Metered"          # optional
    country_code = "1"
    exit_code = "011"                # optional: 011 for country code 1, else 00
    local_prefix = false
    nanp_10_digit = true
    markup_percent = "10"
    free_minutes = 100
    bill_inbound = true
    inbound_rate = "0.0050"          # optional flat inbound rate per minute
    outbound_increment = "60/6"      # optional "init/inc"
    inbound_increment = "60/60"      # optional
    special_billing = false
    realtime_billing = false         # deduct usage from credit every 5 minutes (stored packages)

    [[custom_rates]]
    prefix = "1876"
    rate = "0.1800"

    [[special_rules]]
    name = "AU 1300"
    pattern = "1300*"
    type = "prefix"                  # or "regex" (must match the whole number)
    direction = "outbound"           # inbound, outbound or both
    mode = "flat_per_call"           # flat_per_call, per_minute or hybrid
    flat = "0.35"
    per_minute = "0"
    priority = 10
    enabled = true

    [filters]
    suppress = "*xx,911"
    exclude = "1800xxxxxxx,[local]"

Money values are strings (a TOML float cannot hold every cent exactly). Unknown keys are errors,
and every error names the file, the line and the key.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from decimal import Decimal
from functools import partial
from typing import Any, TypeVar

from bridge.rating.errors import InvalidRatingInput
from bridge.rating.filters import FilterSet
from bridge.rating.models import CustomRate, Increment
from bridge.rating.money import parse_amount
from bridge.rating.plan import Package
from bridge.rating.special import (
    BillingMode,
    PatternType,
    RuleDirection,
    SpecialBilling,
    SpecialRule,
)
from bridge.rating.toml_locator import TomlLocator

_TOP_KEYS = {
    "name", "country_code", "exit_code", "local_prefix", "nanp_10_digit", "markup_percent",
    "free_minutes", "bill_inbound", "inbound_rate", "outbound_increment", "inbound_increment",
    "special_billing", "realtime_billing", "custom_rates", "special_rules", "filters",
}  # fmt: skip
_CUSTOM_RATE_KEYS = {"prefix", "rate"}
_RULE_KEYS = {
    "name", "pattern", "type", "direction", "mode", "flat", "per_minute", "priority", "enabled",
}  # fmt: skip
_FILTER_KEYS = {"suppress", "exclude"}


# What the package tables can hold (bridge/store/tables.py): whole numbers are 32-bit INTs, rates
# NUMERIC(18, 8), the markup NUMERIC(9, 4) (its lower bound, above -100 %, is Package's rule).
MAX_WHOLE = 2**31 - 1
MAX_AMOUNT = Decimal("9999999999.99999999")
MAX_MARKUP = Decimal("99999.9999")
# An increment is stored as text of up to 16 characters; a block longer than a day is no tariff's.
MAX_INCREMENT = 86_400

_T = TypeVar("_T")
_D = TypeVar("_D", Decimal, None)


@dataclass(frozen=True, slots=True)
class PackageFile:
    """What a ``PACKAGE.toml`` holds: the package and the product's special billing."""

    package: Package
    special: SpecialBilling
    realtime_billing: bool = False


class PackageFileError(InvalidRatingInput):
    """A ``PACKAGE.toml`` cannot be used; the message names file, line and key."""


def parse_package_toml(text: str, *, source: str = "PACKAGE.toml") -> PackageFile:
    """Parse and validate a ``PACKAGE.toml`` document."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PackageFileError(f"{source}: {exc}") from None
    except RecursionError:
        raise PackageFileError(f"{source}: arrays or tables are nested too deeply") from None
    return _build(data, TomlLocator(text, source))


def _build(data: Mapping[str, Any], where: TomlLocator) -> PackageFile:
    _only(data, _TOP_KEYS, (), where)
    if "country_code" not in data:
        raise PackageFileError(f'{where.at(())}: country_code is required (e.g. "1")')
    filters = data.get("filters", {})
    if not isinstance(filters, dict):
        raise PackageFileError(f"{where.at(('filters',))}: filters must be a [filters] table")
    _only(filters, _FILTER_KEYS, ("filters",), where)
    settings: dict[str, Any] = {
        "name": _text(data, "name", (), where, default=""),
        "country_code": _code(data, "country_code", where),
        "exit_code": _code(data, "exit_code", where) if "exit_code" in data else None,
        "local_prefix": _flag(data, "local_prefix", (), where, default=False),
        "nanp_10_digit": _flag(data, "nanp_10_digit", (), where, default=False),
        "markup_percent": _money_or(data, "markup_percent", (), where, Decimal(0), percent=True),
        "free_minutes": _whole(data, "free_minutes", (), where, default=0),
        "bill_inbound": _flag(data, "bill_inbound", (), where, default=False),
        "inbound_rate": _money_or(data, "inbound_rate", (), where, None),
        "outbound_increment": _increment(data, "outbound_increment", where),
        "inbound_increment": _increment(data, "inbound_increment", where),
    }
    custom_rates = [
        _custom_rate(entry, n, where)
        for n, entry in enumerate(_tables(data, "custom_rates", where))
    ]
    settings["suppress"] = _filters(filters, "suppress", where)
    settings["exclude"] = _filters(filters, "exclude", where)
    package = _package(settings, custom_rates, where)
    rules = tuple(
        _rule(entry, n, where) for n, entry in enumerate(_tables(data, "special_rules", where))
    )
    enabled = _flag(data, "special_billing", (), where, default=False)
    return PackageFile(
        package=package,
        special=SpecialBilling(enabled=enabled, rules=rules),
        realtime_billing=_flag(data, "realtime_billing", (), where, default=False),
    )


def _package(
    settings: Mapping[str, Any], custom_rates: list[CustomRate], where: TomlLocator
) -> Package:
    """Return the package, handing it one setting and one custom rate at a time.

    ``Package`` checks its settings together; given them one by one, a refusal points at the
    line of the setting it refused (a country code, a custom rate's prefix set twice).
    """
    package = _checked(partial(Package, settings["country_code"]), ("country_code",), where)
    for key, value in settings.items():
        path = ("filters", key) if key in _FILTER_KEYS else (key,)
        package = _checked(partial(replace, package, **{key: value}), path, where)
    for n, custom in enumerate(custom_rates):
        added = (*package.custom_rates, custom)
        package = _checked(
            partial(replace, package, custom_rates=added), ("custom_rates", n, "prefix"), where
        )
    return package


def _custom_rate(entry: Mapping[str, Any], n: int, where: TomlLocator) -> CustomRate:
    path = ("custom_rates", n)
    _only(entry, _CUSTOM_RATE_KEYS, path, where)
    prefix = _text(entry, "prefix", path, where)
    rate = _money(entry, "rate", path, where)
    return _checked(lambda: CustomRate(prefix=prefix, rate=rate), (*path, "prefix"), where)


def _rule(entry: Mapping[str, Any], n: int, where: TomlLocator) -> SpecialRule:
    path = ("special_rules", n)
    _only(entry, _RULE_KEYS, path, where)
    pattern_type = _choice(entry, "type", PatternType, path, where, default=PatternType.PREFIX)
    direction = _choice(entry, "direction", RuleDirection, path, where, default=RuleDirection.BOTH)
    mode = _choice(entry, "mode", BillingMode, path, where)
    flat = _money_or(entry, "flat", path, where, Decimal(0))
    per_minute = _money_or(entry, "per_minute", path, where, Decimal(0))
    pattern = _text(entry, "pattern", path, where)
    return _checked(
        lambda: SpecialRule(
            id=n + 1,
            pattern=pattern,
            pattern_type=pattern_type,
            direction=direction,
            mode=mode,
            flat=flat,
            per_minute=per_minute,
            priority=_whole(entry, "priority", path, where, default=10),
            name=_text(entry, "name", path, where, default=""),
            enabled=_flag(entry, "enabled", path, where, default=True),
        ),
        (*path, "pattern"),
        where,
    )


def _checked(build: Callable[[], _T], path: tuple[object, ...], where: TomlLocator) -> _T:
    try:
        return build()
    except PackageFileError:
        raise
    except InvalidRatingInput as exc:
        raise PackageFileError(f"{where.at(path)}: {exc}") from None


def _only(
    table: Mapping[str, Any], allowed: set[str], path: tuple[object, ...], where: TomlLocator
) -> None:
    for key in table:
        if key not in allowed:
            raise PackageFileError(
                f"{where.at((*path, key))}: unknown key {_name((*path, key))!r}; "
                f"expected one of {', '.join(sorted(allowed))}"
            )


def _tables(data: Mapping[str, Any], key: str, where: TomlLocator) -> list[Mapping[str, Any]]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise PackageFileError(f"{where.at((key,))}: {key} must be written as [[{key}]] tables")
    return value


def _text(
    table: Mapping[str, Any],
    key: str,
    path: tuple[object, ...],
    where: TomlLocator,
    *,
    default: str | None = None,
) -> str:
    if key not in table and default is not None:
        return default
    value = table.get(key)
    if not isinstance(value, str):
        raise PackageFileError(f"{where.at((*path, key))}: {_name((*path, key))} must be a string")
    return value


def _code(data: Mapping[str, Any], key: str, where: TomlLocator) -> str:
    value = data[key]
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return _text(data, key, (), where)


def _flag(
    table: Mapping[str, Any],
    key: str,
    path: tuple[object, ...],
    where: TomlLocator,
    *,
    default: bool,
) -> bool:
    value = table.get(key, default)
    if not isinstance(value, bool):
        raise PackageFileError(
            f"{where.at((*path, key))}: {_name((*path, key))} must be true or false"
        )
    return value


def _whole(
    table: Mapping[str, Any],
    key: str,
    path: tuple[object, ...],
    where: TomlLocator,
    *,
    default: int,
) -> int:
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise PackageFileError(
            f"{where.at((*path, key))}: {_name((*path, key))} must be a whole number"
        )
    if value > MAX_WHOLE:
        raise PackageFileError(
            f"{where.at((*path, key))}: {_name((*path, key))} {value} is out of range (0 to "
            f"{MAX_WHOLE:,})"
        )
    return value


def _money(
    table: Mapping[str, Any],
    key: str,
    path: tuple[object, ...],
    where: TomlLocator,
    *,
    percent: bool = False,
) -> Decimal:
    """Return the required amount ``key`` (a string; a percentage may also be an integer)."""
    full, at = _name((*path, key)), where.at((*path, key))
    if key not in table:
        raise PackageFileError(f"{where.at(path)}: {full} is required")
    value = table[key]
    if isinstance(value, float):
        raise PackageFileError(
            f'{at}: write {full} as a string, e.g. {key} = "{value}" (a TOML float cannot hold '
            "every cent exactly)"
        )
    if percent and isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise PackageFileError(f"{at}: {full} must be a string amount")
    try:
        amount = parse_amount(value, name=full)
    except InvalidRatingInput as exc:
        raise PackageFileError(f"{at}: {exc}") from None
    if amount < 0 and not percent:
        raise PackageFileError(f"{at}: {full} is negative")
    # The range is checked first, so the rounding check below is cheap whatever the exponent.
    if percent and not -MAX_MARKUP <= amount <= MAX_MARKUP:
        raise PackageFileError(f"{at}: {full} {value!r} is out of range (up to {MAX_MARKUP:,})")
    if amount > MAX_AMOUNT:
        raise PackageFileError(f"{at}: {full} {value!r} is out of range (0 to {MAX_AMOUNT:,})")
    places = 4 if percent else 8
    if amount != amount.quantize(Decimal(1).scaleb(-places)):
        raise PackageFileError(f"{at}: {full} {value!r} has more than {places} decimal places")
    return amount


def _money_or(
    table: Mapping[str, Any],
    key: str,
    path: tuple[object, ...],
    where: TomlLocator,
    default: _D,
    *,
    percent: bool = False,
) -> Decimal | _D:
    """Return amount ``key`` when present, else ``default``."""
    if key not in table:
        return default
    return _money(table, key, path, where, percent=percent)


def _increment(data: Mapping[str, Any], key: str, where: TomlLocator) -> Increment | None:
    if key not in data:
        return None
    text = _text(data, key, (), where)
    try:
        increment = Increment.parse(text)
    except InvalidRatingInput as exc:
        raise PackageFileError(f"{where.at((key,))}: {exc}") from None
    if max(increment.init, increment.inc) > MAX_INCREMENT:
        raise PackageFileError(
            f"{where.at((key,))}: {key} {text!r} is out of range (blocks of at most "
            f"{MAX_INCREMENT:,} seconds)"
        )
    return increment


def _choice(
    table: Mapping[str, Any],
    key: str,
    kind: Any,
    path: tuple[object, ...],
    where: TomlLocator,
    *,
    default: Any = None,
) -> Any:
    if key not in table and default is not None:
        return default
    value = table.get(key)
    choices = [member.value for member in kind]
    if value not in choices:
        raise PackageFileError(
            f"{where.at((*path, key))}: {_name((*path, key))} {value!r} is not one of "
            f"{', '.join(choices)}"
        )
    return kind(value)


def _filters(filters: Mapping[str, Any], key: str, where: TomlLocator) -> FilterSet:
    text = _text(filters, key, ("filters",), where, default="")
    try:
        return FilterSet.parse(text)
    except InvalidRatingInput as exc:
        raise PackageFileError(f"{where.at(('filters', key))}: {exc}") from None


def _name(path: tuple[object, ...]) -> str:
    parts: list[str] = []
    for part in path:
        if isinstance(part, int):
            parts[-1] += f"[{part + 1}]"
        else:
            parts.append(str(part))
    return ".".join(parts)
