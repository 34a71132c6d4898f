"""realtime: new calls' cost comes off the client's credit in whole cents, each call once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select, text
from sqlalchemy.engine import Connection

from bridge.calls import CollectedCdr
from bridge.rating import Cdr, Direction
from bridge.rating.package_toml import parse_package_toml
from bridge.store.cdrs import store_cdrs
from bridge.store.packages import save_package, save_special_rules
from bridge.store.tables import billed_calls
from bridge.whmcs.clients import get_credit
from bridge.whmcs.tables import credit, products
from tests.jobs.billing_data import BillingData
from tests.jobs.conftest import RunJob

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def _call(uuid: str, number: str, start: datetime, billsec: int) -> CollectedCdr:
    cdr = Cdr(uuid, Direction.OUTBOUND, "2112", "", number, start, billsec)
    return CollectedCdr(cdr, domain="ben.pbx.test")


def _credit_rows(conn: Connection, client: int) -> list[tuple[str, Decimal]]:
    rows = conn.execute(select(credit).where(credit.c.clientid == client).order_by(credit.c.id))
    return [(row.description, Decimal(row.amount)) for row in rows]


@pytest.fixture(name="ben")
def _ben(conn: Connection, data: BillingData) -> int:
    """Ben's prepaid (real-time) service with no calls yet; returns his client id."""
    conn.execute(
        text("DELETE FROM mod_voipbridge_cdrs WHERE service_id = :s"), {"s": data.services["ben"]}
    )
    return data.clients["ben"]


def _store(conn: Connection, data: BillingData, *calls: CollectedCdr) -> None:
    store_cdrs(conn, data.server, list(calls), now=NOW, service_id=data.services["ben"])


class TestRealtime:
    def test_new_calls_come_off_credit_once_with_one_row_per_run(
        self, conn: Connection, data: BillingData, ben: int, run: RunJob
    ) -> None:
        """Two calls cost 0.12 + 0.03: one tblcredit row of -0.15; a second run takes nothing."""
        _store(
            conn, data,
            _call("a", "4165550100", NOW - timedelta(hours=2), 600),
            _call("b", "4165550100", NOW - timedelta(hours=1), 150),
        )  # fmt: skip

        first = run("realtime", NOW)
        second = run("realtime", NOW + timedelta(minutes=5))

        # 0.0100 + 20% = 0.012/min: 600 s is 0.120, 150 s (30/6) is 0.030.
        assert _credit_rows(conn, ben) == [
            (
                "VoIP usage, Prepaid PBX (ben.pbx.test | 5195550001): 2 call(s) "
                "(01/11/2026 to 01/12/2026)",
                Decimal("-0.15"),
            )
        ]
        assert get_credit(conn, ben) == Decimal("19.85")
        assert first.money == {"CAD": Decimal("0.15")}
        assert second.counts.get("calls_billed", 0) == 0

    def test_sub_cent_costs_are_carried_so_cents_taken_equal_the_rounded_sum(
        self, conn: Connection, data: BillingData, ben: int, run: RunJob
    ) -> None:
        """Five runs of one 0.006 call each take 0.01, 0, 0.01, 0, 0.01: round(0.030) in all."""
        taken = []
        for n in range(5):
            _store(conn, data, _call(f"s{n}", "4165550100", NOW + timedelta(minutes=n), 30))
            before = get_credit(conn, ben)
            run("realtime", NOW + timedelta(minutes=n, seconds=30))
            taken.append(before - get_credit(conn, ben))

        assert taken == [Decimal(x) for x in ("0.01", "0.00", "0.01", "0.00", "0.01")]
        assert [amount for _text, amount in _credit_rows(conn, ben)] == [Decimal("-0.01")] * 3

    def test_free_minutes_continue_across_runs(
        self, conn: Connection, data: BillingData, ben: int, run: RunJob
    ) -> None:
        """With one free minute, the first run's call is free and the second run's is charged."""
        package = parse_package_toml(
            'name = "Prepaid"\ncountry_code = "1"\nnanp_10_digit = true\nfree_minutes = 1\n'
            'outbound_increment = "6/6"\nrealtime_billing = true\n',
            source="test",
        )
        save_package(conn, package.package, tariff="Test Tariff", realtime_billing=True, now=NOW)
        _store(conn, data, _call("f1", "4165550100", NOW - timedelta(hours=1), 60))
        run("realtime", NOW)
        _store(conn, data, _call("f2", "4165550100", NOW + timedelta(minutes=1), 60))
        run("realtime", NOW + timedelta(minutes=5))

        free = conn.execute(
            select(billed_calls.c.free_seconds, billed_calls.c.cost).order_by(billed_calls.c.id)
        ).all()
        assert [(row.free_seconds, row.cost) for row in free] == [
            (60, Decimal("0.000000")),
            (0, Decimal("0.010000")),
        ]
        assert get_credit(conn, ben) == Decimal("19.99")

    def test_special_rate_calls_are_ledgered_as_special_rate(
        self, conn: Connection, data: BillingData, ben: int, run: RunJob
    ) -> None:
        """A real-time product with Special Number Billing bills matching calls as SpecialRate."""
        parsed = parse_package_toml(
            'name = "Prepaid"\ncountry_code = "1"\nrealtime_billing = true\n'
            '[[special_rules]]\nname = "Toll"\npattern = "1900*"\ntype = "prefix"\n'
            'direction = "outbound"\nmode = "flat_per_call"\nflat = "0.50"\n',
            source="test",
        )
        save_package(conn, parsed.package, tariff="Test Tariff", realtime_billing=True, now=NOW)
        save_special_rules(conn, data.products["Prepaid"], parsed.special.rules)
        conn.execute(
            products.update()
            .where(products.c.id == data.products["Prepaid"])
            .values(configoption3="on")
        )
        _store(conn, data, _call("t1", "19005550100", NOW - timedelta(hours=1), 20))

        run("realtime", NOW)

        row = conn.execute(select(billed_calls.c.calltype, billed_calls.c.cost)).one()
        assert (row.calltype, row.cost) == ("SpecialRate", Decimal("0.500000"))
        assert get_credit(conn, ben) == Decimal("19.50")
