"""WHMCS billing cycles and the usage periods they give a service (pure: no I/O).

A service is billed for the calls of its billing period ``[previous due date, next due date)``:
WHMCS keeps only the next due date (``tblhosting.nextduedate``), and the previous one is that date
less one billing cycle (``tblhosting.billingcycle``). Month arithmetic clamps to the month's last
day (31 January less one month is 31 December; 31 March less one month is 28 or 29 February), so
a period never loses or repeats a day. Cycles without a recurring period ("Free Account",
"One Time") give no period: such services are not usage-billed until they get a cycle.

Dates are WHMCS calendar dates, in the timezone WHMCS runs in (``BRIDGE_TIMEZONE``);
:meth:`BillingPeriod.bounds` turns a period into the UTC instants the CDR store is queried with.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from bridge.errors import InvalidRequest

CYCLE_MONTHS = {
    "monthly": 1,
    "quarterly": 3,
    "semi-annually": 6,
    "annually": 12,
    "biennially": 24,
    "triennially": 36,
}


@dataclass(frozen=True, slots=True)
class BillingPeriod:
    """A half-open run of WHMCS calendar days, ``[start, end)``."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise InvalidRequest(f"Billing period {self.start} to {self.end} is empty.")

    def bounds(self, zone: ZoneInfo) -> tuple[datetime, datetime]:
        """Return the period as aware instants: midnight of its first and of its end day."""
        return (
            datetime.combine(self.start, time(), tzinfo=zone),
            datetime.combine(self.end, time(), tzinfo=zone),
        )

    def contains(self, day: date) -> bool:
        """Tell whether ``day`` falls in the period."""
        return self.start <= day < self.end

    def __str__(self) -> str:
        return f"{self.start:%Y-%m-%d}..{self.end:%Y-%m-%d}"


def cycle_months(cycle: str) -> int | None:
    """Return the months in a WHMCS billing cycle, or ``None`` for one without a period."""
    return CYCLE_MONTHS.get(cycle.strip().lower())


def add_months(day: date, months: int) -> date:
    """Return ``day`` moved by ``months`` (may be negative), clamped to the month's last day."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def period_ending(next_due: date, cycle: str) -> BillingPeriod | None:
    """Return the period that ends on ``next_due`` (the one its invoice bills), if any."""
    months = cycle_months(cycle)
    if months is None:
        return None
    return BillingPeriod(add_months(next_due, -months), next_due)


def period_containing(day: date, next_due: date, cycle: str) -> BillingPeriod | None:
    """Return the period of a service (due ``next_due``) that ``day`` falls in, if any."""
    periods = list_periods(day, next_due, cycle, count=1)
    return periods[0] if periods else None


def list_periods(day: date, next_due: date, cycle: str, *, count: int) -> list[BillingPeriod]:
    """Return up to ``count`` periods of a service, the one ``day`` falls in first, then older.

    Every boundary is ``next_due`` moved by whole cycles, so clamping at a short month never
    drifts the others (a service due on the 31st has periods ending 28 February, 31 March, ...).
    """
    months = cycle_months(cycle)
    if months is None:
        return []
    # The cycle count is estimated from the month difference, then corrected by at most a step.
    steps = ((day.year - next_due.year) * 12 + day.month - next_due.month) // months + 1
    while add_months(next_due, (steps - 1) * months) > day:
        steps -= 1
    while add_months(next_due, steps * months) <= day:
        steps += 1
    ends = [add_months(next_due, (steps - back) * months) for back in range(count + 1)]
    return [BillingPeriod(ends[n + 1], ends[n]) for n in range(count)]
