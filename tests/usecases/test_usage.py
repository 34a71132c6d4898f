"""A service's usage for a period: the plan its product names, its stored calls, its lines."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Connection

from bridge.calls import CollectedCdr
from bridge.errors import NotConfigured
from bridge.rating import Cdr, Direction, Status, rate_calls
from bridge.rating.package_toml import parse_package_toml
from bridge.store.cdrs import store_cdrs
from bridge.store.packages import save_package, save_special_rules
from bridge.store.tariffs import import_tariff
from bridge.usecases.usage import RatePlans, SharedTariffs, rate_service_usage
from bridge.whmcs.cycles import BillingPeriod
from bridge.whmcs.services import Product, get_service
from tests.factories.whmcs import make_client, make_currency, make_product, make_service

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"
TORONTO = ZoneInfo("America/Toronto")
PACKAGE = "AU 13/1800 Numbers"


def _example(conn: Connection) -> None:
    card = (EXAMPLES / "tariff-au.csv").read_text().splitlines(keepends=True)
    import_tariff(conn, "AU-2025-11", card, source="tariff-au.csv", now=NOW)
    parsed = parse_package_toml((EXAMPLES / "package-au-1300.toml").read_text())
    save_package(conn, parsed.package, tariff="AU-2025-11", now=NOW)
    save_special_rules(conn, 12, parsed.special.rules)


def _product(product_id: int, *, special: bool) -> Product:
    settings = {"VoIP Package": PACKAGE, "Special Number Billing": "on" if special else ""}
    return Product(product_id, "AU numbers", 1, "VoIP", "fusionpbx", settings)


def _call(uuid: str, start: datetime, number: str = "1300123456", billsec: int = 45) -> Cdr:
    return Cdr(
        uuid=uuid, direction=Direction.OUTBOUND, caller_number="201", caller_destination="",
        destination_number=number, start=start, billsec=billsec,
    )  # fmt: skip


class TestRatePlans:
    def test_rate_plan_from_storage_rates_like_the_file(self, conn: Connection) -> None:
        """A plan loaded from storage bills a 1300 call exactly as the PACKAGE.toml preview does."""
        _example(conn)

        plan = RatePlans().plan_for(conn, _product(12, special=True))
        (rated,) = rate_calls([_call("c1", NOW)], plan.plan).calls

        assert rated.status is Status.BILLED
        assert rated.cost == Decimal("0.350000")

    def test_one_run_loads_each_tariff_once(self, conn: Connection) -> None:
        """Many products on one package read the tariff's rates from the database once."""
        _example(conn)
        tariff_reads: list[str] = []

        def count(*args: Any) -> None:
            statement = args[2]
            if "mod_voipbridge_tariff_rates" in statement:
                tariff_reads.append(statement)

        event.listen(conn, "before_cursor_execute", count)
        try:
            plans = RatePlans()
            loaded = [plans.plan_for(conn, _product(n, special=False)) for n in range(50, 60)]
            special = plans.plan_for(conn, _product(12, special=True))
        finally:
            event.remove(conn, "before_cursor_execute", count)

        assert len(tariff_reads) == 1
        assert all(plan is loaded[0] for plan in loaded)
        assert special.plan.tariff is loaded[0].plan.tariff
        assert special.plan.special.enabled
        assert not loaded[0].plan.special.enabled

    def test_a_product_without_a_package_says_what_to_set(self, conn: Connection) -> None:
        """A product naming no package cannot be rated, and the message says where to fix it."""
        product = Product(7, "Bare PBX", 1, "VoIP", "fusionpbx", {"VoIP Package": ""})

        with pytest.raises(NotConfigured, match="names no VoIP Package"):
            RatePlans().plan_for(conn, product)


class TestSharedTariffs:
    def test_a_kept_tariff_is_reused_until_it_is_imported_again(self, conn: Connection) -> None:
        """Later runs reuse the loaded tariff without reading its rates; a re-import reloads."""
        _example(conn)
        shared = SharedTariffs()
        product = _product(12, special=False)
        rate_reads: list[str] = []

        def count(*args: Any) -> None:
            statement = args[2]
            if "FROM mod_voipbridge_tariff_rates" in statement and "max(" not in statement:
                rate_reads.append(statement)

        event.listen(conn, "before_cursor_execute", count)
        try:
            first = RatePlans(shared=shared).plan_for(conn, product).plan.tariff
            again = RatePlans(shared=shared).plan_for(conn, product).plan.tariff
            reads_before_import = len(rate_reads)
            card = "Description,Prefix,RateValue,Increment\nAustralia,61,0.5000,60\n"
            import_tariff(conn, "AU-2025-11", card.splitlines(keepends=True), source="x", now=NOW)
            fresh = RatePlans(shared=shared).plan_for(conn, product).plan.tariff
        finally:
            event.remove(conn, "before_cursor_execute", count)

        assert again is first
        assert reads_before_import == 1
        assert fresh is not first
        assert fresh is not None
        assert [row.rate for row in fresh] == [Decimal("0.5000")]


class TestServiceUsage:
    def test_only_the_periods_calls_are_rated_in_the_clients_currency(
        self, conn: Connection
    ) -> None:
        """Calls are taken from midnight to midnight in WHMCS's zone; lines show the period."""
        _example(conn)
        aud = make_currency(conn, code="AUD", prefix="A$", suffix=" AUD", default=False)
        client = make_client(conn, currency_id=aud)
        product = make_product(conn, settings={"VoIP Package": PACKAGE})
        service_id = make_service(conn, client, product_id=product, next_due=date(2026, 12, 1))
        service = get_service(conn, service_id)
        assert service.server is not None
        period = BillingPeriod(date(2026, 11, 1), date(2026, 12, 1))
        mobile = "0412345678"
        store_cdrs(
            conn,
            service.server.id,
            [
                # 23:30 on 31 October in Toronto (UTC-4): the day before the period.
                CollectedCdr(_call("before", datetime(2026, 11, 1, 3, 30, tzinfo=UTC), mobile)),
                # 00:30 on 1 November in Toronto: the period's first hour.
                CollectedCdr(_call("first", datetime(2026, 11, 1, 4, 30, tzinfo=UTC), mobile, 600)),
                # 23:59 on 30 November in Toronto (UTC-5 by then): the period's last minute.
                CollectedCdr(_call("last", datetime(2026, 12, 1, 4, 59, tzinfo=UTC), mobile, 600)),
                CollectedCdr(_call("after", datetime(2026, 12, 1, 5, 0, tzinfo=UTC), mobile)),
            ],
            now=NOW,
            service_id=service_id,
        )

        usage = rate_service_usage(conn, service, period, plans=RatePlans(), zone=TORONTO)

        assert [call.uuid for call in usage.result.calls] == ["first", "last"]
        (section,) = usage.sections
        # 0412345678 is 61412345678: Australia Mobile at 0.08 + 10% markup = 0.088/min; 20 min
        # billed, the package's 10 free minutes first: 10 x 0.088 = 0.88.
        assert section.text(
            currency_prefix=usage.currency.prefix, currency_suffix=usage.currency.suffix
        ) == (
            "Call Usage (01/11/2026 to 01/12/2026)\n"
            "[OUTBOUND] Australia Mobile: 2 calls, 20 min (10 min free), A$0.88 AUD"
        )
