"""autobill: due services' usage becomes one billable item per invoice line, and never twice."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from freezegun import freeze_time
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import Connection

from bridge.calls import CollectedCdr
from bridge.clock import utc_now
from bridge.db import BoundDatabase
from bridge.jobs import JOBS
from bridge.jobs.base import JobContext, run_job
from bridge.rating import Cdr, Direction
from bridge.settings import Settings
from bridge.store.cdrs import store_cdrs
from bridge.store.locks import lock_name
from bridge.whmcs.tables import billable_items, hosting
from tests.jobs.billing_data import BillingData, billing_state
from tests.jobs.conftest import RunJob

DUE = date(2026, 12, 1)
AT_DUE = datetime(2026, 12, 1, 0, 55, tzinfo=UTC)


def _call(uuid: str, number: str, start: datetime, billsec: int) -> CollectedCdr:
    cdr = Cdr(uuid, Direction.OUTBOUND, "2112", "", number, start, billsec)
    return CollectedCdr(cdr, domain="anna.pbx.test")


def _items(conn: Connection, client_id: int) -> list[tuple[str, Decimal, int, date]]:
    rows = conn.execute(
        select(billable_items)
        .where(billable_items.c.userid == client_id)
        .order_by(billable_items.c.id)
    )
    return [(r.description, Decimal(r.amount), r.invoiceaction, r.duedate) for r in rows]


@pytest.fixture(name="anna")
def _anna(conn: Connection, data: BillingData) -> int:
    """Anna's metered service with four known calls instead of the random ones."""
    service = data.services["anna"]
    conn.execute(text("DELETE FROM mod_voipbridge_cdrs WHERE service_id = :s"), {"s": service})
    day = datetime.combine(DUE - timedelta(days=10), time(9), tzinfo=UTC)
    store_cdrs(
        conn,
        data.server,
        [
            _call("jm", "8765550123", day, 120),
            *(_call(f"us{n}", "4165550100", day + timedelta(hours=n + 1), 1800) for n in range(3)),
        ],
        now=day,
        service_id=service,
    )
    return data.clients["anna"]


class TestBilling:
    def test_a_due_service_gets_one_billable_item_per_line(
        self, conn: Connection, anna: int, run: RunJob
    ) -> None:
        """Lines with money become items (next cron run, due today); free lines are reported."""
        report = run("autobill", AT_DUE, service_id=None)

        # Jamaica's 120 s and 1,680 s of the first US call use the 30 free minutes; the rest,
        # 3,720 s = 62 min at 0.0100 + 15% = 0.0115/min, is 0.713.
        assert _items(conn, anna) == [
            (
                "Metered PBX (anna.pbx.test | 5195550000)\n"
                "Call Usage (01/11/2026 to 01/12/2026): [OUTBOUND] USA/Canada: 3 calls, 90 min "
                "(28 min free), $0.71 CAD",
                Decimal("0.71"),
                1,
                DUE,
            )
        ]
        assert report.ok
        assert report.counts["zero_lines_not_posted"] >= 1

    def test_not_due_yet_bills_nothing(self, conn: Connection, anna: int, run: RunJob) -> None:
        """The day before the due date nothing is billed."""
        run("autobill", AT_DUE - timedelta(days=1))

        assert _items(conn, anna) == []

    def test_running_again_the_same_day_or_later_bills_nothing_more(
        self, conn: Connection, anna: int, run: RunJob
    ) -> None:
        """A second run, the same day or with a later --now, finds nothing left to bill."""
        run("autobill", AT_DUE)
        again = run("autobill", AT_DUE + timedelta(hours=3))
        later = run("autobill", AT_DUE + timedelta(days=5))

        assert len(_items(conn, anna)) == 1
        assert again.counts.get("billable_items", 0) == later.counts.get("billable_items", 0) == 0

    def test_a_missed_day_is_caught_up_once(self, conn: Connection, anna: int, run: RunJob) -> None:
        """No run on the due date: three days later the period is billed, once."""
        run("autobill", AT_DUE + timedelta(days=3))
        run("autobill", AT_DUE + timedelta(days=4))

        assert [amount for _t, amount, _a, _d in _items(conn, anna)] == [Decimal("0.71")]

    def test_calls_after_the_due_date_wait_for_their_period(
        self, conn: Connection, anna: int, data: BillingData, run: RunJob
    ) -> None:
        """A call made after the due date is not in this bill; it is in the next one."""
        store_cdrs(
            conn, data.server, [_call("later", "4165550100", AT_DUE + timedelta(days=2), 3600)],
            now=AT_DUE, service_id=data.services["anna"],
        )  # fmt: skip
        run("autobill", AT_DUE + timedelta(days=3))
        conn.execute(
            hosting.update()
            .where(hosting.c.id == data.services["anna"])
            .values(nextduedate=date(2027, 1, 1))
        )
        run("autobill", datetime(2027, 1, 1, 0, 55, tzinfo=UTC))

        texts = [description for description, *_ in _items(conn, anna)]
        assert len(texts) == 2
        # A new period, new free minutes: 30 of the 60 are charged at 0.0115/min, 0.345.
        assert texts[1].endswith(
            "(01/12/2026 to 01/01/2027): [OUTBOUND] USA/Canada: 1 call, 60 min (30 min free), "
            "$0.35 CAD"
        )

    def test_a_late_call_of_a_billed_period_is_billed_with_that_periods_free_minutes(
        self, conn: Connection, anna: int, data: BillingData, run: RunJob
    ) -> None:
        """A call that reaches the store after its period was billed is billed next time, once."""
        run("autobill", AT_DUE)
        late = datetime.combine(DUE - timedelta(days=2), time(9), tzinfo=UTC)
        store_cdrs(
            conn, data.server, [_call("late", "4165550100", late, 600)],
            now=AT_DUE, service_id=data.services["anna"],
        )  # fmt: skip
        run("autobill", AT_DUE + timedelta(days=1))
        run("autobill", AT_DUE + timedelta(days=2))

        (_first, second) = _items(conn, anna)
        # The period's free minutes were used up by the first bill: all 10 minutes are charged.
        assert second[0].endswith("[OUTBOUND] USA/Canada: 1 call, 10 min, $0.12 CAD")
        assert "(01/11/2026 to 01/12/2026)" in second[0]
        assert second[1] == Decimal("0.12")

    def test_real_time_services_are_skipped(
        self, conn: Connection, data: BillingData, run: RunJob
    ) -> None:
        """A prepaid (real-time) service's usage is never put on an invoice by autobill."""
        report = run("autobill", AT_DUE)

        assert _items(conn, data.clients["ben"]) == []
        assert report.counts["skipped_realtime_services"] == 1

    def test_the_invoice_action_is_a_setting(
        self, conn: Connection, anna: int, settings: Settings
    ) -> None:
        """BRIDGE_INVOICE_ACTION=next-invoice makes items wait for WHMCS's next invoice (2)."""
        context = JobContext(
            BoundDatabase(conn),
            dataclasses.replace(settings, invoice_action="next-invoice"),
            AT_DUE,
        )

        run_job(JOBS["autobill"], context)

        assert [action for _t, _a, action, _d in _items(conn, anna)] == [2]


class TestRuns:
    def test_a_dry_run_reports_everything_and_writes_nothing(
        self, conn: Connection, data: BillingData, run: RunJob
    ) -> None:
        """--dry-run reports the money it would post; the database is as before."""
        before = billing_state(conn)

        dry = run("autobill", AT_DUE, dry_run=True)

        assert billing_state(conn) == before
        assert dry.dry_run
        assert dry.summary.startswith("dry run, nothing written")
        assert dry.money == run("autobill", AT_DUE).money

    def test_an_overlapping_run_is_skipped(
        self, conn: Connection, data: BillingData, run: RunJob, settings: Settings
    ) -> None:
        """While another process holds autobill's lock, a run skips and bills nothing."""
        other = create_engine(settings.database_url)
        try:
            with other.connect() as holder:
                name = lock_name(conn, "autobill")
                holder.execute(text("SELECT GET_LOCK(:n, 0)"), {"n": name})
                report = run("autobill", AT_DUE)
                holder.execute(text("SELECT RELEASE_LOCK(:n)"), {"n": name})
        finally:
            other.dispose()

        assert report.skipped == "locked"
        assert report.ok
        assert billing_state(conn)["billable_items"] == []

    def test_a_failing_service_is_reported_and_the_others_billed(
        self, conn: Connection, data: BillingData, run: RunJob
    ) -> None:
        """A product naming an unknown package fails its service only, named in the report."""
        conn.execute(
            text("UPDATE tblproducts SET configoption2 = 'Gone' WHERE id = :p"),
            {"p": data.products["UK Special"]},
        )

        report = run("autobill", AT_DUE)

        assert [error.subject for error in report.errors] == [f"service #{data.services['cleo']}"]
        assert "No VoIP package named 'Gone'" in report.errors[0].message
        assert report.counts["services_billed"] >= 2


class TestCalendar:
    def test_month_end_and_leap_day_periods(
        self, conn: Connection, anna: int, data: BillingData, settings: Settings
    ) -> None:
        """A service due on 31 March 2024 bills 29 February to 31 March, under a frozen clock."""
        conn.execute(
            hosting.update()
            .where(hosting.c.id == data.services["anna"])
            .values(nextduedate=date(2024, 3, 31))
        )
        conn.execute(
            text("DELETE FROM mod_voipbridge_cdrs WHERE service_id = :s"),
            {"s": data.services["anna"]},
        )
        store_cdrs(
            conn,
            data.server,
            [
                _call("feb28", "4165550100", datetime(2024, 2, 28, 23, tzinfo=UTC), 3600),
                _call("feb29", "4165550100", datetime(2024, 2, 29, 1, tzinfo=UTC), 3600),
            ],
            now=AT_DUE,
            service_id=data.services["anna"],
        )

        with freeze_time("2024-03-31 00:55:00"):
            run_job(JOBS["autobill"], JobContext(BoundDatabase(conn), settings, utc_now()))

        # 29 February starts the period ending on the due date; 28 February belongs to the one
        # before (from 31 January), which is billed too, as its own period with its own free
        # minutes: 30 of each 60 at 0.0115/min.
        assert [(text.split("\n")[1], amount) for text, amount, _a, _d in _items(conn, anna)] == [
            (
                "Call Usage (31/01/2024 to 29/02/2024): [OUTBOUND] USA/Canada: 1 call, 60 min "
                "(30 min free), $0.35 CAD",
                Decimal("0.35"),
            ),
            (
                "Call Usage (29/02/2024 to 31/03/2024): [OUTBOUND] USA/Canada: 1 call, 60 min "
                "(30 min free), $0.35 CAD",
                Decimal("0.35"),
            ),
        ]

    def test_periods_follow_whmcs_local_midnight_across_dst(
        self, conn: Connection, anna: int, data: BillingData, settings: Settings
    ) -> None:
        """In Toronto, a call at 23:30 local on the day before the due date (04:30 UTC) is in it."""
        toronto = dataclasses.replace(settings, timezone=ZoneInfo("America/Toronto"))
        due = date(2026, 3, 9)  # the day after the spring-forward change
        conn.execute(
            hosting.update().where(hosting.c.id == data.services["anna"]).values(nextduedate=due)
        )
        conn.execute(
            text("DELETE FROM mod_voipbridge_cdrs WHERE service_id = :s"),
            {"s": data.services["anna"]},
        )
        store_cdrs(
            conn,
            data.server,
            [
                # 23:30 on 8 March in Toronto (EDT, UTC-4): in the period ending 9 March.
                _call("in", "4165550100", datetime(2026, 3, 9, 3, 30, tzinfo=UTC), 3600),
                # 00:30 on 9 March in Toronto: the next period.
                _call("out", "4165550100", datetime(2026, 3, 9, 4, 30, tzinfo=UTC), 3600),
            ],
            now=AT_DUE,
            service_id=data.services["anna"],
        )

        with freeze_time("2026-03-09 05:00:00"):  # 01:00 in Toronto on the due date
            run_job(JOBS["autobill"], JobContext(BoundDatabase(conn), toronto, utc_now()))

        (item,) = _items(conn, anna)
        assert "(09/02/2026 to 09/03/2026): [OUTBOUND] USA/Canada: 1 call, 60 min" in item[0]


class TestWhmcsText:
    def test_a_destination_with_an_emoji_is_billed_in_either_sql_mode(
        self, conn: Connection, data: BillingData, run: RunJob, sql_mode: str
    ) -> None:
        """The tariff's "France 🇫🇷" reaches WHMCS's utf8mb3 table as "France ��", nothing lost."""
        report = run("autobill", AT_DUE)

        texts = [row.description for row in conn.execute(select(billable_items))]
        assert report.ok
        assert any("[OUTBOUND] France \ufffd\ufffd:" in text for text in texts)
