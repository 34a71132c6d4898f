"""Writing a package back out as ``PACKAGE.toml`` (``bridge package show``)."""

from __future__ import annotations

import json
from decimal import Decimal

from bridge.rating.package_toml import PackageFile


def package_toml(file: PackageFile) -> str:
    """Return ``file`` written back as ``PACKAGE.toml`` text that parses to the same values."""
    package = file.package
    lines = [f"name = {_quote(package.name)}"] if package.name else []
    lines.append(f"country_code = {_quote(package.country_code)}")
    if package.exit_code is not None:
        lines.append(f"exit_code = {_quote(package.exit_code)}")
    lines += [
        f"local_prefix = {_bool(package.local_prefix)}",
        f"nanp_10_digit = {_bool(package.nanp_10_digit)}",
        f"markup_percent = {_quote(_plain(package.markup_percent))}",
        f"free_minutes = {package.free_minutes}",
        f"bill_inbound = {_bool(package.bill_inbound)}",
    ]
    if package.inbound_rate is not None:
        lines.append(f"inbound_rate = {_quote(_plain(package.inbound_rate))}")
    for key, increment in (
        ("outbound_increment", package.outbound_increment),
        ("inbound_increment", package.inbound_increment),
    ):
        if increment is not None:
            lines.append(f"{key} = {_quote(str(increment))}")
    lines.append(f"special_billing = {_bool(file.special.enabled)}")
    lines.append(f"realtime_billing = {_bool(file.realtime_billing)}")
    for custom in package.custom_rates:
        lines += ["", "[[custom_rates]]", f"prefix = {_quote(custom.prefix)}"]
        lines.append(f"rate = {_quote(_plain(custom.rate))}")
    for rule in file.special.rules:
        lines += [
            "",
            "[[special_rules]]",
            f"name = {_quote(rule.name)}",
            f"pattern = {_quote(rule.pattern)}",
            f"type = {_quote(rule.pattern_type.value)}",
            f"direction = {_quote(rule.direction.value)}",
            f"mode = {_quote(rule.mode.value)}",
            f"flat = {_quote(_plain(rule.flat))}",
            f"per_minute = {_quote(_plain(rule.per_minute))}",
            f"priority = {rule.priority}",
            f"enabled = {_bool(rule.enabled)}",
        ]
    lines += [
        "",
        "[filters]",
        f"suppress = {_quote(str(package.suppress))}",
        f"exclude = {_quote(str(package.exclude))}",
    ]
    return "\n".join(lines) + "\n"


def _quote(text: str) -> str:
    # JSON string escapes are valid TOML basic-string escapes.
    return json.dumps(text, ensure_ascii=False)


def _bool(value: bool) -> str:
    return "true" if value else "false"


def _plain(amount: Decimal) -> str:
    return f"{amount.normalize():f}"
