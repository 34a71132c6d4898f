"""Stored packages and product special rules: round trips, replacement, and rating from storage."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy.engine import Connection

from bridge.errors import NotFound
from bridge.rating.errors import InvalidPatternError
from bridge.rating.package_toml import parse_package_toml
from bridge.rating.special import BillingMode, PatternType, RuleDirection, SpecialRule
from bridge.store.packages import (
    load_package,
    load_special_rules,
    save_package,
    save_special_rules,
)
from bridge.store.tariffs import import_tariff
from tests.bridge_cli import bridge_on_sqlite

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"


def _example(conn: Connection) -> None:
    card = (EXAMPLES / "tariff-au.csv").read_text().splitlines(keepends=True)
    import_tariff(conn, "AU-2025-11", card, source="tariff-au.csv", now=NOW)


class TestPackages:
    def test_package_round_trips_with_custom_rates_and_filters(self, conn: Connection) -> None:
        """Every setting of the example package comes back from storage unchanged."""
        _example(conn)
        parsed = parse_package_toml((EXAMPLES / "package-au.toml").read_text())

        save_package(conn, parsed.package, tariff="AU-2025-11", realtime_billing=True, now=NOW)
        stored = load_package(conn, "AU Business")

        assert stored.package == parsed.package
        assert (stored.tariff, stored.inbound_tariff, stored.realtime_billing) == (
            "AU-2025-11",
            None,
            True,
        )

    def test_saving_again_replaces_custom_rates(self, conn: Connection) -> None:
        """Re-saving a package replaces its custom rates rather than adding to them."""
        first, second = (
            parse_package_toml(f'name = "P"\ncountry_code = "1"\n[[custom_rates]]\n{rate}\n')
            for rate in ('prefix = "1876"\nrate = "0.1"', 'prefix = "44"\nrate = "0.02"')
        )

        save_package(conn, first.package, tariff=None, now=NOW)
        save_package(conn, second.package, tariff=None, now=NOW)

        customs = load_package(conn, "P").package.custom_rates
        assert [(c.prefix, c.rate) for c in customs] == [("44", Decimal("0.02000000"))]

    def test_unknown_package_and_tariff(self, conn: Connection) -> None:
        """A missing package, or a package naming a missing tariff, is a clear not-found."""
        package = parse_package_toml('name = "X"\ncountry_code = "1"\n').package
        with pytest.raises(NotFound, match="bridge package import"):
            load_package(conn, "nope")
        with pytest.raises(NotFound, match="No tariff named 'missing'"):
            save_package(conn, package, tariff="missing", now=NOW)


class TestSpecialRules:
    def test_rules_round_trip_per_product_with_stored_ids(self, conn: Connection) -> None:
        """A product's rules come back with their database ids; other products are unaffected."""
        parsed = parse_package_toml((EXAMPLES / "package-au-1300.toml").read_text())
        save_special_rules(conn, 7, parsed.special.rules)
        save_special_rules(conn, 8, parsed.special.rules[:1])

        ids = save_special_rules(conn, 7, parsed.special.rules[1:])
        rules = load_special_rules(conn, 7)

        assert [rule.id for rule in rules] == ids
        assert [rule.pattern for rule in rules] == ["1800*", r"19\d{8}"]
        assert rules[1].mode is BillingMode.HYBRID
        assert [rule.pattern for rule in load_special_rules(conn, 8)] == ["1300*"]

    def test_catastrophic_regex_is_refused_before_saving(self) -> None:
        """A pattern like (\\d+)+ is refused when the rule is built, so it is never stored."""
        with pytest.raises(InvalidPatternError):
            SpecialRule(
                id=0,
                pattern=r"(\d+)+$",
                pattern_type=PatternType.REGEX,
                direction=RuleDirection.BOTH,
                mode=BillingMode.PER_MINUTE,
                per_minute=Decimal("1"),
            )


class TestPackageCommands:
    def test_import_then_show_round_trips(self, tmp_path: Path) -> None:
        """`bridge package import` stores the file; `show` prints TOML that parses back the same."""
        run = bridge_on_sqlite(tmp_path)

        tariff = run("tariff", "import", "AU", str(EXAMPLES / "tariff-au.csv"))
        no_product = run("package", "import", "AU13", str(EXAMPLES / "package-au-1300.toml"))
        saved = run(
            "package", "import", "AU13", str(EXAMPLES / "package-au-1300.toml"),
            "--tariff", "AU", "--product", "5",
        )  # fmt: skip
        shown = run("package", "show", "AU13", "--product", "5")

        assert tariff.returncode == 0, tariff.stderr
        assert no_product.returncode == 2
        assert "pass --product ID" in no_product.stderr
        assert saved.returncode == 0, saved.stderr
        assert "product #5: 3 special rule(s) saved" in saved.stdout
        original = parse_package_toml((EXAMPLES / "package-au-1300.toml").read_text())
        again = parse_package_toml(shown.stdout)
        assert again.package.custom_rates == original.package.custom_rates
        assert again.package.markup_percent == original.package.markup_percent
        assert [r.pattern for r in again.special.rules] == [
            r.pattern for r in original.special.rules
        ]
