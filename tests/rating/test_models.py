"""Tests of the rating value types: increments, CDRs, tariff rows, statuses."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest

from bridge.rating import (
    BillingMode,
    Cdr,
    CustomRate,
    Direction,
    Increment,
    InvalidRatingInput,
    Package,
    PatternType,
    RateRow,
    RuleDirection,
    SpecialBilling,
    SpecialRule,
    Status,
    rate_calls,
)
from tests.rating.builders import START, make_cdr, make_plan


class TestIncrement:
    """Billed seconds: ``init`` if billsec <= init, else init + ceil((billsec - init)/inc) * inc."""

    @pytest.mark.parametrize(
        ("init", "inc", "billsec", "billed"),
        [
            # 60/60: any call up to a minute is a minute, then whole minutes.
            (60, 60, 5, 60),
            (60, 60, 50, 60),
            (60, 60, 60, 60),
            (60, 60, 61, 120),
            # 60/6: a minute, then 6 s blocks; 95 s = 60 + ceil(35/6)=6 blocks = 96 s.
            (60, 6, 1, 60),
            (60, 6, 61, 66),
            (60, 6, 95, 96),
            # 30/7: the remainder is rounded, not the whole call: 31 s = 30 + 7 = 37 s (not 35).
            (30, 7, 30, 30),
            (30, 7, 31, 37),
            (30, 7, 44, 44),
            (30, 7, 45, 51),
            # 6/6 and per-second billing.
            (6, 6, 5, 6),
            (6, 6, 8, 12),
            (6, 6, 10, 12),
            (1, 1, 37, 37),
            # No first block: 0/6 rounds the whole call up to 6 s blocks.
            (0, 6, 1, 6),
            (0, 6, 13, 18),
        ],
    )
    def test_bill_rounds_per_the_init_inc_rule(
        self, init: int, inc: int, billsec: int, billed: int
    ) -> None:
        """An init/inc increment bills the first block whole and rounds the rest up to blocks."""
        assert Increment(init, inc).bill(billsec) == billed

    @pytest.mark.parametrize(
        ("text", "expected"),
        [("60/6", Increment(60, 6)), (" 30 / 7 ", Increment(30, 7)), ("6", Increment(6, 6))],
    )
    def test_parse_reads_init_slash_inc_or_one_number(self, text: str, expected: Increment) -> None:
        """``"init/inc"`` parses to both numbers and a single number means ``inc/inc``."""
        assert Increment.parse(text) == expected

    @pytest.mark.parametrize("text", ["", "60/", "a/6", "60/6/6", "-6/6", "6.5"])
    def test_parse_refuses_anything_but_whole_seconds(self, text: str) -> None:
        """A malformed increment is refused with a clear error."""
        with pytest.raises(InvalidRatingInput, match="increment"):
            Increment.parse(text)

    @pytest.mark.parametrize(("init", "inc"), [(60, 0), (-1, 6), (True, 6)])
    def test_construction_refuses_a_zero_block_or_negative_start(self, init: int, inc: int) -> None:
        """A zero increment (which would never finish rounding) or a negative init is refused."""
        with pytest.raises(InvalidRatingInput):
            Increment(init, inc)

    def test_str_is_the_init_slash_inc_notation(self) -> None:
        """An increment prints the way operators write it."""
        assert str(Increment(60, 6)) == "60/6"


class TestCdr:
    """CDRs validate on construction, so bad data fails at import time."""

    def test_plain_direction_string_becomes_the_enum(self) -> None:
        """A FusionPBX ``direction`` string is accepted and stored as a Direction."""
        cdr = Cdr("u", "inbound", "1", "2", "3", START, 5)  # type: ignore[arg-type]
        assert cdr.direction is Direction.INBOUND

    def test_unknown_direction_is_refused(self) -> None:
        """A direction other than inbound, outbound or local is refused, naming the CDR."""
        with pytest.raises(InvalidRatingInput, match="CDR u: direction 'sideways'"):
            Cdr("u", "sideways", "1", "2", "3", START, 5)  # type: ignore[arg-type]

    def test_naive_start_time_is_refused(self) -> None:
        """A start time without a time zone is refused: CDR times are UTC instants."""
        with pytest.raises(InvalidRatingInput, match="time zone"):
            Cdr("u", Direction.OUTBOUND, "1", "2", "3", datetime(2025, 12, 29), 5)

    @pytest.mark.parametrize("billsec", [-1, True])
    def test_negative_or_boolean_billsec_is_refused(self, billsec: int) -> None:
        """Billsec must be a whole number of seconds, zero or more."""
        with pytest.raises(InvalidRatingInput, match="billsec"):
            make_cdr(billsec=billsec)

    @pytest.mark.parametrize(
        ("direction", "expected"),
        [(Direction.OUTBOUND, "dest"), (Direction.LOCAL, "dest"), (Direction.INBOUND, "did")],
    )
    def test_rated_number_is_the_did_for_inbound_and_the_destination_otherwise(
        self, direction: Direction, expected: str
    ) -> None:
        """Outbound and local calls rate on the destination, inbound on the caller destination."""
        cdr = Cdr("u", direction, "caller", "did", "dest", START, 5)
        assert cdr.rated_number == expected


class TestRateRow:
    """Tariff rows hold digit prefixes and non-negative Decimal rates."""

    @pytest.mark.parametrize("prefix", ["", "+44", "44 20", "4x", "٤٤"])
    def test_prefix_must_be_ascii_digits(self, prefix: str) -> None:
        """A prefix with anything but ASCII digits is refused."""
        with pytest.raises(InvalidRatingInput, match="digits only"):
            RateRow(prefix, "UK", Decimal("0.02"), 60)

    def test_float_rate_is_refused(self) -> None:
        """A float rate is refused: money is built from strings, never floats."""
        with pytest.raises(InvalidRatingInput, match="not float"):
            RateRow("44", "UK", 0.02, 60)  # type: ignore[arg-type]

    @pytest.mark.parametrize(
        ("rate", "increment", "fee", "message"),
        [
            ("-0.01", 60, "0", "must not be negative"),
            ("0.02", 0, "0", "at least 1"),
            ("0.02", 60, "-1", "must not be negative"),
            ("NaN", 60, "0", "not a finite number"),
        ],
    )
    def test_bad_values_are_refused(
        self, rate: str, increment: int, fee: str, message: str
    ) -> None:
        """Negative or non-finite money and a zero increment are refused with a reason."""
        with pytest.raises(InvalidRatingInput, match=message):
            RateRow("44", "UK", Decimal(rate), increment, connection_fee=Decimal(fee))

    def test_string_amounts_are_parsed_to_decimal(self) -> None:
        """A rate given as a decimal string is stored as the exact Decimal."""
        row = RateRow("44", "UK", "0.0200", 60)  # type: ignore[arg-type]
        assert row.rate == Decimal("0.0200")
        assert isinstance(row.rate, Decimal)

    def test_custom_rate_validates_like_a_row(self) -> None:
        """A custom rate needs a digit prefix and a non-negative rate."""
        with pytest.raises(InvalidRatingInput, match="custom rate"):
            CustomRate("1-876", Decimal("0.2"))


class TestStatus:
    """Which statuses the client area lists."""

    @pytest.mark.parametrize(
        ("status", "shown"),
        [
            (Status.BILLED, True),
            (Status.UNANSWERED, True),
            (Status.SUPPRESSED, False),
            (Status.EXCLUDED, True),
            (Status.INBOUND_NOT_BILLED, True),
            (Status.NO_RATE, True),
            (Status.NO_SPECIAL_MATCH, False),
            (Status.LOCAL, True),
        ],
    )
    def test_only_suppressed_and_unmatched_special_calls_are_hidden(
        self, status: Status, shown: bool
    ) -> None:
        """Suppressed calls and calls no special rule matched are hidden; the rest are shown."""
        assert status.shown is shown


class TestRatedCall:
    """A rated call says in one line which rule decided it."""

    @pytest.mark.parametrize(
        ("pattern", "pattern_type", "mode", "number", "reason"),
        [
            ("1300", PatternType.PREFIX, BillingMode.FLAT_PER_CALL, "1300123456", "1300*"),
            (r"13\d{4}", PatternType.REGEX, BillingMode.HYBRID, "131234", r"13\d{4}"),
        ],
    )
    def test_special_rate_reason_names_the_rule(
        self, pattern: str, pattern_type: PatternType, mode: BillingMode, number: str, reason: str
    ) -> None:
        """A special-rate call names its rule's id, pattern as invoices show it, and mode."""
        rule = SpecialRule(7, pattern, pattern_type, RuleDirection.OUTBOUND, mode)
        plan = make_plan(Package("61"), special=SpecialBilling(True, (rule,)))
        (call,) = rate_calls([make_cdr(number)], plan).calls
        assert call.reason == f"special rule 7 {reason} ({mode})"
