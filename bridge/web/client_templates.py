"""Rendering of the client-area pages: the jinja2 environment, its filters, the page context and
the daily-usage chart's layout.

The chart has one bar per day of the period, its height the day's billed minutes against the
busiest day, each with a ``<title>`` (date, calls, minutes) for hover and screen readers; the
layout is plain arithmetic on a fixed ``viewBox``, so the SVG scales to any width.

Autoescaping is on for every template (caller names and destinations come from outside); the
client-area templates never mark a value safe. Only the demo preview's wrapper does, for the page
these templates already rendered.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from bridge.rating import Increment
from bridge.rating.groups import format_minutes
from bridge.rating.money import format_rate
from bridge.usecases.call_history import CallHistory, DayUsage
from bridge.usecases.call_rates import CallRates
from bridge.web.client_links import ClientAreaLinks
from bridge.whmcs.currencies import Currency
from bridge.whmcs.services import Service

CALL_TYPES = (("outbound", "Outbound"), ("inbound", "Inbound"), ("local", "Local"))
# (sort key, heading, CSS classes); a key of "" is not sortable.
COLUMNS = (
    ("date", "Date", ""),
    ("direction", "Type", "vb-hide-sm"),
    ("number", "Number", ""),
    ("name", "Caller name", "vb-hide-sm"),
    ("duration", "Duration", "vb-num"),
    ("", "Billed", "vb-num vb-hide-sm"),
    ("", "Disposition", "vb-hide-sm"),
    ("cost", "Cost", "vb-num"),
)
_CALL_COST = Decimal("0.0001")
# Columns whose first click shows the largest (latest) first; text columns start at A.
_NEWEST_FIRST = frozenset({"date", "duration", "cost"})


def format_duration(seconds: int) -> str:
    """Return seconds as ``m:ss`` (``h:mm:ss`` from an hour on)."""
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def format_call_cost(cost: Decimal, currency: Currency, *, suffix: bool = True) -> str:
    """Return one call's cost to 4 decimals with the currency's prefix (and suffix, unless told)."""
    amount = cost.quantize(_CALL_COST, rounding=ROUND_HALF_UP)
    return f"{currency.prefix}{amount:f}{currency.suffix if suffix else ''}"


def format_rate_price(rate: Decimal, currency: Currency) -> str:
    """Return a per-minute rate with the currency's prefix and suffix, no trailing zeros."""
    text = format_rate(rate)
    if "." not in text or len(text.partition(".")[2]) < 2:
        text = f"{rate.quantize(Decimal('0.01')):f}"
    return f"{currency.prefix}{text}{currency.suffix}"


WIDTH = 600
HEIGHT = 200
_TOP = 28
_BOTTOM = 28
_GAP = 0.2


@dataclass(frozen=True, slots=True)
class Bar:
    """One day's bar, in viewBox units, with its tooltip."""

    x: float
    y: float
    width: float
    height: float
    title: str


@dataclass(frozen=True, slots=True)
class UsageChart:
    """Bars and the few labels the SVG shows."""

    width: int
    height: int
    baseline: float
    bars: tuple[Bar, ...]
    peak_label: str
    first_label: str
    last_label: str

    @property
    def empty(self) -> bool:
        """Tell whether no day has any billed minutes (the template says so instead)."""
        return all(bar.height == 0 for bar in self.bars)


def lay_out_chart(days: Sequence[DayUsage]) -> UsageChart:
    """Return the chart of ``days`` (one bar each, scaled to the busiest day)."""
    baseline = HEIGHT - _BOTTOM
    peak = max((day.billed_seconds for day in days), default=0)
    step = WIDTH / max(len(days), 1)
    bars = tuple(
        Bar(
            x=round(n * step + step * _GAP / 2, 2),
            y=round(baseline - _bar_height(day.billed_seconds, peak), 2),
            width=round(step * (1 - _GAP), 2),
            height=round(_bar_height(day.billed_seconds, peak), 2),
            title=(
                f"{day.day:%Y-%m-%d}: {day.calls} call{'' if day.calls == 1 else 's'}, "
                f"{format_minutes(day.billed_seconds)} min"
            ),
        )
        for n, day in enumerate(days)
    )
    return UsageChart(
        width=WIDTH,
        height=HEIGHT,
        baseline=baseline,
        bars=bars,
        peak_label=f"{format_minutes(peak)} min",
        first_label=f"{days[0].day:%d %b}" if days else "",
        last_label=f"{days[-1].day:%d %b}" if days else "",
    )


def _bar_height(seconds: int, peak: int) -> float:
    if peak == 0:
        return 0.0
    return float(Decimal(seconds) / Decimal(peak) * (HEIGHT - _BOTTOM - _TOP))


def _increment_text(increment: Increment) -> str:
    return f"{increment.init}/{increment.inc} s"


def make_environment() -> Environment:
    """Return the jinja2 environment of the client-area templates (autoescape on)."""
    environment = Environment(
        loader=PackageLoader("bridge.web", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["minutes"] = format_minutes
    environment.filters["duration"] = format_duration
    environment.filters["call_cost"] = format_call_cost
    environment.filters["rate"] = format_rate_price
    environment.filters["increment"] = _increment_text
    return environment


ENVIRONMENT = make_environment()


def page_state(history: CallHistory) -> dict[str, str | None]:
    """Return the ``vb…`` parameters that reproduce the page shown (defaults left out)."""
    query = history.query
    return {
        "vbperiod": history.period.start.isoformat(),
        "vbsort": None if query.sort == "date" else query.sort,
        "vbdir": "asc" if not query.descending else None,
        "vbq": query.search or None,
        "vbtype": query.direction.value if query.direction else None,
        "vbpage": str(query.page) if query.page > 1 else None,
    }


def page_numbers(page: int, pages: int) -> list[int | None]:
    """Return the page links to show: first, last and two around ``page``; ``None`` is a gap."""
    shown: list[int | None] = []
    previous = 0
    for number in sorted({1, pages, *range(max(1, page - 2), min(pages, page + 2) + 1)}):
        if number - previous == 2:
            shown.append(previous + 1)  # a gap of one page shows that page instead
        elif number - previous > 2:
            shown.append(None)
        shown.append(number)
        previous = number
    return shown


def render_client_area(
    *,
    service: Service,
    services: tuple[Service, ...],
    page: CallHistory | CallRates,
    links: ClientAreaLinks,
    currency: Currency,
    zone: str,
) -> str:
    """Return the HTML of a service's client area: its calls, or its Call Rates tab."""
    context: dict[str, Any] = {
        "service": service,
        "services": services,
        "links": links,
        "currency": currency,
        "zone": zone,
        "tab": "calls",
        "state": {"vbperiod": None},
    }
    if isinstance(page, CallRates):
        context.update(tab="rates", rates=page)
    else:
        context.update(_calls_context(page, links))
    return ENVIRONMENT.get_template("client_area/page.html").render(context)


def render_unavailable(service: Service) -> str:
    """Return the page shown when the service's usage cannot be rated (nothing configured)."""
    return ENVIRONMENT.get_template("client_area/unavailable.html").render(service=service)


def _calls_context(history: CallHistory, links: ClientAreaLinks) -> dict[str, Any]:
    state = page_state(history)
    query = history.query

    def sort_link(key: str) -> str:
        descending = not query.descending if query.sort == key else key in _NEWEST_FIRST
        return links.page(state, vbsort=key, vbdir=None if descending else "asc", vbpage=None)

    return {
        "history": history,
        "query": query,
        "state": state,
        "chart": lay_out_chart(history.days),
        "columns": COLUMNS,
        "call_types": CALL_TYPES,
        "sort_link": sort_link,
        "page_numbers": page_numbers(query.page, history.pages),
        "one_day": timedelta(days=1),
    }
