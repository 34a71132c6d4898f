"""Tests of the rating engine: DESIGN §5 steps 1-10 with hand-computed cents."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bridge.rating import (
    BillingMode,
    CallType,
    Cdr,
    CustomRate,
    Direction,
    FilterSet,
    Increment,
    InvalidRatingInput,
    Package,
    PatternType,
    RatedCall,
    RatePlan,
    RateSource,
    RuleDirection,
    SpecialBilling,
    SpecialRule,
    Status,
    iter_rated_calls,
    normalise_number,
    rate_calls,
)
from tests.rating.builders import make_cdr, make_inbound, make_plan, make_row, make_tariff


def rate_one(cdr: Cdr, plan: RatePlan) -> RatedCall:
    """Return the single rated call of a one-CDR batch."""
    (call,) = rate_calls([cdr], plan).calls
    return call


def special_rule(
    rule_id: int,
    pattern: str,
    mode: BillingMode = BillingMode.FLAT_PER_CALL,
    *,
    flat: str = "0.35",
    per_minute: str = "0",
    priority: int = 10,
    direction: RuleDirection = RuleDirection.OUTBOUND,
    enabled: bool = True,
) -> SpecialRule:
    """Return a prefix rule with the documented defaults (flat 0.35, priority 10)."""
    return SpecialRule(
        rule_id,
        pattern,
        PatternType.PREFIX,
        direction,
        mode,
        flat=Decimal(flat),
        per_minute=Decimal(per_minute),
        priority=priority,
        enabled=enabled,
    )


class TestStandardRates:
    """Outbound calls: custom rate, else tariff with markup; billed seconds; cost."""

    @pytest.mark.parametrize(
        ("package", "number", "billsec", "prefix", "billed", "cost"),
        [
            # Markup: Jamaica 0.25 x 1.10 = 0.275/min; 60/6 bills 95 s as 96 s;
            # 0.275 x 96 / 60 = 0.44.
            (
                Package("1", markup_percent=Decimal(10), outbound_increment=Increment(60, 6)),
                "18765550100",
                95,
                "1876",
                96,
                "0.440000",
            ),
            # Caribbean: 1876 wins over 1; the row's 60 s increment is 60/60, so 95 s bills
            # 120 s: 0.25 x 2 = 0.50.
            (Package("1"), "18765550100", 95, "1876", 120, "0.500000"),
            # Same length of number under the NANP catch-all 1: 0.01/min on 6/6, 95 s -> 96 s:
            # 0.01 x 96 / 60 = 0.016.
            (Package("1"), "12125550100", 95, "1", 96, "0.016000"),
            # 30/7 from the package: 31 s -> 37 s; 0.01 x 37 / 60 = 0.0061666... -> 0.006167.
            (
                Package("1", outbound_increment=Increment(30, 7)),
                "12125550100",
                31,
                "1",
                37,
                "0.006167",
            ),
            # 60/6 on London 0.015: 61 s -> 66 s; 0.015 x 66 / 60 = 0.0165.
            (
                Package("1", outbound_increment=Increment(60, 6)),
                "442079460018",
                61,
                "4420",
                66,
                "0.016500",
            ),
            # Connection fee: Australia 0.03 on 60/60 plus 0.05 per call; 61 s -> 120 s:
            # 0.03 x 2 + 0.05 = 0.11.
            (Package("1"), "61412345678", 61, "61", 120, "0.110000"),
            # Markup raises the rate, not the fee: 0.033 x 2 + 0.05 = 0.116.
            (Package("1", markup_percent=Decimal(10)), "61412345678", 61, "61", 120, "0.116000"),
            # NANP 10-digit conversion finds Jamaica for a number dialled without the 1.
            (Package("1", nanp_10_digit=True), "876 555 0100", 60, "1876", 60, "0.250000"),
            # Without the conversion the same digits match nothing useful: 876 is not a prefix.
        ],
    )
    def test_worked_examples(
        self, package: Package, number: str, billsec: int, prefix: str, billed: int, cost: str
    ) -> None:
        """Tariff calls are billed at the longest prefix, after markup, on the right increment."""
        call = rate_one(make_cdr(number, billsec), make_plan(package))
        assert call.status is Status.BILLED
        assert call.calltype is CallType.STANDARD
        assert call.prefix == prefix
        assert call.billed_seconds == billed
        assert call.cost == Decimal(cost)
        assert str(call.cost) == cost

    def test_custom_rate_is_used_without_markup(self) -> None:
        """A custom rate of 0.15 stays 0.15 under a 10% markup (the tariff would be 0.275)."""
        package = Package(
            "1", markup_percent=Decimal(10), custom_rates=(CustomRate("1876", Decimal("0.15")),)
        )
        call = rate_one(make_cdr("18765550100", 60), make_plan(package))
        assert call.entry is not None
        assert call.entry.source is RateSource.CUSTOM
        assert call.rate == Decimal("0.15")
        # No package or custom increment: 60/60. 0.15 x 60 / 60 = 0.15.
        assert call.cost == Decimal("0.150000")
        assert call.description == "Jamaica"

    def test_custom_rate_beats_a_longer_tariff_prefix(self) -> None:
        """The custom rate's own longest prefix is used before the tariff is consulted at all."""
        package = Package("1", custom_rates=(CustomRate("1", Decimal("0.005"), "North America"),))
        call = rate_one(make_cdr("18765550100", 60), make_plan(package))
        assert call.prefix == "1"
        assert call.description == "North America"
        assert call.cost == Decimal("0.005000")

    def test_prefixes_longer_than_the_number_are_skipped(self) -> None:
        """A short number passes over custom and tariff prefixes longer than itself to its own."""
        package = Package("44", custom_rates=(CustomRate("447700900123", Decimal("0.01")),))
        tariff = make_tariff([make_row("44", "0.02"), make_row("447700900123456", "0.50")])
        call = rate_one(make_cdr("4477009", 60), make_plan(package, tariff=tariff))
        assert (call.status, call.prefix, call.rate) == (Status.BILLED, "44", Decimal("0.02"))
        assert call.cost == Decimal("0.020000")

    def test_custom_rate_increment_when_the_package_sets_none(self) -> None:
        """A custom rate's own increment applies when the package has none for outbound."""
        custom = CustomRate("1876", Decimal("0.30"), increment=Increment(6, 6))
        call = rate_one(make_cdr("18765550100", 7), make_plan(Package("1", custom_rates=(custom,))))
        # 7 s on 6/6 -> 12 s: 0.30 x 12 / 60 = 0.06.
        assert (call.billed_seconds, call.cost) == (12, Decimal("0.060000"))

    def test_package_increment_beats_the_tariff_row(self) -> None:
        """The package's outbound increment overrides the row's 60 s increment."""
        package = Package("1", outbound_increment=Increment(1, 1))
        call = rate_one(make_cdr("18765550100", 7), make_plan(package))
        # 7 s per second at 0.25/min: 0.25 x 7 / 60 = 0.0291666... -> 0.029167.
        assert (call.billed_seconds, call.cost) == (7, Decimal("0.029167"))
        assert call.entry is not None
        assert call.entry.increment_source == "package outbound"

    def test_zero_rate_prefix_bills_zero(self) -> None:
        """A destination priced at zero is billed (status billed) at no cost."""
        tariff = make_tariff([make_row("1800", "0")])
        call = rate_one(make_cdr("18005550100", 30), make_plan(tariff=tariff))
        assert (call.status, call.cost) == (Status.BILLED, Decimal("0.000000"))


class TestInbound:
    """Inbound calls: rated on the DID, by the inbound tariff or the flat inbound rate."""

    def test_inbound_billing_off(self) -> None:
        """Inbound calls are shown but not billed when the package does not bill inbound."""
        call = rate_one(make_inbound(), make_plan(Package("1", inbound_rate=Decimal("0.01"))))
        assert call.status is Status.INBOUND_NOT_BILLED
        assert call.cost == 0

    def test_flat_inbound_rate_has_no_markup(self) -> None:
        """The flat inbound rate is used as is: 0.005/min, 61 s on 60/60 -> 120 s = 0.01."""
        package = Package(
            "1", bill_inbound=True, inbound_rate=Decimal("0.005"), markup_percent=Decimal(50)
        )
        call = rate_one(make_inbound(billsec=61), make_plan(package))
        assert call.entry is not None
        assert call.entry.source is RateSource.INBOUND_FLAT
        assert (call.billed_seconds, call.cost) == (120, Decimal("0.010000"))

    def test_inbound_tariff_is_marked_up_and_uses_the_inbound_increment(self) -> None:
        """An inbound tariff rate gets the markup: 0.004 x 1.1 = 0.0044/min on 60/6."""
        package = Package(
            "1",
            bill_inbound=True,
            inbound_rate=Decimal("0.5"),
            markup_percent=Decimal(10),
            inbound_increment=Increment(60, 6),
            outbound_increment=Increment(1, 1),
        )
        inbound_tariff = make_tariff([make_row("1204", "0.004", 6)], name="Inbound")
        call = rate_one(
            make_inbound("12045550199", 61), make_plan(package, inbound_tariff=inbound_tariff)
        )
        # 61 s -> 66 s: 0.0044 x 66 / 60 = 0.00484.
        assert call.prefix == "1204"
        assert (call.billed_seconds, call.cost) == (66, Decimal("0.004840"))

    def test_inbound_rates_the_caller_destination(self) -> None:
        """Inbound calls are rated on the DID dialled, normalised like any number."""
        package = Package("1", bill_inbound=True, nanp_10_digit=True)
        inbound_tariff = make_tariff([make_row("1204", "0.006", 60)], name="Inbound")
        call = rate_one(
            make_inbound("204 555 0199"), make_plan(package, inbound_tariff=inbound_tariff)
        )
        assert (call.number, call.cost) == ("12045550199", Decimal("0.006000"))


class TestStatuses:
    """Every status DESIGN §5 names, decided in the documented order."""

    @pytest.mark.parametrize(
        ("cdr", "plan", "status", "matched_filter"),
        [
            # 1. billsec 0 is unanswered, even when a suppress filter would match.
            (make_cdr("*72", 0), make_plan(provider_suppress="*xx"), Status.UNANSWERED, None),
            # 2. suppress, by pattern and by direction keyword.
            (make_cdr("*72", 10), make_plan(provider_suppress="*xx"), Status.SUPPRESSED, "*xx"),
            (
                make_inbound(),
                make_plan(Package("1", bill_inbound=True, suppress=FilterSet.parse("[inbound]"))),
                Status.SUPPRESSED,
                "[inbound]",
            ),
            # 4. exclude: the provider's list and the package's list both apply.
            (make_cdr("911", 30), make_plan(provider_exclude="911,112"), Status.EXCLUDED, "911"),
            (
                make_cdr("18005550100", 30),
                make_plan(Package("1", exclude=FilterSet.parse("1800xxxxxxx"))),
                Status.EXCLUDED,
                "1800xxxxxxx",
            ),
            (
                make_cdr("2113", 30, direction=Direction.LOCAL),
                make_plan(provider_exclude="[local]"),
                Status.EXCLUDED,
                "[local]",
            ),
            # 5. local calls are never billed; inbound with billing off.
            (make_cdr("2113", 30, direction=Direction.LOCAL), make_plan(), Status.LOCAL, None),
            (make_inbound(), make_plan(), Status.INBOUND_NOT_BILLED, None),
            # 7. no rate: outbound with no matching prefix, inbound with nothing to price it.
            (make_cdr("99912345", 30), make_plan(), Status.NO_RATE, None),
            (
                make_inbound(),
                make_plan(Package("1", bill_inbound=True)),
                Status.NO_RATE,
                None,
            ),
            # NANP conversion off: 8765550100 normalises to itself and no prefix starts with 8.
            (make_cdr("8765550100", 30), make_plan(), Status.NO_RATE, None),
        ],
    )
    def test_unbilled_statuses(
        self, cdr: Cdr, plan: RatePlan, status: Status, matched_filter: str | None
    ) -> None:
        """Each step stops a call it decides, with no cost and the filter that matched."""
        call = rate_one(cdr, plan)
        assert call.status is status
        assert call.matched_filter == matched_filter
        assert call.cost == 0
        assert call.billed_seconds == 0

    def test_no_tariff_means_no_rate(self) -> None:
        """A plan without an outbound tariff reports every answered outbound call as no_rate."""
        plan = RatePlan(Package("1"))
        assert rate_one(make_cdr(), plan).status is Status.NO_RATE

    def test_filters_see_the_number_as_written_not_normalised(self) -> None:
        """Exclude patterns match the PBX's digits (no + or spaces), before NANP conversion."""
        package = Package("1", nanp_10_digit=True)
        written = make_plan(package, provider_exclude="8765550100")
        normalised = make_plan(package, provider_exclude="18765550100")
        assert rate_one(make_cdr("876 555 0100", 30), written).status is Status.EXCLUDED
        assert rate_one(make_cdr("876 555 0100", 30), normalised).status is Status.BILLED

    def test_no_rate_keeps_the_normalised_number_for_the_report(self) -> None:
        """A no-rate call carries the normalised number so the admin can fix the tariff."""
        call = rate_one(make_cdr("011 999 123", 30), make_plan())
        assert (call.status, call.number) == (Status.NO_RATE, "999123")
        assert call.reason == "no rate for 999123: not billed (revenue leak, check the tariff)"


class TestSpecialRates:
    """Special Number Billing replaces the tariff for the product."""

    @pytest.mark.parametrize(
        ("rule", "increment", "billed", "cost"),
        [
            # Flat per call: 0.35 whatever the duration.
            (special_rule(1, "1300"), Increment(60, 6), 126, "0.350000"),
            # Per minute 0.05 on 60/6: 125 s -> 126 s; 0.05 x 126 / 60 = 0.105.
            (
                special_rule(1, "1300", BillingMode.PER_MINUTE, flat="9", per_minute="0.05"),
                Increment(60, 6),
                126,
                "0.105000",
            ),
            # Hybrid 0.20 + 0.03/min on 60/6: 0.20 + 0.03 x 126 / 60 = 0.263.
            (
                special_rule(1, "1300", BillingMode.HYBRID, flat="0.20", per_minute="0.03"),
                Increment(60, 6),
                126,
                "0.263000",
            ),
            # Hybrid with no package increment: 60/60, 125 s -> 180 s: 0.20 + 0.09 = 0.29.
            (
                special_rule(1, "1300", BillingMode.HYBRID, flat="0.20", per_minute="0.03"),
                None,
                180,
                "0.290000",
            ),
        ],
    )
    def test_billing_modes(
        self, rule: SpecialRule, increment: Increment | None, billed: int, cost: str
    ) -> None:
        """Flat, per-minute and hybrid rules bill as documented, without markup."""
        package = Package("61", markup_percent=Decimal(50), outbound_increment=increment)
        plan = make_plan(package, special=SpecialBilling(True, (rule,)))
        call = rate_one(make_cdr("1300123456", 125), plan)
        assert (call.status, call.calltype) == (Status.BILLED, CallType.SPECIAL_RATE)
        assert (call.billed_seconds, call.cost) == (billed, Decimal(cost))
        assert call.rule is rule

    def test_documented_priorities(self) -> None:
        """1800 (20), 1300 (15), 13 (10): each number is billed by the rule meant for it."""
        rules = (
            special_rule(1, "13", BillingMode.FLAT_PER_CALL, flat="0.10", priority=10),
            special_rule(2, "1800", BillingMode.FLAT_PER_CALL, flat="0.00", priority=20),
            special_rule(3, "1300", BillingMode.FLAT_PER_CALL, flat="0.35", priority=15),
        )
        plan = make_plan(Package("61"), special=SpecialBilling(True, rules))
        calls = rate_calls(
            [
                make_cdr("1800123456", 60, uuid="a"),
                make_cdr("1300123456", 60, uuid="b"),
                make_cdr("131234", 60, uuid="c"),
            ],
            plan,
        ).calls
        assert [c.rule.id if c.rule else None for c in calls] == [2, 3, 1]
        assert [c.cost for c in calls] == [
            Decimal("0.000000"),
            Decimal("0.350000"),
            Decimal("0.100000"),
        ]

    def test_special_match_bypasses_exclude_lists(self) -> None:
        """A number on the exclude list is still billed when a special rule matches it."""
        plan = make_plan(
            special=SpecialBilling(True, (special_rule(1, "1300"),)),
            provider_exclude="1300xxxxxx",
        )
        assert rate_one(make_cdr("1300123456", 60), plan).status is Status.BILLED

    def test_suppress_still_wins_over_special(self) -> None:
        """Suppress comes before Special Number Billing, so a suppressed number is never billed."""
        plan = make_plan(
            special=SpecialBilling(True, (special_rule(1, "1300"),)),
            provider_suppress="1300xxxxxx",
        )
        assert rate_one(make_cdr("1300123456", 60), plan).status is Status.SUPPRESSED

    @pytest.mark.parametrize(
        "cdr",
        [
            make_cdr("12125550100", 60),
            make_cdr("2113", 60, direction=Direction.LOCAL),
            # Patterns see the number as written: +61 1300 ... is 611300..., not 1300...
            make_cdr("+61 1300 123 456", 60),
            make_inbound("1300123456"),
        ],
    )
    def test_unmatched_calls_are_not_billed_nor_shown(self, cdr: Cdr) -> None:
        """With special billing on, a call no rule matches is no_special_match and hidden."""
        plan = make_plan(special=SpecialBilling(True, (special_rule(1, "1300"),)))
        call = rate_one(cdr, plan)
        assert call.status is Status.NO_SPECIAL_MATCH
        assert not call.status.shown

    def test_disabled_rule_does_not_bill(self) -> None:
        """A disabled rule is skipped, so its numbers fall to the next rule or to no match."""
        rules = (special_rule(1, "1300", enabled=False),)
        plan = make_plan(special=SpecialBilling(True, rules))
        assert rate_one(make_cdr("1300123456", 60), plan).status is Status.NO_SPECIAL_MATCH

    def test_special_billing_switched_off_ignores_the_rules(self) -> None:
        """Rules do nothing while the product's Special Number Billing toggle is off."""
        plan = make_plan(special=SpecialBilling(False, (special_rule(1, "1"),)))
        call = rate_one(make_cdr("12125550100", 60), plan)
        assert (call.calltype, call.prefix) == (CallType.STANDARD, "1")

    def test_inbound_rule_bills_even_with_inbound_billing_off(self) -> None:
        """Special rules come before the inbound-billing switch (step 3 before step 5)."""
        rule = special_rule(1, "1300", direction=RuleDirection.BOTH)
        plan = make_plan(Package("61"), special=SpecialBilling(True, (rule,)))
        call = rate_one(make_inbound("1300123456", 60), plan)
        assert (call.status, call.cost) == (Status.BILLED, Decimal("0.350000"))


class TestFreeMinutes:
    """Free minutes cover standard calls in start order, per service and period."""

    def _calls(self) -> list[Cdr]:
        """Return three answered calls, deliberately listed out of start order."""
        return [
            make_cdr("441614960000", 60, uuid="c-uk", minute=10),
            make_cdr("18765550100", 60, uuid="b-jamaica", minute=5),
            make_cdr("12125550100", 90, uuid="a-usa", minute=0),
        ]

    def test_allocation_in_start_order_with_a_partly_free_call(self) -> None:
        """Two free minutes: USA 90 s free, Jamaica 30 of 60 s free, UK charged in full."""
        result = rate_calls(self._calls(), make_plan(Package("1", free_minutes=2)))
        assert [c.uuid for c in result.calls] == ["a-usa", "b-jamaica", "c-uk"]
        assert [c.free_seconds for c in result.calls] == [90, 30, 0]
        # USA: 0; Jamaica: 0.25 x 30 / 60 = 0.125; UK: 0.02 x 60 / 60 = 0.02.
        assert [c.cost for c in result.calls] == [
            Decimal("0.000000"),
            Decimal("0.125000"),
            Decimal("0.020000"),
        ]
        assert result.free_seconds_used == 120
        assert result.free_seconds_allowance == 120
        # 0.145 rounds half-up to 0.15 on the sum.
        assert result.total() == Decimal("0.15")

    def test_seconds_already_used_this_period_are_not_given_again(self) -> None:
        """With 100 of 120 free seconds spent earlier, only 20 remain for the first call."""
        result = rate_calls(
            self._calls(), make_plan(Package("1", free_minutes=2)), free_seconds_used=100
        )
        assert [c.free_seconds for c in result.calls] == [20, 0, 0]
        # USA: 0.01 x 70 / 60 = 0.011666... -> 0.011667.
        assert result.calls[0].cost == Decimal("0.011667")
        assert result.free_seconds_used == 120

    def test_allowance_already_spent_gives_nothing(self) -> None:
        """Once the allowance is used up, calls are charged in full and the count stays put."""
        result = rate_calls(
            self._calls(), make_plan(Package("1", free_minutes=2)), free_seconds_used=500
        )
        assert all(c.free_seconds == 0 for c in result.calls)
        assert result.free_seconds_used == 500

    def test_streamed_rating_gives_the_same_calls_one_at_a_time(self) -> None:
        """Rated one by one in start order, the calls and their free seconds equal rate_calls'."""
        plan = make_plan(Package("1", free_minutes=2))
        in_order = sorted(self._calls(), key=lambda cdr: cdr.start)

        streamed = iter_rated_calls(iter(in_order), plan, free_seconds_used=30)

        assert list(streamed) == list(rate_calls(in_order, plan, free_seconds_used=30).calls)
        assert [c.free_seconds for c in iter_rated_calls(in_order, plan)] == [90, 30, 0]

    def test_connection_fee_is_still_charged_on_a_free_call(self) -> None:
        """Free minutes cover minutes, not the per-call fee: a free Australia call costs 0.05."""
        result = rate_calls([make_cdr("61412345678", 30)], make_plan(Package("1", free_minutes=5)))
        assert (result.calls[0].free_seconds, result.calls[0].cost) == (60, Decimal("0.050000"))

    def test_special_rate_calls_do_not_use_free_minutes(self) -> None:
        """A special-rate call is charged its rule's price and leaves the allowance untouched."""
        plan = make_plan(
            Package("61", free_minutes=1), special=SpecialBilling(True, (special_rule(1, "1300"),))
        )
        result = rate_calls([make_cdr("1300123456", 60)], plan)
        assert (result.calls[0].free_seconds, result.calls[0].cost) == (0, Decimal("0.350000"))
        assert result.free_seconds_used == 0

    def test_unbilled_calls_do_not_use_free_minutes(self) -> None:
        """Excluded, unrated and unanswered calls come first; the allowance goes to the billed."""
        plan = make_plan(Package("1", free_minutes=1), provider_exclude="911")
        result = rate_calls(
            [
                make_cdr("911", 60, uuid="excluded", minute=0),
                make_cdr("99912345", 60, uuid="no-rate", minute=1),
                make_cdr("12125550100", 0, uuid="unanswered", minute=2),
                make_cdr("12125550100", 30, uuid="billed", minute=3),
            ],
            plan,
        )
        assert [c.free_seconds for c in result.calls] == [0, 0, 0, 30]
        assert result.free_seconds_used == 30

    def test_negative_seconds_used_is_refused(self) -> None:
        """The free seconds already used cannot be negative."""
        with pytest.raises(InvalidRatingInput, match="free seconds used"):
            rate_calls([], make_plan(), free_seconds_used=-1)


class TestResult:
    """The batch result: order, totals and counts."""

    def test_calls_come_back_in_start_order_keeping_ties_stable(self) -> None:
        """Calls are sorted by start time; calls that started together keep their given order."""
        cdrs = [
            make_cdr(uuid="late", minute=9),
            make_cdr(uuid="tie-1", minute=1),
            make_cdr(uuid="early", minute=0),
            make_cdr(uuid="tie-2", minute=1),
        ]
        result = rate_calls(cdrs, make_plan())
        assert [c.uuid for c in result.calls] == ["early", "tie-1", "tie-2", "late"]

    def test_total_is_the_rounded_sum_and_counts_cover_every_status(self) -> None:
        """Three calls of 0.004 total 0.01 (not 0.00); by_status counts every status."""
        tariff = make_tariff([make_row("1", "0.004", 60)])
        cdrs = [make_cdr(uuid=str(i), minute=i) for i in range(3)]
        result = rate_calls([*cdrs, make_cdr("999", 0, uuid="x")], make_plan(tariff=tariff))
        assert result.total() == Decimal("0.01")
        counts = result.by_status()
        assert counts[Status.BILLED] == 3
        assert counts[Status.UNANSWERED] == 1
        assert sum(counts.values()) == 4
        assert len(result.billed()) == 3
        assert len(result.shown()) == 4

    def test_batch_leaves_the_garbage_collector_as_it_found_it(self) -> None:
        """Rating never changes the cyclic collector's state: that is for its callers to do."""
        import gc

        assert gc.isenabled()
        rate_calls([make_cdr()], make_plan())
        assert gc.isenabled()
        gc.disable()
        try:
            rate_calls([make_cdr()], make_plan())
            assert not gc.isenabled()
        finally:
            gc.enable()


@st.composite
def _plans(draw: st.DrawFn) -> RatePlan:
    """Draw a one-row plan with random rate, fee, markup, increments and free minutes."""
    rate = draw(st.decimals(min_value=0, max_value=5, places=5))
    fee = draw(st.decimals(min_value=0, max_value=1, places=3))
    row_increment = draw(st.integers(min_value=1, max_value=60))
    own = draw(
        st.none()
        | st.builds(
            Increment,
            st.integers(min_value=0, max_value=120),
            st.integers(min_value=1, max_value=60),
        )
    )
    package = Package(
        "1",
        markup_percent=draw(st.decimals(min_value=0, max_value=200, places=2)),
        outbound_increment=own,
        free_minutes=draw(st.integers(min_value=0, max_value=10)),
    )
    row = make_row("1", str(rate), row_increment, connection_fee=str(fee))
    return make_plan(package, tariff=make_tariff([row]))


class TestProperties:
    """Invariants over random plans and durations."""

    @given(plan=_plans(), shorter=st.integers(1, 7200), extra=st.integers(0, 7200))
    def test_cost_never_decreases_as_billsec_grows(
        self, plan: RatePlan, shorter: int, extra: int
    ) -> None:
        """A longer call never costs less, whatever the increments, markup, fee or free minutes."""
        short = rate_one(make_cdr("12125550100", shorter), plan)
        long = rate_one(make_cdr("12125550100", shorter + extra), plan)
        assert long.billed_seconds >= short.billed_seconds >= shorter
        assert long.cost >= short.cost

    @given(
        raw=st.text(alphabet="0123456789+ ", min_size=1, max_size=16),
        package=st.sampled_from(
            [
                Package("1", nanp_10_digit=True),
                Package("44", local_prefix=True),
                Package("61", local_prefix=True, exit_code="0011"),
            ]
        ),
    )
    def test_engine_normalises_exactly_like_normalise_number(
        self, raw: str, package: Package
    ) -> None:
        """The number a rated call carries is what normalise_number gives for the raw number."""
        call = rate_one(make_cdr(raw, 30), RatePlan(package))
        assert call.status is Status.NO_RATE
        assert call.number == normalise_number(raw, package)

    @given(plan=_plans(), billsecs=st.lists(st.integers(0, 900), max_size=20))
    def test_free_seconds_never_exceed_the_allowance(
        self, plan: RatePlan, billsecs: list[int]
    ) -> None:
        """Free seconds handed out sum to what the result reports and stay within the allowance."""
        cdrs = [make_cdr("12125550100", s, uuid=str(i), minute=i) for i, s in enumerate(billsecs)]
        result = rate_calls(cdrs, plan)
        given_out = sum(c.free_seconds for c in result.calls)
        assert given_out == result.free_seconds_used <= result.free_seconds_allowance
        assert all(0 <= c.free_seconds <= c.billed_seconds for c in result.calls)
