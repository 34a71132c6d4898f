"""Tests of money arithmetic: 6-decimal call costs, 2-decimal totals, both half-up."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, localcontext

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bridge.rating import (
    InvalidRatingInput,
    Price,
    apply_markup,
    call_cost,
    format_amount,
    parse_amount,
    round_cost,
    round_total,
    total_of,
)


class TestCallCost:
    """cost = rate x seconds / 60 + fee, kept at 6 decimals, half-up."""

    @pytest.mark.parametrize(
        ("rate", "seconds", "fee", "expected"),
        [
            # 0.0345 x 96 / 60 = 0.0552 exactly.
            ("0.0345", 96, "0", "0.055200"),
            # ... plus a 0.01 connection fee.
            ("0.0345", 96, "0.01", "0.065200"),
            # 0.275 x 96 / 60 = 0.44 (Jamaica at 0.25 + 10% markup, 95 s on 60/6).
            ("0.275", 96, "0", "0.440000"),
            # 0.01 / 60 = 0.000166666...: rounds up to 0.000167.
            ("0.01", 1, "0", "0.000167"),
            # 0.00003 / 60 = 0.0000005, exactly half: half-up gives 0.000001 (half-even: 0).
            ("0.00003", 1, "0", "0.000001"),
            # 0.00002 / 60 = 0.000000333...: rounds down to zero.
            ("0.00002", 1, "0", "0.000000"),
            # A flat fee alone (flat_per_call special rule).
            ("0", 120, "0.35", "0.350000"),
            # A rate with many decimals after markup (0.0345 x 1.125 = 0.0388125), 96 s:
            # 0.0388125 x 96 / 60 = 0.0621 exactly.
            ("0.0388125", 96, "0", "0.062100"),
            # Zero seconds cost only the fee.
            ("0.5", 0, "0.05", "0.050000"),
        ],
    )
    def test_worked_examples(self, rate: str, seconds: int, fee: str, expected: str) -> None:
        """Hand-computed costs come out to the digit, including the half-up cases."""
        cost = call_cost(Decimal(rate), seconds, Decimal(fee))
        assert cost == Decimal(expected)
        assert str(cost) == expected

    @given(
        rate=st.decimals(min_value=0, max_value=100, places=8),
        fee=st.decimals(min_value=0, max_value=10, places=7),
        seconds=st.integers(min_value=0, max_value=100_000),
    )
    def test_integer_costing_matches_the_decimal_formula(
        self, rate: Decimal, fee: Decimal, seconds: int
    ) -> None:
        """Price.cost equals (rate x s / 60 + fee) quantized half-up at 40 digits of precision."""
        with localcontext() as ctx:
            ctx.prec = 80
            expected = (rate * seconds / 60 + fee).quantize(
                Decimal("0.000001"), rounding=ROUND_HALF_UP
            )
        assert Price(rate, fee).cost(seconds) == expected

    def test_caller_decimal_context_cannot_change_a_cost(self) -> None:
        """A caller's low-precision, half-even context does not leak into the cost."""
        with localcontext() as ctx:
            ctx.prec = 3
            cost = call_cost(Decimal("0.00003"), 1)
            marked_up = apply_markup(Decimal("0.0123456"), Decimal("12.5"))
        assert cost == Decimal("0.000001")
        # 0.0123456 x 1.125 = 0.013888800 exactly, not 0.0139.
        assert marked_up == Decimal("0.0138888")

    @pytest.mark.parametrize(
        ("rate", "fee"), [(Decimal("-0.01"), Decimal(0)), (Decimal(0), Decimal("NaN"))]
    )
    def test_price_refuses_negative_or_non_finite_amounts(
        self, rate: Decimal, fee: Decimal
    ) -> None:
        """A price cannot be negative or NaN."""
        with pytest.raises(InvalidRatingInput):
            Price(rate, fee)

    @pytest.mark.parametrize(("rate", "fee"), [(0.0345, Decimal(0)), (Decimal("0.0345"), 0.01)])
    def test_price_refuses_floats(self, rate: Decimal, fee: Decimal) -> None:
        """A float rate or fee is refused by name: a float cannot hold every cent exactly."""
        with pytest.raises(InvalidRatingInput, match="needs Decimal rate and fee, never floats"):
            Price(rate, fee)


class TestTotals:
    """Invoice lines and credit movements round once, to cents, on the sum."""

    def test_sum_is_rounded_once_not_per_call(self) -> None:
        """Three calls of 0.004 total 0.01 (0.012 rounded), not three roundings to 0.00."""
        assert total_of([Decimal("0.004")] * 3) == Decimal("0.01")

    def test_a_thousand_small_calls_are_not_lost(self) -> None:
        """A thousand calls of 0.004 bill 4.00."""
        assert total_of([Decimal("0.004")] * 1000) == Decimal("4.00")

    @pytest.mark.parametrize(
        ("amount", "expected"), [("0.125", "0.13"), ("0.005", "0.01"), ("2.675", "2.68")]
    )
    def test_round_total_is_half_up(self, amount: str, expected: str) -> None:
        """Half a cent rounds up (float round() and half-even would give 0.12, 0.00, 2.67)."""
        assert round_total(Decimal(amount)) == Decimal(expected)

    def test_round_cost_is_half_up_at_six_decimals(self) -> None:
        """Half a millionth rounds up."""
        assert round_cost(Decimal("0.0000125")) == Decimal("0.000013")

    def test_empty_total_is_zero_cents(self) -> None:
        """No calls total 0.00."""
        assert str(total_of([])) == "0.00"


class TestParsingAndFormatting:
    """Money comes in as strings or Decimals and goes out with the currency's symbols."""

    @pytest.mark.parametrize(
        ("value", "expected"), [("0.35", "0.35"), (" 1.40 ", "1.40"), (3, "3"), (Decimal("2"), "2")]
    )
    def test_parse_accepts_strings_ints_and_decimals(
        self, value: str | int | Decimal, expected: str
    ) -> None:
        """Decimal strings, ints and Decimals parse to the exact Decimal."""
        assert parse_amount(value) == Decimal(expected)

    @pytest.mark.parametrize("value", [0.35, True, "abc", "NaN", "Infinity", None])
    def test_parse_refuses_floats_booleans_and_junk(self, value: object) -> None:
        """Floats, booleans, non-numbers and infinities are refused."""
        with pytest.raises(InvalidRatingInput, match="rate"):
            parse_amount(value, name="rate")  # type: ignore[arg-type]

    @pytest.mark.parametrize(
        ("amount", "prefix", "suffix", "expected"),
        [
            ("1.4", "$", "", "$1.40"),
            ("0.125", "$", " USD", "$0.13 USD"),
            ("12", "", " €", "12.00 €"),
        ],
    )
    def test_format_amount_uses_prefix_suffix_and_cents(
        self, amount: str, prefix: str, suffix: str, expected: str
    ) -> None:
        """An amount prints with the WHMCS currency prefix and suffix at 2 decimals."""
        assert format_amount(Decimal(amount), prefix=prefix, suffix=suffix) == expected
