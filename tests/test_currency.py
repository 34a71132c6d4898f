"""Amounts formatted as WHMCS shows them for each currency format."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bridge.currency import Currency


def _currency(number_format: int, prefix: str = "$", suffix: str = " USD") -> Currency:
    return Currency(
        id=1, code="USD", prefix=prefix, suffix=suffix, format=number_format, rate=Decimal(1)
    )


class TestFormatAmount:
    @pytest.mark.parametrize(
        ("number_format", "amount", "shown"),
        [
            (1, Decimal("1234567.891"), "$1234567.89 USD"),
            (2, Decimal("1234567.891"), "$1,234,567.89 USD"),
            (3, Decimal("1234567.891"), "$1.234.567,89 USD"),
            (4, Decimal("1234567.5"), "$1,234,568 USD"),
            (2, Decimal("999.995"), "$1,000.00 USD"),
            (2, Decimal("0"), "$0.00 USD"),
            (2, Decimal("12"), "$12.00 USD"),
        ],
    )
    def test_formats(self, number_format: int, amount: Decimal, shown: str) -> None:
        """Each WHMCS format code groups and separates digits its own way, rounding half-up."""
        assert _currency(number_format).format_amount(amount) == shown

    def test_negative_amounts_put_the_sign_first(self) -> None:
        """A negative balance reads -$2.10, not $-2.10."""
        assert _currency(1).format_amount(Decimal("-2.105")) == "-$2.11 USD"

    def test_unknown_format_code_falls_back_to_plain(self) -> None:
        """A format code WHMCS may add later still prints a sane number."""
        assert _currency(9, prefix="", suffix=" EUR").format_amount(Decimal("5")) == "5.00 EUR"
