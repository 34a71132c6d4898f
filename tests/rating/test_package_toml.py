"""PACKAGE.toml: a whole package read from a file, with errors that name file, line and key."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bridge.rating.models import Increment
from bridge.rating.package_toml import PackageFileError, parse_package_toml
from bridge.rating.special import BillingMode, PatternType, RuleDirection

FULL = """\
name = "Canada Metered"
country_code = "1"
local_prefix = false
nanp_10_digit = true
markup_percent = "10"
free_minutes = 100
bill_inbound = true
inbound_rate = "0.0050"
outbound_increment = "60/6"
inbound_increment = "30/6"
special_billing = true

[[custom_rates]]
prefix = "1876"
rate = "0.1800"

[[special_rules]]
name = "AU 1300"
pattern = "1300*"
type = "prefix"
direction = "outbound"
mode = "flat_per_call"
flat = "0.35"
priority = 20

[[special_rules]]
name = "Premium"
pattern = "1900[0-9]{6}"
type = "regex"
direction = "both"
mode = "hybrid"
flat = "0.10"
per_minute = "0.50"
enabled = false

[filters]
suppress = "*xx,911"
exclude = "1800xxxxxxx,[local]"
"""


class TestParsePackageToml:
    def test_every_documented_key_is_read(self) -> None:
        """A full file becomes the package, custom rates, rules and filters it describes."""
        parsed = parse_package_toml(FULL)
        package = parsed.package

        assert (package.name, package.country_code, package.international_exit_code) == (
            "Canada Metered",
            "1",
            "011",
        )
        assert (package.nanp_10_digit, package.bill_inbound, package.local_prefix) == (
            True,
            True,
            False,
        )
        assert package.markup_percent == Decimal("10")
        assert package.inbound_rate == Decimal("0.0050")
        assert package.outbound_increment == Increment(60, 6)
        assert package.inbound_increment == Increment(30, 6)
        assert [(c.prefix, c.rate) for c in package.custom_rates] == [("1876", Decimal("0.1800"))]
        assert str(package.suppress) == "*xx,911"
        assert parsed.special.enabled
        first, second = parsed.special.rules
        assert (first.pattern_type, first.direction, first.mode) == (
            PatternType.PREFIX,
            RuleDirection.OUTBOUND,
            BillingMode.FLAT_PER_CALL,
        )
        assert (first.flat, first.priority, first.id) == (Decimal("0.35"), 20, 1)
        assert (second.mode, second.enabled, second.per_minute) == (
            BillingMode.HYBRID,
            False,
            Decimal("0.50"),
        )

    def test_minimal_file(self) -> None:
        """Only country_code is required; everything else has the documented default."""
        parsed = parse_package_toml('country_code = "44"\n')

        assert parsed.package.international_exit_code == "00"
        assert parsed.package.free_minutes == 0
        assert not parsed.special.enabled

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ('country_code = "1"\nmarkup = "5"\n', r"PACKAGE.toml:2: unknown key 'markup'"),
            (
                'country_code = "1"\ninbound_rate = 0.005\n',
                r"PACKAGE.toml:2: write inbound_rate as a string",
            ),
            (
                'country_code = "1"\nfree_minutes = "lots"\n',
                r"PACKAGE.toml:2: free_minutes must be a whole number",
            ),
            ('country_code = "1"\noutbound_increment = "six"\n', r"PACKAGE.toml:2: .*init/inc"),
            ("free_minutes = 5\n", r"country_code is required"),
            (
                'country_code = "1"\n\n[[special_rules]]\npattern = "1300"\nmode = "flat"\n',
                r"PACKAGE.toml:5: special_rules\[1\].mode 'flat' is not one of flat_per_call",
            ),
            (
                'country_code = "1"\n[[special_rules]]\npattern = "1300"\nmode = "hybrid"\n'
                '[[special_rules]]\npattern = "(1+)+"\ntype = "regex"\nmode = "per_minute"\n',
                r"PACKAGE.toml:6: .*",
            ),
            (
                'country_code = "1"\n[[custom_rates]]\nprefix = "1876"\nrate = "-1"\n',
                r"PACKAGE.toml:4: .*negative",
            ),
            (
                'country_code = "1"\n[[custom_rates]]\nprefix = "18x6"\nrate = "1"\n',
                r"PACKAGE.toml:3: .*digits",
            ),
            (
                'country_code = "1"\n[filters]\nblock = "911"\n',
                r"PACKAGE.toml:3: unknown key 'filters.block'",
            ),
            ('country_code = "1\n', r"PACKAGE.toml: .*line 1"),
        ],
        ids=[
            "unknown-key",
            "float-money",
            "not-a-number",
            "bad-increment",
            "no-country",
            "bad-mode",
            "catastrophic-regex",
            "negative-rate",
            "bad-prefix",
            "unknown-filter",
            "syntax",
        ],
    )
    def test_errors_name_file_line_and_key(self, text: str, expected: str) -> None:
        """Each mistake is reported with the line it is on and what was expected."""
        with pytest.raises(PackageFileError, match=expected):
            parse_package_toml(text)
