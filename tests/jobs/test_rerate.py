"""rerate: a billed period rated again after a rate fix; the difference posted once."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select, text
from sqlalchemy.engine import Connection

from bridge.calls import CollectedCdr
from bridge.rating import Cdr, Direction
from bridge.store.cdrs import store_cdrs
from bridge.store.tariffs import import_tariff
from bridge.whmcs.clients import get_credit
from bridge.whmcs.tables import billable_items, credit
from tests.jobs.billing_data import DUE, RATE_CARD, BillingData
from tests.jobs.conftest import RunJob

AT_DUE = datetime(2026, 12, 1, 0, 55, tzinfo=UTC)
PERIOD = "2026-11-01..2026-12-01"


@pytest.fixture(name="billed")
def _billed(conn: Connection, data: BillingData, run: RunJob) -> int:
    """Anna billed for two 60-minute US calls (30 free minutes): 90 min at 0.0115 is 1.035."""
    service = data.services["anna"]
    conn.execute(text("DELETE FROM mod_voipbridge_cdrs WHERE service_id = :s"), {"s": service})
    day = datetime.combine(DUE - timedelta(days=5), time(9), tzinfo=UTC)
    calls = [
        CollectedCdr(Cdr(f"c{n}", Direction.OUTBOUND, "2112", "", "4165550100", day, 3600))
        for n in range(2)
    ]
    store_cdrs(conn, data.server, calls, now=day, service_id=service)
    run("autobill", AT_DUE)
    return service


def _reprice(conn: Connection, usa: str) -> None:
    card = RATE_CARD.replace("USA/Canada,1,0.0100,6", f"USA/Canada,1,{usa},6")
    import_tariff(conn, "Test Tariff", card.splitlines(keepends=True), source="fix", now=AT_DUE)


class TestRerate:
    def test_a_higher_rate_is_billed_once_as_one_item(
        self, conn: Connection, data: BillingData, billed: int, run: RunJob
    ) -> None:
        """Doubling the US rate adds one item for the difference; a second run adds nothing."""
        _reprice(conn, "0.0200")

        first = run(
            "rerate", AT_DUE + timedelta(days=2), service_id=billed, options={"period": PERIOD}
        )
        second = run(
            "rerate", AT_DUE + timedelta(days=3), service_id=billed, options={"period": PERIOD}
        )

        items = conn.execute(
            select(billable_items.c.description, billable_items.c.amount)
            .where(billable_items.c.userid == data.clients["anna"])
            .order_by(billable_items.c.id)
        ).all()
        # Was 90 min x 0.0115 = 1.035 -> 1.04; now 90 min x 0.0230 = 2.070 -> 2.07.
        assert [Decimal(row.amount) for row in items] == [
            Decimal("1.04"),
            Decimal("1.03"),
        ]
        assert "billed $1.04 CAD, now $2.07 CAD" in items[-1].description
        assert "(adjusts tblbillableitems #" in items[-1].description
        assert first.money == {"CAD": Decimal("1.03")}
        assert second.money == {"CAD": Decimal("0")}
        assert "nothing to post" in second.summary

    def test_a_lower_rate_is_given_back_as_credit(
        self, conn: Connection, data: BillingData, billed: int, run: RunJob
    ) -> None:
        """Halving the rate credits the client the difference, once."""
        client = data.clients["anna"]
        before = get_credit(conn, client)
        _reprice(conn, "0.0050")

        run("rerate", AT_DUE + timedelta(days=2), service_id=billed, options={"period": PERIOD})
        run("rerate", AT_DUE + timedelta(days=3), service_id=billed, options={"period": PERIOD})

        # Now 90 min x 0.00575 = 0.5175 -> 0.52, against 1.04 billed: 0.52 back.
        rows = conn.execute(select(credit.c.amount).where(credit.c.clientid == client)).all()
        assert [Decimal(row.amount) for row in rows] == [Decimal("0.52")]
        assert get_credit(conn, client) == before + Decimal("0.52")

    def test_a_period_never_billed_cannot_be_rerated(
        self, conn: Connection, data: BillingData, run: RunJob
    ) -> None:
        """Re-rating a period autobill has not billed yet is refused, with what to do."""
        report = run(
            "rerate",
            AT_DUE,
            service_id=data.services["dev"],
            options={"period": "2027-01-01..2027-02-01"},
        )

        assert not report.ok
        assert "nothing to re-rate" in report.errors[0].message

    def test_rerate_needs_a_service_and_a_period(self, run: RunJob, data: BillingData) -> None:
        """Without --service and --period the job refuses to start."""
        from bridge.errors import InvalidRequest

        with pytest.raises(InvalidRequest, match="--service ID and --period"):
            run("rerate", AT_DUE)
