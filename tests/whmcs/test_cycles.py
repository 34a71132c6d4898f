"""Billing periods from WHMCS due dates: month ends, leap years and cycles without a period."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bridge.errors import InvalidRequest
from bridge.whmcs.cycles import (
    BillingPeriod,
    add_months,
    list_periods,
    period_containing,
    period_ending,
)


class TestPeriods:
    @pytest.mark.parametrize(
        ("next_due", "cycle", "start"),
        [
            (date(2026, 12, 14), "Monthly", date(2026, 11, 14)),
            (date(2026, 3, 31), "Monthly", date(2026, 2, 28)),
            (date(2024, 3, 31), "Monthly", date(2024, 2, 29)),
            (date(2026, 1, 31), "Monthly", date(2025, 12, 31)),
            (date(2026, 5, 31), "Quarterly", date(2026, 2, 28)),
            (date(2027, 1, 15), "Annually", date(2026, 1, 15)),
            (date(2028, 2, 29), "Biennially", date(2026, 2, 28)),
        ],
    )
    def test_period_ending_on_the_due_date(self, next_due: date, cycle: str, start: date) -> None:
        """The billed period runs from one cycle before the due date up to it, clamping months."""
        assert period_ending(next_due, cycle) == BillingPeriod(start, next_due)

    @pytest.mark.parametrize("cycle", ["Free Account", "One Time", ""])
    def test_cycles_without_a_period(self, cycle: str) -> None:
        """Free and one-time services have no usage period."""
        assert period_ending(date(2026, 1, 1), cycle) is None
        assert list_periods(date(2026, 1, 1), date(2026, 1, 1), cycle, count=3) == []

    def test_a_service_due_on_the_31st_keeps_its_anchor(self) -> None:
        """Periods are counted from the due date, so February's clamp never shifts March."""
        periods = list_periods(date(2026, 3, 5), date(2026, 1, 31), "Monthly", count=3)

        assert [(p.start, p.end) for p in periods] == [
            (date(2026, 2, 28), date(2026, 3, 31)),
            (date(2026, 1, 31), date(2026, 2, 28)),
            (date(2025, 12, 31), date(2026, 1, 31)),
        ]

    def test_the_due_day_itself_opens_the_next_period(self) -> None:
        """On its due date a service is in its new period; the day before, in the old one."""
        due = date(2026, 12, 14)

        assert period_containing(due, due, "Monthly") == BillingPeriod(due, date(2027, 1, 14))
        assert period_containing(date(2026, 12, 13), due, "Monthly") == BillingPeriod(
            date(2026, 11, 14), due
        )

    def test_an_empty_period_is_refused(self) -> None:
        """A period must end after it starts."""
        with pytest.raises(InvalidRequest, match="empty"):
            BillingPeriod(date(2026, 1, 2), date(2026, 1, 2))

    @given(
        st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 12, 31)),
        st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 12, 31)),
        st.sampled_from(["Monthly", "Quarterly", "Semi-Annually", "Annually"]),
    )
    def test_periods_tile_the_calendar(self, day: date, next_due: date, cycle: str) -> None:
        """Consecutive periods meet exactly, and the first holds the day asked about."""
        periods = list_periods(day, next_due, cycle, count=4)

        assert periods[0].contains(day)
        for newer, older in itertools.pairwise(periods):
            assert older.end == newer.start

    @given(st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 12, 31)), st.integers(-40, 40))
    def test_add_months_clamps_to_the_month_end(self, day: date, months: int) -> None:
        """Moving by months keeps the day when it exists, else lands on the month's last day."""
        moved = add_months(day, months)

        assert (moved.year * 12 + moved.month) - (day.year * 12 + day.month) == months
        last_day_of_month = (moved + timedelta(days=1)).month != moved.month
        assert moved.day == day.day or (moved.day < day.day and last_day_of_month)
