"""Formatting helpers of the client-area templates, and the daily chart's layout."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from bridge.usecases.call_history import DayUsage
from bridge.web.client_links import preview_links, whmcs_links
from bridge.web.client_templates import (
    HEIGHT,
    format_call_cost,
    format_duration,
    format_rate_price,
    lay_out_chart,
    page_numbers,
)
from bridge.whmcs.currencies import Currency

CAD = Currency(2, "CAD", "$", " CAD", 1, Decimal("1"))


@pytest.mark.parametrize(
    ("page", "pages", "shown"),
    [
        (1, 1, [1]),
        (1, 3, [1, 2, 3]),
        (1, 9, [1, 2, 3, None, 9]),
        (5, 9, [1, 2, 3, 4, 5, 6, 7, 8, 9]),
        (7, 20, [1, None, 5, 6, 7, 8, 9, None, 20]),
        (20, 20, [1, None, 18, 19, 20]),
    ],
)
def test_page_links_keep_first_last_and_neighbours(
    page: int, pages: int, shown: list[int | None]
) -> None:
    """Page links show the ends and two pages either side, with gaps marked."""
    assert page_numbers(page, pages) == shown


def test_durations_costs_and_rates_read_naturally() -> None:
    """Durations as m:ss or h:mm:ss, call costs to 4 places, rates to at least 2."""
    assert [format_duration(s) for s in (0, 95, 3600, 3725)] == [
        "0:00",
        "1:35",
        "1:00:00",
        "1:02:05",
    ]
    assert format_call_cost(Decimal("0.011667"), CAD) == "$0.0117 CAD"
    assert format_call_cost(Decimal("0.011667"), CAD, suffix=False) == "$0.0117"
    assert format_rate_price(Decimal("0.02875"), CAD) == "$0.02875 CAD"
    assert format_rate_price(Decimal("0"), CAD) == "$0.00 CAD"
    assert format_rate_price(Decimal("0.5"), CAD) == "$0.50 CAD"


def test_chart_scales_bars_to_the_busiest_day() -> None:
    """The busiest day fills the plot, a quiet day is proportionally short, an idle one empty."""
    start = date(2026, 11, 1)
    days = [
        DayUsage(start, 2, 600, Decimal("1")),
        DayUsage(start + timedelta(days=1), 1, 150, Decimal("0.2")),
        DayUsage(start + timedelta(days=2), 0, 0, Decimal("0")),
    ]

    chart = lay_out_chart(days)

    tallest, quarter, idle = chart.bars
    assert tallest.height == pytest.approx(quarter.height * 4)
    assert tallest.y + tallest.height == chart.baseline < HEIGHT
    assert idle.height == 0
    assert tallest.title == "2026-11-01: 2 calls, 10 min"
    assert quarter.title == "2026-11-02: 1 call, 2.5 min"
    assert not chart.empty
    assert lay_out_chart(days[2:]).empty
    assert lay_out_chart([]).bars == ()


def test_links_keep_the_page_state_and_drop_cleared_values() -> None:
    """Links carry the page's parameters; None or empty values are left out."""
    links = whmcs_links(42)
    state = {"vbperiod": "2026-11-01", "vbq": "bob", "vbpage": "2"}

    assert links.page(state, vbpage=None) == (
        "clientarea.php?action=productdetails&id=42&vbperiod=2026-11-01&vbq=bob"
    )
    assert (
        links.export({}) == "clientarea.php?action=productdetails&id=42&modop=custom&a=exportCalls"
    )
    assert links.service(7) == "clientarea.php?action=productdetails&id=7"
    assert preview_links(42).page({}) == "/demo/client-area/42"
    assert preview_links(42).page({"vbq": "a b"}) == "/demo/client-area/42?vbq=a+b"
