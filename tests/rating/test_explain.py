"""Tests of the debug trace every rated call can print."""

from __future__ import annotations

from decimal import Decimal

from bridge.rating import (
    BillingMode,
    CustomRate,
    Increment,
    Package,
    PatternType,
    RuleDirection,
    SpecialBilling,
    SpecialRule,
    explain_call,
    rate_calls,
)
from tests.rating.builders import make_cdr, make_plan, make_row, make_tariff

DOCUMENTED_RULES = (
    SpecialRule(
        1,
        "1800",
        PatternType.PREFIX,
        RuleDirection.OUTBOUND,
        BillingMode.FLAT_PER_CALL,
        flat=Decimal("0.35"),
        priority=20,
    ),
    SpecialRule(
        2,
        "1300",
        PatternType.PREFIX,
        RuleDirection.OUTBOUND,
        BillingMode.FLAT_PER_CALL,
        flat=Decimal("0.35"),
        priority=15,
    ),
    SpecialRule(
        3,
        r"13\d{4}",
        PatternType.REGEX,
        RuleDirection.OUTBOUND,
        BillingMode.HYBRID,
        flat=Decimal("0.20"),
        per_minute=Decimal("0.03"),
        priority=10,
    ),
)
SPECIAL_PLAN = make_plan(Package("61"), special=SpecialBilling(True, DOCUMENTED_RULES))


class TestSpecialRateCheck:
    """Special-rate calls explain themselves in the documented debug block."""

    def test_documented_block(self) -> None:
        """A 1300 call prints the rules checked in order, the match, mode and flat rate."""
        (call,) = rate_calls([make_cdr("1300123456", 95)], SPECIAL_PLAN).calls
        assert explain_call(call, SPECIAL_PLAN) == (
            "=== SPECIAL RATE CHECK ===\n"
            "Destination: 1300123456\n"
            "Checking pattern: 1800 (priority: 20) - NO MATCH\n"
            "Checking pattern: 1300 (priority: 15) - MATCH!\n"
            "Billing Mode: flat_per_call\n"
            "Flat Rate: $0.35\n"
            "Billed Seconds: 120 (increment 60/60, default)\n"
            "Cost: $0.350000\n"
            "==========================="
        )

    def test_hybrid_regex_rule_shows_both_amounts(self) -> None:
        """A hybrid rule prints its flat and per-minute rates and the package increment."""
        package = Package("61", outbound_increment=Increment(60, 6))
        plan = make_plan(package, special=SpecialBilling(True, DOCUMENTED_RULES))
        (call,) = rate_calls([make_cdr("131234", 61)], plan).calls
        text = explain_call(call, plan)
        assert "Checking pattern: 13\\d{4} (priority: 10) - MATCH!" in text
        assert "Flat Rate: $0.20\nPer Minute Rate: $0.03\n" in text
        # 61 s -> 66 s: 0.20 + 0.03 x 66 / 60 = 0.233.
        assert "Billed Seconds: 66 (increment 60/6, package outbound)\nCost: $0.233000" in text

    def test_per_minute_rule_shows_no_flat_rate(self) -> None:
        """A per-minute rule prints its per-minute rate only: it has no flat part to show."""
        per_minute = SpecialRule(
            4,
            "1900",
            PatternType.PREFIX,
            RuleDirection.OUTBOUND,
            BillingMode.PER_MINUTE,
            per_minute=Decimal("0.50"),
        )
        plan = make_plan(Package("61"), special=SpecialBilling(True, (per_minute,)))
        (call,) = rate_calls([make_cdr("1900123456", 61)], plan).calls
        # 61 s -> 120 s under the default 60/60: 0.50 x 2 = 1.00.
        assert explain_call(call, plan).splitlines()[3:7] == [
            "Billing Mode: per_minute",
            "Per Minute Rate: $0.50",
            "Billed Seconds: 120 (increment 60/60, default)",
            "Cost: $1.000000",
        ]

    def test_unmatched_call_lists_every_rule_checked(self) -> None:
        """A call no rule matches shows each rule as NO MATCH and says it is not billed."""
        (call,) = rate_calls([make_cdr("12125550100", 60)], SPECIAL_PLAN).calls
        lines = explain_call(call, SPECIAL_PLAN).splitlines()
        assert lines[2:5] == [
            "Checking pattern: 1800 (priority: 20) - NO MATCH",
            "Checking pattern: 1300 (priority: 15) - NO MATCH",
            "Checking pattern: 13\\d{4} (priority: 10) - NO MATCH",
        ]
        assert lines[5] == "No pattern matched: not billed and hidden from the client area"

    def test_without_the_plan_only_the_matching_rule_is_named(self) -> None:
        """Without the plan the trace still names the rule that billed the call."""
        (call,) = rate_calls([make_cdr("1300123456", 95)], SPECIAL_PLAN).calls
        assert "Matched pattern: 1300 (priority: 15) - MATCH!" in explain_call(call)


class TestRateCheck:
    """Standard calls explain the number, rate, markup, increment and free seconds."""

    def test_tariff_call_with_markup(self) -> None:
        """A tariff call shows normalisation, E.164 verdict, markup, increment and cost."""
        package = Package(
            "1",
            nanp_10_digit=True,
            markup_percent=Decimal(10),
            outbound_increment=Increment(60, 6),
        )
        plan = make_plan(package)
        (call,) = rate_calls([make_cdr("876 555 0100", 95, uuid="abc")], plan).calls
        assert explain_call(call, plan, currency_prefix="", currency_suffix=" USD") == (
            "=== RATE CHECK ===\n"
            "CDR: abc (outbound, 2025-12-29 09:00:00 UTC, billsec 95)\n"
            "Number: 876 555 0100 -> 18765550100 (E.164: valid)\n"
            "Status: billed (Standard): tariff prefix 1876 (Jamaica) at 0.275/min\n"
            "Rate: tariff prefix 1876 (Jamaica): 0.2500/min + 10% markup = 0.275/min\n"
            "Increment: 60/6 (package outbound): 96 billed seconds\n"
            "Free Seconds: 0\n"
            "Connection Fee: 0.00 USD\n"
            "Cost: 0.440000 USD\n"
            "==========================="
        )

    def test_custom_rate_says_no_markup(self) -> None:
        """A custom-rate call says the markup does not apply to it."""
        package = Package(
            "1", markup_percent=Decimal(10), custom_rates=(CustomRate("1876", Decimal("0.15")),)
        )
        (call,) = rate_calls([make_cdr("18765550100", 60)], make_plan(package)).calls
        assert "Rate: custom prefix 1876 (Jamaica): 0.15/min (no markup on custom rates)" in (
            explain_call(call)
        )

    def test_filtered_call_names_the_filter(self) -> None:
        """An excluded call's trace names the pattern that excluded it and stops there."""
        plan = make_plan(provider_exclude="1800xxxxxxx")
        (call,) = rate_calls([make_cdr("18005550100", 60)], plan).calls
        lines = explain_call(call, plan).splitlines()
        assert (
            lines[3] == "Status: excluded (Standard): exclude filter 1800xxxxxxx: shown, not billed"
        )
        assert lines[4] == "==========================="

    def test_sub_cent_fees_keep_their_digits(self) -> None:
        """A connection fee below a cent is shown in full, not rounded for display."""
        tariff = make_tariff([make_row("44", "0.02", 60, connection_fee="0.005")])
        (call,) = rate_calls([make_cdr("442079460018", 60)], make_plan(tariff=tariff)).calls
        assert "Connection Fee: $0.005\n" in explain_call(call)

    def test_a_zero_kept_at_many_places_reads_as_cents(self) -> None:
        """A zero fee stored at 8 places (0E-8) reads $0.00, never in exponent notation."""
        tariff = make_tariff([make_row("44", "0.02", 60, connection_fee="0.00000000")])
        (call,) = rate_calls([make_cdr("442079460018", 60)], make_plan(tariff=tariff)).calls
        text = explain_call(call)
        assert "Connection Fee: $0.00\n" in text
        assert "E-" not in text
