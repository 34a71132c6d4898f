"""The CSV export: the period's calls as the invoice rates them, inert in spreadsheets."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.engine import Connection

from bridge.db import BoundDatabase
from bridge.rating import Direction
from bridge.usecases.call_export import (
    BOM,
    HEADER,
    export_filename,
    inert_cell,
    stream_call_csv,
)
from bridge.usecases.call_history import PageQuery, show_call_history
from bridge.usecases.usage import RatePlans, rate_service_usage
from bridge.whmcs.clients import get_client
from bridge.whmcs.cycles import BillingPeriod
from bridge.whmcs.services import get_service
from tests.usecases.client_area_data import (
    DUE,
    FORMULA_NAME,
    HOSTILE_NAME,
    PERIOD_START,
    TODAY,
    CallSpec,
    make_cad_client,
    make_metered_service,
    seed_plans,
    store_calls,
)

UTC_ZONE = ZoneInfo("UTC")
PERIOD = BillingPeriod(PERIOD_START, DUE)


def _export(conn: Connection, service_id: int, query: PageQuery | None = None) -> list[bytes]:
    service = get_service(conn, service_id)
    return list(
        stream_call_csv(
            BoundDatabase(conn), service, PERIOD, query or PageQuery(), zone=UTC_ZONE,
            currency_code="CAD",
        )
    )  # fmt: skip


def _rows(chunks: list[bytes]) -> list[dict[str, str]]:
    text = b"".join(chunks).decode("utf-8")
    assert text.startswith(BOM)
    return list(csv.DictReader(io.StringIO(text.removeprefix(BOM), newline="")))


@pytest.fixture(name="metered")
def _metered(conn: Connection) -> int:
    seed_plans(conn)
    return make_metered_service(conn, make_cad_client(conn))


class TestCsvExport:
    def test_rows_and_total_match_the_page_and_the_invoice(
        self, conn: Connection, metered: int
    ) -> None:
        """The file lists the page's calls with the costs usage computes, to the last digit."""
        service = get_service(conn, metered)
        client = get_client(conn, service.client_id)
        history = show_call_history(
            conn, service, PageQuery(sort="date", descending=False), today=TODAY, zone=UTC_ZONE,
            currency=client.currency, balance=client.credit,
        )  # fmt: skip
        usage = rate_service_usage(conn, service, PERIOD, plans=RatePlans(), zone=UTC_ZONE)

        rows = _rows(_export(conn, metered))

        assert list(rows[0]) == list(HEADER)
        assert [row["Number"] for row in rows] == [row.number for row in history.rows]
        assert [Decimal(row["Cost"]) for row in rows] == [row.cost for row in history.rows]
        assert sum(Decimal(row["Cost"]) for row in rows) == sum(
            call.cost for call in usage.result.calls
        )
        assert {row["Currency"] for row in rows} == {"CAD"}
        assert rows[0]["Date"] == "2026-11-01"
        assert rows[0]["Time"] == "01:00:00"

    def test_hostile_caller_names_stay_text(self, conn: Connection, metered: int) -> None:
        """A formula caller name is prefixed with ' and markup comes back as the same text."""
        names = {row["Caller name"] for row in _rows(_export(conn, metered))}

        assert HOSTILE_NAME in names
        assert "'" + FORMULA_NAME in names
        assert FORMULA_NAME not in names

    def test_filters_of_the_page_apply(self, conn: Connection, metered: int) -> None:
        """Exporting with the inbound filter gives the inbound calls only."""
        rows = _rows(_export(conn, metered, PageQuery(direction=Direction.INBOUND)))

        assert [row["Direction"] for row in rows] == ["inbound"]

    def test_a_large_month_comes_in_several_chunks(self, conn: Connection, metered: int) -> None:
        """1,200 calls are written in chunks as they are read, not as one block."""
        extra = tuple(CallSpec(600 + n, "outbound", f"416555{n:04d}", 30) for n in range(1200))
        store_calls(conn, metered, extra, prefix="x")

        chunks = _export(conn, metered)

        assert len(chunks) >= 3
        assert len(_rows(chunks)) == 1208

    @pytest.mark.parametrize(
        ("cell", "written"),
        [
            ("=1+2", "'=1+2"),
            ("+15551234", "'+15551234"),
            ("-2", "'-2"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tx", "'\tx"),
            ("\rx", "'\rx"),
            ("Alice", "Alice"),
            ("", ""),
        ],
    )
    def test_formula_starts_are_defused(self, cell: str, written: str) -> None:
        """Every character a spreadsheet starts a formula with gets a leading quote."""
        assert inert_cell(cell) == written

    def test_filename_names_the_service_and_period(self, conn: Connection, metered: int) -> None:
        """The download is called calls-<service>-<period start>.csv."""
        service = get_service(conn, metered)

        assert export_filename(service, BillingPeriod(date(2026, 11, 1), DUE)) == (
            f"calls-{metered}-2026-11-01.csv"
        )
