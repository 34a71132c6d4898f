"""A service's calls for one billing period, as its client sees them in the client area.

The period's calls are rated exactly as the invoice rates them (:func:`iter_service_calls`, the
same plan and free-minute order as :func:`~bridge.usecases.usage.rate_service_usage`), then the
calls the client area hides (suppressed, and on special-rate products those no rule matched) are
dropped, and what is left is searched, filtered, sorted and cut into pages here, on the server,
so the page works without JavaScript and a large month never reaches the browser whole.

Page parameters come from the WHMCS page the client is on and are never trusted: anything
unexpected falls back to its default (:func:`read_page_query`).
"""

from __future__ import annotations

import dataclasses
from bisect import bisect_right
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Connection

from bridge.calls import CollectedCdr
from bridge.rating import CallType, Direction, RatedCall, Status, invoice_sections
from bridge.rating.money import ZERO
from bridge.usecases.usage import RatePlans, iter_service_calls
from bridge.whmcs.currencies import Currency
from bridge.whmcs.cycles import BillingPeriod, add_months, list_periods
from bridge.whmcs.services import Service

PER_PAGE = 50
PERIODS_SHOWN = 12
SEARCH_MAX = 60
SORTS = ("date", "direction", "number", "name", "duration", "cost")
TABS = ("calls", "rates")

_PUNCTUATION = str.maketrans("", "", "+ -().")
# Why a shown call costs nothing, in the client's words.
_NOTES = {
    Status.BILLED: "",
    Status.UNANSWERED: "Not answered",
    Status.EXCLUDED: "Not billed",
    Status.LOCAL: "Internal",
    Status.INBOUND_NOT_BILLED: "Not billed",
    Status.NO_RATE: "Not billed",
}


@dataclass(frozen=True, slots=True)
class PageQuery:
    """The client-area page the client asked for, every value checked."""

    period_start: date | None = None
    sort: str = "date"
    descending: bool = True
    search: str = ""
    direction: Direction | None = None
    page: int = 1
    tab: str = "calls"
    rate_search: str = ""


def read_page_query(query: Mapping[str, str]) -> PageQuery:
    """Return the page the ``vb…`` parameters ask for; a bad value falls back to its default."""
    try:
        period_start: date | None = date.fromisoformat(query.get("vbperiod", "").strip())
    except ValueError:
        period_start = None
    sort = query.get("vbsort", "").strip().lower()
    direction = query.get("vbtype", "").strip().lower()
    page = query.get("vbpage", "").strip()
    tab = query.get("vbtab", "").strip().lower()
    return PageQuery(
        period_start=period_start,
        sort=sort if sort in SORTS else "date",
        descending=query.get("vbdir", "").strip().lower() != "asc",
        search=_clean_search(query.get("vbq", "")),
        direction=Direction(direction) if direction in set(Direction) else None,
        page=max(int(page), 1) if page.isascii() and page.isdigit() and len(page) < 7 else 1,
        tab=tab if tab in TABS else "calls",
        rate_search=_clean_search(query.get("vbrq", "")),
    )


@dataclass(frozen=True, slots=True)
class CallRow:
    """One call as the client sees it: times in WHMCS's zone, the other party, what it cost."""

    uuid: str
    started: datetime
    direction: Direction
    number: str
    caller_name: str
    duration: int
    billed_seconds: int
    free_seconds: int
    disposition: str
    note: str
    special: bool
    cost: Decimal


@dataclass(frozen=True, slots=True)
class DayUsage:
    """One day of the period: its calls, billed seconds and cost (for the chart)."""

    day: date
    calls: int
    billed_seconds: int
    cost: Decimal


@dataclass(frozen=True, slots=True)
class UsageSummary:
    """The period at a glance; ``amount`` is what the invoice lines add up to."""

    calls: int
    duration: int
    billed_seconds: int
    free_allowance: int
    free_used: int
    amount: Decimal
    currency: Currency
    realtime: bool
    balance: Decimal | None

    @property
    def free_left(self) -> int:
        """Return the free seconds still unused in the period."""
        return max(self.free_allowance - self.free_used, 0)


@dataclass(frozen=True, slots=True)
class CallHistory:
    """One page of a service's calls in a period, with the period's summary and daily usage."""

    service: Service
    period: BillingPeriod
    periods: tuple[BillingPeriod, ...]
    query: PageQuery
    rows: tuple[CallRow, ...]
    matching: int
    pages: int
    summary: UsageSummary
    days: tuple[DayUsage, ...]


def list_service_periods(service: Service, today: date) -> tuple[BillingPeriod, ...]:
    """Return the service's billing periods, the current one first, then older ones.

    A service without a recurring cycle or due date has none; its calls are then shown by
    calendar month, so the client still sees them.
    """
    if service.next_due_date is not None:
        periods = list_periods(
            today, service.next_due_date, service.billing_cycle, count=PERIODS_SHOWN
        )
        if periods:
            return tuple(periods)
    first = today.replace(day=1)
    return tuple(
        BillingPeriod(add_months(first, -back), add_months(first, 1 - back))
        for back in range(PERIODS_SHOWN)
    )


def choose_period(periods: Sequence[BillingPeriod], start: date | None) -> BillingPeriod:
    """Return the period that starts on ``start``, else the current (first) one."""
    return next((p for p in periods if p.start == start), periods[0])


def show_call_history(
    conn: Connection,
    service: Service,
    query: PageQuery,
    *,
    today: date,
    zone: ZoneInfo,
    currency: Currency,
    balance: Decimal,
    plans: RatePlans | None = None,
) -> CallHistory:
    """Return the page ``query`` asks for of ``service``'s calls, and its period's summary."""
    periods = list_service_periods(service, today)
    period = choose_period(periods, query.period_start)
    plans = plans or RatePlans()
    pairs = list(iter_service_calls(conn, service, period, plans=plans, zone=zone))
    plan = plans.plan_for(conn, service.product)
    rated = [call for _, call in pairs]
    shown = [pair for pair in pairs if pair[1].status.shown]
    # Filtering and sorting work on the stored calls; only the page's rows become CallRows.
    matching = [pair for pair in shown if matches(pair[0], query)]
    matching.sort(key=_SORT_KEYS[query.sort], reverse=query.descending)
    pages = max(1, -(-len(matching) // PER_PAGE))
    page = min(query.page, pages)
    first = (page - 1) * PER_PAGE
    summary = UsageSummary(
        calls=len(shown),
        duration=sum(record.call.billsec for record, _ in shown),
        billed_seconds=sum(call.billed_seconds for _, call in shown),
        free_allowance=plan.plan.package.free_minutes * 60,
        free_used=sum(call.free_seconds for call in rated),
        amount=invoice_amount(rated, period),
        currency=currency,
        realtime=plan.realtime_billing,
        balance=balance if plan.realtime_billing else None,
    )
    return CallHistory(
        service=service,
        period=period,
        periods=periods,
        query=dataclasses.replace(query, period_start=period.start, page=page),
        rows=tuple(call_row(*pair, zone) for pair in matching[first : first + PER_PAGE]),
        matching=len(matching),
        pages=pages,
        summary=summary,
        days=daily_usage(shown, period, zone),
    )


def invoice_amount(calls: Iterable[RatedCall], period: BillingPeriod) -> Decimal:
    """Return what the period's invoice lines add up to (each line rounded once, as billed)."""
    sections = invoice_sections(calls, period_start=period.start, period_end=period.end)
    return sum((line.amount for section in sections for line in section.lines), ZERO)


def call_row(record: CollectedCdr, call: RatedCall, zone: ZoneInfo) -> CallRow:
    """Return a rated call as the row the client sees."""
    cdr = record.call
    return CallRow(
        uuid=cdr.uuid,
        started=cdr.start.astimezone(zone),
        direction=cdr.direction,
        number=other_party(record),
        caller_name=record.caller_name,
        duration=cdr.billsec,
        billed_seconds=call.billed_seconds,
        free_seconds=call.free_seconds,
        disposition=record.hangup_cause or ("ANSWERED" if cdr.billsec else "NO ANSWER"),
        note=_NOTES.get(call.status, ""),
        special=call.calltype is CallType.SPECIAL_RATE,
        cost=call.cost,
    )


def other_party(record: CollectedCdr) -> str:
    """Return the number at the other end: who called for inbound calls, else who was called."""
    cdr = record.call
    return cdr.caller_number if cdr.direction is Direction.INBOUND else cdr.destination_number


def matches(record: CollectedCdr, query: PageQuery) -> bool:
    """Tell whether a call passes the query's call-type filter and search."""
    if query.direction is not None and record.call.direction is not query.direction:
        return False
    if not query.search:
        return True
    needle = query.search.casefold()
    number = other_party(record)
    digits = needle.translate(_PUNCTUATION)
    if digits.isascii() and digits.isdigit():
        # A number matches however either side wrote it: "+1 416-555" finds "14165550100".
        return digits in number.translate(_PUNCTUATION)
    return needle in record.caller_name.casefold() or needle in number.casefold()


def daily_usage(
    calls: Iterable[tuple[CollectedCdr, RatedCall]], period: BillingPeriod, zone: ZoneInfo
) -> tuple[DayUsage, ...]:
    """Return every day of the period with its calls, billed seconds and cost."""
    days = [period.start + timedelta(days=n) for n in range((period.end - period.start).days)]
    # Each day's end (midnight in WHMCS's zone) as a UTC instant, like the calls' start times:
    # calls are located by bisection, and datetimes sharing one tzinfo compare without
    # converting, where converting every start to local time would cost more than the rest.
    ends = [
        datetime.combine(day + timedelta(days=1), time(), tzinfo=zone).astimezone(UTC)
        for day in days
    ]
    counts = [0] * len(days)
    seconds = [0] * len(days)
    costs = [ZERO] * len(days)
    for record, call in calls:
        index = bisect_right(ends, record.call.start)
        if index < len(days):
            counts[index] += 1
            seconds[index] += call.billed_seconds
            costs[index] += call.cost
    return tuple(map(DayUsage, days, counts, seconds, costs))


def _clean_search(text: str) -> str:
    return " ".join(text.split())[:SEARCH_MAX]


_Pair = tuple[CollectedCdr, RatedCall]
_SORT_KEYS: dict[str, Callable[[_Pair], tuple[object, ...]]] = {
    "date": lambda pair: (pair[0].call.start, pair[0].uuid),
    "direction": lambda pair: (pair[0].call.direction.value, pair[0].call.start),
    "number": lambda pair: (other_party(pair[0]), pair[0].call.start),
    "name": lambda pair: (pair[0].caller_name.casefold(), pair[0].call.start),
    "duration": lambda pair: (pair[0].call.billsec, pair[0].call.start),
    "cost": lambda pair: (pair[1].cost, pair[0].call.start),
}
