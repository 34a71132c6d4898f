"""Invoice lines: rated calls grouped, each group's amount rounded once.

Special-rate calls group by rule and direction, in the documented wording::

    Special Rate Calls (29/12/2025 to 29/01/2026)
    [OUTBOUND] 1300* (flat_per_call): 4 calls, 11 min, $1.40

Standard calls group by direction and destination description::

    Call Usage (29/12/2025 to 29/01/2026)
    [OUTBOUND] Jamaica: 3 calls, 7.5 min, $2.06

Minutes are the billed minutes (the seconds the amount was computed from), shown to one decimal.
Each line's amount is the sum of its calls' 6-decimal costs rounded once, half-up, to cents; the
billing job adds one WHMCS billable item per line.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from operator import attrgetter

from bridge.rating.models import CallType, Direction, RatedCall, Status
from bridge.rating.money import format_amount, total_of
from bridge.rating.special import SpecialRule

SPECIAL_TITLE = "Special Rate Calls"
USAGE_TITLE = "Call Usage"
_DIRECTION_ORDER = {Direction.OUTBOUND: 0, Direction.INBOUND: 1, Direction.LOCAL: 2}
_TENTH = Decimal("0.1")


def format_minutes(seconds: int) -> str:
    """Return ``seconds`` as minutes to one decimal without a trailing ``.0`` (342 → ``5.7``)."""
    # Display only: minutes are never money, so this rounding stays out of money.py.
    minutes = (Decimal(seconds) / 60).quantize(_TENTH, rounding=ROUND_HALF_UP)
    text = f"{minutes:f}"
    return text.removesuffix(".0")


@dataclass(frozen=True, slots=True)
class InvoiceLine:
    """One group of billed calls: a direction and a rule or destination, with its totals."""

    calltype: CallType
    direction: Direction
    label: str
    calls: int
    billed_seconds: int
    free_seconds: int
    amount: Decimal
    rule: SpecialRule | None = None

    def text(self, *, currency_prefix: str = "", currency_suffix: str = "") -> str:
        """Return the line as invoice text, e.g. ``[OUTBOUND] 1300* (flat_per_call): 4 calls…``."""
        amount = format_amount(self.amount, prefix=currency_prefix, suffix=currency_suffix)
        minutes = f"{format_minutes(self.billed_seconds)} min"
        if self.free_seconds:
            minutes += f" ({format_minutes(self.free_seconds)} min free)"
        calls = f"{self.calls} call" + ("" if self.calls == 1 else "s")
        return f"[{self.direction.upper()}] {self.label}: {calls}, {minutes}, {amount}"


@dataclass(frozen=True, slots=True)
class InvoiceSection:
    """A titled block of invoice lines for one billing period."""

    title: str
    period_start: date
    period_end: date
    lines: tuple[InvoiceLine, ...]

    @property
    def heading(self) -> str:
        """Return the heading, e.g. ``Special Rate Calls (29/12/2025 to 29/01/2026)``."""
        start = self.period_start.strftime("%d/%m/%Y")
        end = self.period_end.strftime("%d/%m/%Y")
        return f"{self.title} ({start} to {end})"

    def text(self, *, currency_prefix: str = "", currency_suffix: str = "") -> str:
        """Return the heading and one line per group, as the invoice shows them."""
        rendered = (
            line.text(currency_prefix=currency_prefix, currency_suffix=currency_suffix)
            for line in self.lines
        )
        return "\n".join((self.heading, *rendered))


def group_calls(calls: Iterable[RatedCall]) -> tuple[InvoiceLine, ...]:
    """Return invoice lines for the billed calls: special rules first, then destinations.

    Within each kind, outbound lines come before inbound ones and larger amounts first; equal
    amounts follow rule check order (special) or the destination name (standard).
    """
    return tuple(line for line, _members in group_calls_with_members(calls))


def group_calls_with_members(
    calls: Iterable[RatedCall],
) -> tuple[tuple[InvoiceLine, tuple[RatedCall, ...]], ...]:
    """Return the invoice lines of :func:`group_calls`, each with the calls it adds up."""
    groups: dict[tuple[CallType, Direction, object], list[RatedCall]] = {}
    for call in calls:
        entry = call.entry
        if call.status is not Status.BILLED or entry is None:
            continue
        what = entry.rule.id if entry.rule is not None else (entry.description or entry.prefix)
        groups.setdefault((call.calltype, call.cdr.direction, what), []).append(call)
    lines = [(_line(group), tuple(group)) for group in groups.values()]
    return tuple(sorted(lines, key=lambda pair: _line_order(pair[0])))


def _line(group: list[RatedCall]) -> InvoiceLine:
    """Return the invoice line of one group of calls, its amount rounded once on the sum."""
    first = group[0]
    assert first.entry is not None  # only billed calls are grouped
    rule = first.entry.rule
    if rule is not None:
        label = f"{rule.display_pattern} ({rule.mode})"
    else:
        label = first.entry.description or first.entry.prefix or "Calls"
    return InvoiceLine(
        calltype=first.calltype,
        direction=first.cdr.direction,
        label=label,
        calls=len(group),
        billed_seconds=sum(map(_billed_seconds, group)),
        free_seconds=sum(map(_free_seconds, group)),
        amount=total_of(map(_cost, group)),
        rule=rule,
    )


_billed_seconds = attrgetter("billed_seconds")
_free_seconds = attrgetter("free_seconds")
_cost = attrgetter("cost")


def _line_order(line: InvoiceLine) -> tuple[int, int, Decimal, tuple[int, int, int], str]:
    """Return the sort key of a line (see :func:`group_calls`)."""
    return (
        0 if line.calltype is CallType.SPECIAL_RATE else 1,
        _DIRECTION_ORDER[line.direction],
        -line.amount,
        line.rule.sort_key if line.rule is not None else (0, 0, 0),
        line.label.casefold(),
    )


def invoice_sections(
    calls: Iterable[RatedCall], *, period_start: date, period_end: date
) -> tuple[InvoiceSection, ...]:
    """Return the non-empty "Special Rate Calls" and "Call Usage" sections of a billing period."""
    lines = group_calls(calls)
    sections = []
    for title, calltype in (
        (SPECIAL_TITLE, CallType.SPECIAL_RATE),
        (USAGE_TITLE, CallType.STANDARD),
    ):
        chosen = tuple(line for line in lines if line.calltype is calltype)
        if chosen:
            sections.append(InvoiceSection(title, period_start, period_end, chosen))
    return tuple(sections)


@dataclass(frozen=True, slots=True)
class RatingSummary:
    """Counts and totals of a batch, as the ``bridge rate`` summary prints them."""

    calls: int
    billed_calls: int
    billed_seconds: int
    free_seconds: int
    cost: Decimal
    no_rate: int
    by_status: Mapping[Status, int]


def summarise(calls: Iterable[RatedCall]) -> RatingSummary:
    """Return the summary of ``calls``: the cost is their exact sum rounded once to cents."""
    counts = dict.fromkeys(Status, 0)
    billed_seconds = free_seconds = 0
    costs: list[Decimal] = []
    for call in calls:
        counts[call.status] += 1
        if call.status is Status.BILLED:
            billed_seconds += call.billed_seconds
            free_seconds += call.free_seconds
            costs.append(call.cost)
    return RatingSummary(
        calls=sum(counts.values()),
        billed_calls=counts[Status.BILLED],
        billed_seconds=billed_seconds,
        free_seconds=free_seconds,
        cost=total_of(costs),
        no_rate=counts[Status.NO_RATE],
        by_status=counts,
    )
