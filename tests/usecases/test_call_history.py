"""The client area's call list: the invoice's costs, filters, sorting, pages and periods."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.engine import Connection

from bridge.rating import Direction
from bridge.usecases.call_history import (
    PER_PAGE,
    CallHistory,
    CallRow,
    PageQuery,
    daily_usage,
    list_service_periods,
    read_page_query,
    show_call_history,
)
from bridge.usecases.usage import RatePlans, iter_service_calls, rate_service_usage
from bridge.whmcs.clients import get_client
from bridge.whmcs.cycles import BillingPeriod
from bridge.whmcs.services import get_service
from tests.factories.whmcs import make_service
from tests.usecases.client_area_data import (
    DUE,
    FORMULA_NAME,
    HOSTILE_NAME,
    PERIOD_START,
    SPECIAL_CALLS,
    TODAY,
    CallSpec,
    make_cad_client,
    make_metered_service,
    make_voip_product,
    seed_plans,
    store_calls,
)

UTC_ZONE = ZoneInfo("UTC")


def _history(conn: Connection, service_id: int, query: PageQuery | None = None) -> CallHistory:
    service = get_service(conn, service_id)
    client = get_client(conn, service.client_id)
    return show_call_history(
        conn, service, query or PageQuery(), today=TODAY, zone=UTC_ZONE,
        currency=client.currency, balance=client.credit,
    )  # fmt: skip


def _all_rows(conn: Connection, service_id: int, query: PageQuery) -> list[CallRow]:
    rows: list[CallRow] = []
    page = 1
    while True:
        history = _history(conn, service_id, replace(query, page=page))
        rows.extend(history.rows)
        if page >= history.pages:
            return rows
        page += 1


@pytest.fixture(name="metered")
def _metered(conn: Connection) -> int:
    seed_plans(conn)
    return make_metered_service(conn, make_cad_client(conn))


class TestTotals:
    def test_costs_and_amount_agree_with_the_invoice_usage(
        self, conn: Connection, metered: int
    ) -> None:
        """The page's amount is the invoice lines' sum and its calls cost what usage rates."""
        service = get_service(conn, metered)
        usage = rate_service_usage(
            conn, service, BillingPeriod(PERIOD_START, DUE), plans=RatePlans(), zone=UTC_ZONE
        )
        history = _history(conn, metered)

        lines = [line.amount for section in usage.sections for line in section.lines]
        assert history.summary.amount == sum(lines) > 0
        assert sum(row.cost for row in history.rows) == sum(
            call.cost for call in usage.result.calls
        )
        assert history.summary.free_used == usage.result.free_seconds_used == 120
        assert history.summary.free_left == 0
        assert str(history.summary.currency.code) == "CAD"

    def test_only_shown_calls_of_the_period_are_listed(
        self, conn: Connection, metered: int
    ) -> None:
        """Calls before and after the period and suppressed ones (*97) are not listed."""
        history = _history(conn, metered)

        numbers = [row.number for row in history.rows]
        assert "*97" not in numbers
        assert len(numbers) == history.summary.calls == 8
        assert {row.started.date() for row in history.rows} <= {
            date(2026, 11, day) for day in range(1, 31)
        }
        notes = {row.number: row.note for row in history.rows}
        assert notes["911"] == "Not billed"
        assert notes["2113"] == "Internal"

    def test_realtime_services_show_the_running_balance(self, conn: Connection) -> None:
        """A prepaid (real-time billed) service shows the client's credit; others do not."""
        seed_plans(conn)
        client = make_cad_client(conn, credit=Decimal("12.34"))
        product = make_voip_product(conn, "Prepaid")
        prepaid = make_service(conn, client, product_id=product, next_due=DUE)
        metered = make_metered_service(conn, client)

        assert _history(conn, prepaid).summary.balance == Decimal("12.34")
        assert _history(conn, prepaid).summary.realtime
        assert _history(conn, metered).summary.balance is None

    def test_special_rate_products_show_only_matching_calls(self, conn: Connection) -> None:
        """On a Special Number Billing product, calls no rule matches are not listed."""
        product = make_voip_product(conn, "UK Special", special=True)
        seed_plans(conn, special_product=product)
        service = make_service(conn, make_cad_client(conn), product_id=product, next_due=DUE)
        store_calls(conn, service, SPECIAL_CALLS)

        history = _history(conn, service)

        assert sorted(row.number for row in history.rows) == ["08001234567", "08451234567"]
        assert all(row.special for row in history.rows)


class TestFilters:
    def test_call_type_filter(self, conn: Connection, metered: int) -> None:
        """The inbound filter lists only the inbound call, caller name as the PBX sent it."""
        history = _history(conn, metered, PageQuery(direction=Direction.INBOUND))

        assert [row.caller_name for row in history.rows] == [HOSTILE_NAME]
        assert history.matching == 1
        assert history.summary.calls == 8

    def test_search_by_name_and_by_number_however_written(
        self, conn: Connection, metered: int
    ) -> None:
        """A name matches case-blind; a number matches with spaces, dashes or a plus sign."""
        by_name = _history(conn, metered, PageQuery(search="bob"))
        by_number = _history(conn, metered, PageQuery(search="+613-555"))

        assert [row.caller_name for row in by_name.rows] == ["Bob"]
        assert [row.caller_name for row in by_number.rows] == [FORMULA_NAME]

    @pytest.mark.parametrize(
        ("sort", "descending"), [("cost", True), ("duration", False), ("name", False)]
    )
    def test_sorting(self, conn: Connection, metered: int, sort: str, descending: bool) -> None:
        """Sorting orders the rows by the column asked for, either way."""
        rows = _history(conn, metered, PageQuery(sort=sort, descending=descending)).rows
        keys: Callable[[CallRow], Any] = {
            "cost": lambda row: row.cost,
            "duration": lambda row: row.duration,
            "name": lambda row: row.caller_name.casefold(),
        }[sort]
        assert [keys(row) for row in rows] == sorted(
            (keys(row) for row in rows), reverse=descending
        )
        assert len({keys(row) for row in rows}) > 2

    def test_pages_cut_a_large_month_and_a_page_past_the_end_shows_the_last(
        self, conn: Connection, metered: int
    ) -> None:
        """120 more calls make three pages; asking for page 99 shows the last one."""
        extra = tuple(CallSpec(600 + n, "outbound", f"416555{n:04d}", 30) for n in range(120))
        store_calls(conn, metered, extra, prefix="x")

        first = _history(conn, metered)
        last = _history(conn, metered, PageQuery(page=99))
        everything = _all_rows(conn, metered, PageQuery())

        assert first.pages == 3
        assert len(first.rows) == PER_PAGE
        assert last.query.page == 3
        assert len(last.rows) == 128 - 2 * PER_PAGE
        assert len({row.uuid for row in everything}) == 128


class TestPeriods:
    def test_current_period_first_and_older_ones_selectable(
        self, conn: Connection, metered: int
    ) -> None:
        """Periods run back from the current one; choosing October shows no November calls."""
        service = get_service(conn, metered)
        periods = list_service_periods(service, TODAY)
        october = _history(conn, metered, PageQuery(period_start=date(2026, 10, 1)))

        assert periods[0] == BillingPeriod(date(2026, 11, 1), date(2026, 12, 1))
        assert periods[1] == BillingPeriod(date(2026, 10, 1), date(2026, 11, 1))
        assert october.period == periods[1]
        assert [row.number for row in october.rows] == ["4165550100"]

    def test_an_unknown_period_falls_back_to_the_current_one(
        self, conn: Connection, metered: int
    ) -> None:
        """A period start that is no period of the service shows the current period."""
        history = _history(conn, metered, PageQuery(period_start=date(2020, 1, 7)))

        assert history.period.start == PERIOD_START

    @pytest.mark.parametrize("cycle", ["Monthly", "One Time"])
    def test_a_service_without_a_cycle_is_shown_by_calendar_month(
        self, conn: Connection, cycle: str
    ) -> None:
        """No due date, or a cycle without periods: calendar months, this one first."""
        client = make_cad_client(conn)
        service = get_service(conn, make_service(conn, client, next_due=None))
        service = replace(
            service, billing_cycle=cycle, next_due_date=None if cycle == "Monthly" else DUE
        )

        periods = list_service_periods(service, TODAY)

        assert periods[0] == BillingPeriod(date(2026, 11, 1), date(2026, 12, 1))
        assert periods[2] == BillingPeriod(date(2026, 9, 1), date(2026, 10, 1))


class TestDailyUsage:
    def test_days_are_whmcs_calendar_days(self, conn: Connection, metered: int) -> None:
        """In Toronto a call at 00:00 UTC on 2 November counts for 1 November; one past the
        period's end counts nowhere."""
        service = get_service(conn, metered)
        period = BillingPeriod(PERIOD_START, DUE)
        pairs = list(
            iter_service_calls(conn, service, period, plans=RatePlans(), zone=ZoneInfo("UTC"))
        )
        (late,) = [p for p in pairs if p[0].caller_name == "Bob"]  # 2 Nov 01:00 UTC
        outside = replace(
            late[0], call=replace(late[0].call, start=datetime(2026, 12, 1, 5, 1, tzinfo=UTC))
        )

        days = daily_usage([late, (outside, late[1])], period, ZoneInfo("America/Toronto"))

        assert len(days) == 30
        assert (days[0].day, days[0].calls, days[0].billed_seconds) == (PERIOD_START, 1, 300)
        assert days[0].cost == late[1].cost
        assert sum(day.calls for day in days) == 1


class TestPageQuery:
    def test_good_values_are_read(self) -> None:
        """Every page parameter is read when it is well formed."""
        query = read_page_query(
            {
                "vbperiod": "2026-10-01", "vbsort": "cost", "vbdir": "asc", "vbq": "  Bob  Smith ",
                "vbtype": "inbound", "vbpage": "3", "vbtab": "rates", "vbrq": "Jamaica",
            }
        )  # fmt: skip

        assert query == PageQuery(
            date(2026, 10, 1), "cost", False, "Bob Smith", Direction.INBOUND, 3, "rates", "Jamaica"
        )

    @pytest.mark.parametrize(
        "bad",
        [
            {"vbperiod": "2026-13-45"},
            {"vbsort": "uuid; DROP TABLE"},
            {"vbdir": "sideways"},
            {"vbtype": "sideways"},
            {"vbpage": "-1"},
            {"vbpage": "0"},
            {"vbpage": "9999999999"},
            {"vbpage": "²"},
            {"vbtab": "admin"},
        ],
    )
    def test_bad_values_fall_back_to_defaults(self, bad: dict[str, str]) -> None:
        """A malformed parameter never raises: it reads as the default page."""
        assert read_page_query(bad) == PageQuery()
