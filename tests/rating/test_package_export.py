"""Packages written back as PACKAGE.toml read back to the same values."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from bridge.rating.package_export import package_toml
from bridge.rating.package_toml import parse_package_toml

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"


@pytest.mark.parametrize("name", ["package-au.toml", "package-au-1300.toml"])
def test_export_parses_back_identically(name: str) -> None:
    """Every package setting, custom rate, rule and filter survives a write and re-read."""
    original = parse_package_toml((EXAMPLES / name).read_text())

    again = parse_package_toml(package_toml(original))

    assert again.package == original.package
    assert again.special.rules == original.special.rules
    assert again.special.enabled == original.special.enabled
    assert again.realtime_billing == original.realtime_billing


def test_patterns_with_quotes_and_backslashes_survive() -> None:
    """A regex with backslashes and a name with quotes are escaped, not mangled."""
    text = (
        'country_code = "1"\n[[special_rules]]\nname = "Say \\"hi\\""\n'
        'pattern = "900\\\\d{7}"\ntype = "regex"\nmode = "per_minute"\nper_minute = "2"\n'
    )
    original = parse_package_toml(text)

    rule = parse_package_toml(package_toml(original)).special.rules[0]

    assert (rule.name, rule.pattern) == ('Say "hi"', r"900\d{7}")


def test_flat_inbound_rate_is_written_as_a_string_amount() -> None:
    """A flat inbound rate is written as an exact string and reads back to the same Decimal."""
    original = parse_package_toml(
        'country_code = "44"\nbill_inbound = true\ninbound_rate = "0.0050"\n'
    )

    text = package_toml(original)

    assert 'inbound_rate = "0.005"\n' in text
    assert parse_package_toml(text).package.inbound_rate == Decimal("0.005")
