"""PACKAGE.toml: a whole package read from a file, with errors that name file, line and key."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bridge.errors import BridgeError
from bridge.rating.models import Increment
from bridge.rating.package_toml import PackageFile, PackageFileError, parse_package_toml
from bridge.rating.special import BillingMode, PatternType, RuleDirection
from tests.hostile import NUMBERISH

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
            (
                'country_code = "1"\nfilters = "911"\n',
                r"PACKAGE.toml:2: filters must be a \[filters\] table",
            ),
            (
                'country_code = "1"\ncustom_rates = "1876=0.18"\n',
                r"PACKAGE.toml:2: custom_rates must be written as \[\[custom_rates\]\] tables",
            ),
            ('country_code = "1"\nname = 5\n', r"PACKAGE.toml:2: name must be a string$"),
            (
                'country_code = "1"\nbill_inbound = "yes"\n',
                r"PACKAGE.toml:2: bill_inbound must be true or false$",
            ),
            (
                'country_code = "1"\n[[special_rules]]\npattern = "1300"\nmode = "hybrid"\n'
                'priority = "high"\n',
                r"PACKAGE.toml:5: special_rules\[1\].priority must be a whole number$",
            ),
            (
                'country_code = "1"\n[[custom_rates]]\nprefix = "1876"\n',
                r"PACKAGE.toml:2: custom_rates\[1\].rate is required$",
            ),
            (
                'country_code = "1"\ninbound_rate = 5\n',
                r"PACKAGE.toml:2: inbound_rate must be a string amount$",
            ),
            (
                'country_code = "1"\nmarkup_percent = true\n',
                r"PACKAGE.toml:2: markup_percent must be a string amount$",
            ),
            (
                'country_code = "1"\ninbound_rate = "five cents"\n',
                r"PACKAGE.toml:2: inbound_rate 'five cents' is not a number$",
            ),
            (
                'country_code = "1"\n[filters]\nsuppress = "911"\nexclude = "1800-xxx"\n',
                r"PACKAGE.toml:4: filter pattern '1800-xxx' may hold only digits",
            ),
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
            "filters-not-a-table",
            "custom-rates-not-tables",
            "name-not-text",
            "flag-not-bool",
            "rule-priority-not-whole",
            "custom-rate-without-rate",
            "amount-not-text",
            "percent-not-text",
            "amount-not-a-number",
            "bad-filter",
        ],
    )
    def test_errors_name_file_line_and_key(self, text: str, expected: str) -> None:
        """Each mistake is reported with the line it is on and what was expected."""
        with pytest.raises(PackageFileError, match=expected):
            parse_package_toml(text)

    @pytest.mark.parametrize(
        ("line", "expected"),
        [
            (
                'markup_percent = "99999999999"',
                "PACKAGE.toml:2: markup_percent '99999999999' is out of range",
            ),
            (
                'markup_percent = "-1e999999"',
                "PACKAGE.toml:2: markup_percent '-1e999999' is out of range",
            ),
            (
                'markup_percent = "10.00001"',
                "PACKAGE.toml:2: markup_percent '10.00001' has more than 4",
            ),
            (
                'inbound_rate = "1e999999"',
                "PACKAGE.toml:2: inbound_rate '1e999999' is out of range",
            ),
            (
                'inbound_rate = "Infinity"',
                "PACKAGE.toml:2: inbound_rate 'Infinity' is not a finite",
            ),
            (
                'inbound_rate = "0.000000001"',
                "PACKAGE.toml:2: inbound_rate '0.000000001' has more than 8",
            ),
            (
                "free_minutes = 2147483648",
                "PACKAGE.toml:2: free_minutes 2147483648 is out of range",
            ),
            (
                'outbound_increment = "99999999999999999999/60"',
                "PACKAGE.toml:2: outbound_increment '99999999999999999999/60' is out of range",
            ),
            (
                '[[special_rules]]\npattern = "1900"\nmode = "flat_per_call"\nflat = "1"\n'
                "priority = 9999999999",
                "PACKAGE.toml:6: special_rules[1].priority 9999999999 is out of range",
            ),
            (
                "x = " + "[" * 100_000 + "]" * 100_000,
                "PACKAGE.toml: arrays or tables are nested too deeply",
            ),
        ],
        ids=[
            "huge-markup",
            "hostile-markup",
            "markup-decimals",
            "hostile-rate",
            "infinite-rate",
            "rate-decimals",
            "free-minutes",
            "increment",
            "priority",
            "deep-nesting",
        ],
    )
    def test_values_their_columns_cannot_hold_are_refused(self, line: str, expected: str) -> None:
        """Numbers beyond what the package tables hold, and hostile nesting, name file and line."""
        with pytest.raises(PackageFileError) as caught:
            parse_package_toml(f'country_code = "1"\n{line}\n')

        assert str(caught.value).startswith(expected)

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            (
                'name = "X"\ncountry_code = "01"\n',
                "PACKAGE.toml:2: country code '01' cannot start with 0",
            ),
            (
                'name = "X"\ncountry_code = "1234"\n',
                "PACKAGE.toml:2: country code '1234' is longer than 3 digits",
            ),
            (
                'name = "X"\ncountry_code = -1\n',
                "PACKAGE.toml:2: country code must be digits only, not '-1'",
            ),
            (
                'country_code = "1"\nexit_code = "0x1"\n',
                "PACKAGE.toml:2: international exit code must be digits only, not '0x1'",
            ),
            (
                'country_code = "1"\nfree_minutes = 5\nmarkup_percent = "-100"\n',
                "PACKAGE.toml:3: markup -100% would make rates zero or negative",
            ),
            (
                'name = "X"\ncountry_code = "1"\n\n[[custom_rates]]\nprefix = "1876"\n'
                'rate = "0.18"\n\n[[custom_rates]]\nprefix = "44"\nrate = "0.02"\n\n'
                '[[custom_rates]]\nprefix = "1876"\nrate = "0.20"\n',
                "PACKAGE.toml:13: package 'X': custom rate prefix 1876 is set twice "
                "(0.18 and 0.20)",
            ),
        ],
        ids=[
            "country-code-zero",
            "country-code-long",
            "country-code-sign",
            "exit-code",
            "markup",
            "custom-rate-twice",
        ],
    )
    def test_package_checks_name_the_line_of_the_setting(self, text: str, expected: str) -> None:
        """A setting the package refuses is reported on its own line, not the file's first."""
        with pytest.raises(PackageFileError) as caught:
            parse_package_toml(text)
        assert str(caught.value) == expected

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            (
                'country_code = "1"\nspecial_rules = [{ pattern = "1300", mode = "flat" }]\n',
                "PACKAGE.toml: special_rules[1].mode 'flat' is not one of flat_per_call, "
                "per_minute, hybrid",
            ),
            (
                'country_code = "1"\n"free_minutes" = "lots"\n',
                "PACKAGE.toml: free_minutes must be a whole number",
            ),
        ],
        ids=["inline-array-of-tables", "quoted-key"],
    )
    def test_unlocated_key_is_reported_with_the_file_and_key(
        self, text: str, expected: str
    ) -> None:
        """A key written where no line can be found for it still names the file and the key."""
        with pytest.raises(PackageFileError) as caught:
            parse_package_toml(text)
        assert str(caught.value) == expected

    def test_integers_where_the_format_allows_them(self) -> None:
        """A country code and a markup percentage may be written as TOML integers."""
        package = parse_package_toml("country_code = 44\nmarkup_percent = 15\n").package

        assert (package.country_code, package.markup_percent) == ("44", Decimal(15))


_TOML_KEYS = [
    "name", "country_code", "exit_code", "markup_percent", "free_minutes", "inbound_rate",
    "outbound_increment", "bill_inbound", "special_billing", "priority", "rate", "prefix",
]  # fmt: skip
_TOML_VALUES = st.recursive(
    st.integers(min_value=-(2**80), max_value=2**80).map(str)
    | st.floats().map(repr)
    | st.sampled_from(["true", "false", '"1e999999"', '"-1e999999"', '"Infinity"', '"NaN"'])
    | st.text(max_size=40).map(json.dumps)
    | NUMBERISH.map(json.dumps),
    lambda inner: st.lists(inner, max_size=4).map(lambda items: f"[{', '.join(items)}]"),
    max_leaves=12,
)
_TOML_LINES = st.tuples(st.sampled_from(_TOML_KEYS) | st.text(max_size=10), _TOML_VALUES).map(
    lambda pair: f"{pair[0]} = {pair[1]}"
) | st.sampled_from(["[[custom_rates]]", "[[special_rules]]", "[filters]", "[x", "]]"])


class TestHostileToml:
    @settings(max_examples=200, deadline=timedelta(seconds=1))
    @given(
        text=st.lists(_TOML_LINES, max_size=12).map("\n".join)
        | st.text(max_size=500)
        | st.binary(max_size=500).map(lambda data: data.decode("utf-8", "replace"))
    )
    def test_any_text_is_a_package_or_a_package_error(self, text: str) -> None:
        """Whatever the file holds, reading it gives a package or a bridge error, quickly."""
        outcome: object
        try:
            outcome = parse_package_toml(text)
        except BridgeError as exc:
            outcome = exc.message
        assert isinstance(outcome, PackageFile) or (isinstance(outcome, str) and outcome)
