"""Tests of invoice grouping: documented wording, one rounding per line."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bridge.rating import (
    BillingMode,
    CallType,
    Direction,
    Increment,
    InvoiceLine,
    Package,
    PatternType,
    RuleDirection,
    SpecialBilling,
    SpecialRule,
    Status,
    group_calls,
    invoice_sections,
    rate_calls,
    round_total,
    summarise,
    total_of,
)
from bridge.rating.groups import format_minutes
from tests.rating.builders import make_cdr, make_inbound, make_plan, make_row, make_tariff

PERIOD = {"period_start": date(2025, 12, 29), "period_end": date(2026, 1, 29)}


def flat_rule(rule_id: int, pattern: str, priority: int) -> SpecialRule:
    """Return an outbound flat 0.35 prefix rule."""
    return SpecialRule(
        rule_id,
        pattern,
        PatternType.PREFIX,
        RuleDirection.OUTBOUND,
        BillingMode.FLAT_PER_CALL,
        flat=Decimal("0.35"),
        priority=priority,
    )


class TestSpecialRateLines:
    """Special-rate calls group by rule and direction in the documented wording."""

    def test_documented_invoice_block(self) -> None:
        """The documentation's example invoice block comes out line for line."""
        rules = (flat_rule(1, "1800", 20), flat_rule(2, "1300", 15), flat_rule(3, "13", 10))
        package = Package("61", outbound_increment=Increment(60, 6))
        plan = make_plan(package, special=SpecialBilling(True, rules))
        # 1300: 60 + 120 + 180 + 300 = 660 s = 11 min, 4 x 0.35 = 1.40.
        # 1800: 342 s = 60 + 47 blocks of 6 = 5.7 min. 13: 246 s = 4.1 min.
        billsecs = [("1300123456", 60), ("1300123457", 120), ("1800123456", 342)]
        billsecs += [("1300123458", 180), ("131234", 246), ("1300123459", 300)]
        cdrs = [make_cdr(n, s, uuid=str(i), minute=i) for i, (n, s) in enumerate(billsecs)]
        (section,) = invoice_sections(rate_calls(cdrs, plan).calls, **PERIOD)
        assert section.text(currency_prefix="$") == (
            "Special Rate Calls (29/12/2025 to 29/01/2026)\n"
            "[OUTBOUND] 1300* (flat_per_call): 4 calls, 11 min, $1.40\n"
            "[OUTBOUND] 1800* (flat_per_call): 1 call, 5.7 min, $0.35\n"
            "[OUTBOUND] 13* (flat_per_call): 1 call, 4.1 min, $0.35"
        )

    def test_one_line_per_direction_of_a_both_rule(self) -> None:
        """A rule for both directions yields an outbound line and an inbound line."""
        rule = SpecialRule(
            1,
            "1300",
            PatternType.PREFIX,
            RuleDirection.BOTH,
            BillingMode.FLAT_PER_CALL,
            flat=Decimal("0.35"),
        )
        plan = make_plan(Package("61"), special=SpecialBilling(True, (rule,)))
        calls = rate_calls([make_cdr("1300123456"), make_inbound("1300123456")], plan).calls
        lines = group_calls(calls)
        assert [(line.direction, line.calls) for line in lines] == [
            ("outbound", 1),
            ("inbound", 1),
        ]


class TestUsageLines:
    """Standard calls group by direction and destination description."""

    def test_lines_group_by_description_and_round_once(self) -> None:
        """Calls to two prefixes with one description share a line; the sum is rounded once."""
        tariff = make_tariff(
            [
                make_row("1212", "0.004", 60, description="USA"),
                make_row("1646", "0.004", 60, description="USA"),
                make_row("1876", "0.25", 60, description="Jamaica"),
            ]
        )
        package = Package("1", bill_inbound=True, inbound_rate=Decimal("0.01"), free_minutes=1)
        cdrs = [
            make_cdr("18765550100", 60, uuid="j", minute=0),
            make_cdr("12125550100", 60, uuid="u1", minute=1),
            make_cdr("16465550100", 60, uuid="u2", minute=2),
            make_cdr("12125550101", 60, uuid="u3", minute=3),
            make_inbound(billsec=90, uuid="in", minute=4),
        ]
        (section,) = invoice_sections(
            rate_calls(cdrs, make_plan(package, tariff=tariff)).calls, **PERIOD
        )
        # Jamaica's minute is free. USA: 3 x 0.004 = 0.012 -> 0.01 on the sum (0.00 per call).
        # Inbound: 90 s on 60/60 -> 120 s x 0.01 = 0.02.
        assert section.text(currency_prefix="$", currency_suffix=" USD") == (
            "Call Usage (29/12/2025 to 29/01/2026)\n"
            "[OUTBOUND] USA: 3 calls, 3 min, $0.01 USD\n"
            "[OUTBOUND] Jamaica: 1 call, 1 min (1 min free), $0.00 USD\n"
            "[INBOUND] Inbound calls: 1 call, 2 min, $0.02 USD"
        )

    def test_unbilled_calls_are_not_invoiced(self) -> None:
        """Only billed calls make lines; with none, there are no sections at all."""
        calls = rate_calls([make_cdr("99912345"), make_cdr(billsec=0)], make_plan()).calls
        assert group_calls(calls) == ()
        assert invoice_sections(calls, **PERIOD) == ()

    @pytest.mark.parametrize(
        ("seconds", "text"),
        [(660, "11"), (342, "5.7"), (246, "4.1"), (90, "1.5"), (3, "0.1"), (2, "0"), (0, "0")],
    )
    def test_minutes_show_one_decimal_at_most(self, seconds: int, text: str) -> None:
        """Minutes print to one decimal, half-up, without a trailing .0."""
        assert format_minutes(seconds) == text


def _expected_amounts(calls: list[tuple[str, Decimal]]) -> dict[str, Decimal]:
    """Return, per label, the rounded sum of the costs listed under it."""
    by_label: dict[str, list[Decimal]] = defaultdict(list)
    for label, cost in calls:
        by_label[label].append(cost)
    return {label: round_total(sum(costs, Decimal(0))) for label, costs in by_label.items()}


class TestProperties:
    """Group totals are the rounded sums of their calls' costs."""

    @given(
        durations=st.lists(
            st.tuples(st.sampled_from(["1212", "1646", "1876", "44"]), st.integers(0, 900)),
            max_size=40,
        ),
        rate=st.decimals(min_value=0, max_value=1, places=4),
    )
    def test_group_totals_equal_the_rounded_sum_of_call_costs(
        self, durations: list[tuple[str, int]], rate: Decimal
    ) -> None:
        """Each line's amount is its calls' exact sum rounded once; every billed call is counted."""
        tariff = make_tariff(
            [
                make_row("1212", str(rate), 6, description="USA"),
                make_row("1646", str(rate), 6, description="USA"),
                make_row("1876", "0.2513", 60, description="Jamaica"),
            ]
        )
        cdrs = [make_cdr(p + "5550100", s, uuid=str(i)) for i, (p, s) in enumerate(durations)]
        calls = rate_calls(cdrs, make_plan(tariff=tariff)).calls
        lines = group_calls(calls)
        billed = [c for c in calls if c.status is Status.BILLED]
        expected = _expected_amounts([(c.description, c.cost) for c in billed])
        assert {line.label: line.amount for line in lines} == expected
        assert sum(line.calls for line in lines) == len(billed)
        assert sum(line.billed_seconds for line in lines) == sum(c.billed_seconds for c in billed)
        # Rounding per line moves the invoice total at most half a cent per line.
        drift = abs(
            sum((line.amount for line in lines), Decimal(0)) - total_of(c.cost for c in billed)
        )
        assert drift <= Decimal("0.005") * len(lines)


class TestSummary:
    """The batch summary the CLI prints."""

    def test_summary_counts_and_total(self) -> None:
        """The summary counts calls per status and totals billed seconds and cost."""
        plan = make_plan(Package("1", free_minutes=1))
        cdrs = [
            make_cdr("18765550100", 95, uuid="a", minute=0),
            make_cdr("99912345", 30, uuid="b", minute=1),
            make_cdr("12125550100", 0, uuid="c", minute=2),
        ]
        summary = summarise(rate_calls(cdrs, plan).calls)
        # Jamaica 95 s on 60/60 -> 120 s, 60 s free: 0.25 x 60 / 60 = 0.25.
        assert (summary.calls, summary.billed_calls, summary.no_rate) == (3, 1, 1)
        assert (summary.billed_seconds, summary.free_seconds) == (120, 60)
        assert str(summary.cost) == "0.25"
        assert summary.by_status[Status.UNANSWERED] == 1
        assert summary.by_status[Status.SUPPRESSED] == 0

    def test_invoice_line_text_without_currency(self) -> None:
        """A line renders without currency symbols when none are given."""
        line = InvoiceLine(CallType.STANDARD, Direction.OUTBOUND, "UK", 2, 90, 0, Decimal("0.125"))
        assert line.text() == "[OUTBOUND] UK: 2 calls, 1.5 min, 0.13"
