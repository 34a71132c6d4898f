"""The daily-usage chart of the client area, laid out here and drawn as inline SVG by the template.

One bar per day of the period, its height the day's billed minutes against the busiest day;
each bar carries a ``<title>`` (date, calls, minutes) so hovering or a screen reader tells the
figures. Layout is plain arithmetic on a fixed ``viewBox``, so the SVG scales to any width.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from bridge.rating.groups import format_minutes
from bridge.usecases.call_history import DayUsage

WIDTH = 600
HEIGHT = 160
_TOP = 20
_BOTTOM = 20
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
