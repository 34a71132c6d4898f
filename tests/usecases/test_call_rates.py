"""The Call Rates tab: the package's rates at the price rating charges, searchable."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest
from sqlalchemy.engine import Connection

from bridge.rating import Increment, rate_calls
from bridge.store.tariffs import import_tariff
from bridge.usecases.call_rates import MAX_RATES, show_call_rates
from bridge.usecases.usage import RatePlans
from bridge.whmcs.services import get_service
from tests.factories.whmcs import make_service
from tests.rating.builders import make_cdr
from tests.usecases.client_area_data import (
    NOW,
    make_cad_client,
    make_metered_service,
    make_voip_product,
    seed_plans,
)


class TestCallRates:
    def test_rates_carry_the_markup_and_the_package_increment(self, conn: Connection) -> None:
        """Tariff rates are shown marked up (15%), custom rates as they are, with 60/6 s."""
        seed_plans(conn)
        service = get_service(conn, make_metered_service(conn, make_cad_client(conn)))

        rates = show_call_rates(conn, service.product, "")

        by_prefix = {line.prefix: line for line in rates.rates}
        assert by_prefix["1"].rate == Decimal("0.0115")
        assert by_prefix["1876"].rate == Decimal("0.1900")
        assert by_prefix["44"].rate == Decimal("0.02875")
        assert {line.increment for line in rates.rates} == {Increment(60, 6)}
        assert rates.free_minutes == 2
        assert rates.inbound_rate == Decimal("0.0050")
        assert rates.package == "Metered"

    def test_each_rate_is_what_a_call_there_costs(self, conn: Connection) -> None:
        """A one-minute call to each listed prefix costs exactly the rate shown."""
        seed_plans(conn)
        service = get_service(conn, make_metered_service(conn, make_cad_client(conn)))
        stored = RatePlans().plan_for(conn, service.product).plan
        plan = replace(stored, package=replace(stored.package, free_minutes=0))

        for line in show_call_rates(conn, service.product, "").rates:
            number = (
                f"{line.prefix}5550100" if line.prefix.startswith("1") else f"011{line.prefix}55501"
            )
            (call,) = rate_calls([make_cdr(number, 60)], plan).calls
            assert call.cost == line.rate, line

    @pytest.mark.parametrize(
        ("search", "prefixes"),
        [
            ("jamaica", ["1876"]),
            ("United", ["44", "447"]),
            ("44", ["44", "447"]),
            ("+44 7700 900123", ["447"]),
            ("1876", ["1876"]),
            ("zz-nowhere", []),
        ],
    )
    def test_search_by_prefix_number_or_destination(
        self, conn: Connection, search: str, prefixes: list[str]
    ) -> None:
        """Digits find longer prefixes and the one a number would use; words find names."""
        seed_plans(conn)
        service = get_service(conn, make_metered_service(conn, make_cad_client(conn)))

        rates = show_call_rates(conn, service.product, search)

        assert [line.prefix for line in rates.rates] == prefixes
        assert rates.matching == len(prefixes)

    def test_a_custom_prefix_hides_the_tariff_rows_it_covers(self, conn: Connection) -> None:
        """The custom 1876 rate is the only Jamaica line: the tariff's 1876 row is not offered."""
        seed_plans(conn)
        service = get_service(conn, make_metered_service(conn, make_cad_client(conn)))

        lines = [line for line in show_call_rates(conn, service.product, "1876").rates]

        assert [(line.prefix, line.rate) for line in lines] == [("1876", Decimal("0.1900"))]
        assert lines[0].destination == "Jamaica"

    def test_special_rate_products_list_their_rules(self, conn: Connection) -> None:
        """A Special Number Billing product shows its rules and prices."""
        product = make_voip_product(conn, "UK Special", special=True)
        seed_plans(conn, special_product=product)
        service = get_service(conn, make_service(conn, make_cad_client(conn), product_id=product))

        rates = show_call_rates(conn, service.product, "")

        assert [rule.name for rule in rates.special_rules] == ["Freephone", "Non-geographic"]
        assert rates.rates == ()

    def test_a_long_tariff_is_cut_and_says_how_many_match(self, conn: Connection) -> None:
        """Only the first rates are listed; the count says how many matched."""
        seed_plans(conn)
        card = ["Description,Prefix,RateValue,Increment\n"] + [
            f"Zone {n},{900000 + n},0.0100,60\n" for n in range(MAX_RATES + 20)
        ]
        import_tariff(conn, "CA-Test", card, source="test", now=NOW)
        service = get_service(conn, make_metered_service(conn, make_cad_client(conn)))

        rates = show_call_rates(conn, service.product, "Zone")

        assert len(rates.rates) == MAX_RATES
        assert rates.matching == MAX_RATES + 20
