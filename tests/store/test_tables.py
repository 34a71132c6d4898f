"""Identifiers the bridge owns are compared exactly, on MariaDB and SQLite alike.

MariaDB's default ``utf8mb4_general_ci`` folds case, accents and trailing spaces, which made two
PBX calls one and let tariff ``tm`` replace the rates of ``TM``. Each test runs on the MariaDB
test database and on a freshly migrated SQLite file.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import create_engine
from sqlalchemy.dialects import mysql
from sqlalchemy.engine import Connection

from bridge.calls import CollectedCdr
from bridge.rating.models import Cdr, Direction
from bridge.rating.package_toml import parse_package_toml
from bridge.store.cdrs import count_cdrs, get_watermark, set_watermark, store_cdrs
from bridge.store.migrate import upgrade_database
from bridge.store.nonces import remember_nonce
from bridge.store.packages import load_package, save_package
from bridge.store.tables import Identifier, identifier_collation
from bridge.store.tariffs import import_tariff, list_tariffs, load_tariff
from tests.store.test_packages import EXAMPLES

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
# Distinct call ids that a case-, accent- or pad-insensitive collation takes for one.
LOOKALIKE_IDS = ("CaseTest-A1b2", "casetest-a1b2", "CaseTest-Á1b2", "CaseTest-A1b2 ")


@pytest.fixture(name="db", params=["mariadb", "sqlite"])
def _db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Connection]:
    """A connection in a transaction: the rolled-back MariaDB one, or a migrated SQLite file."""
    if request.param == "mariadb":
        yield request.getfixturevalue("conn")
        return
    engine = create_engine(f"sqlite:///{tmp_path / 'bridge.db'}")
    upgrade_database(engine)
    with engine.begin() as conn:
        yield conn
    engine.dispose()


def _cdr(uuid: str) -> CollectedCdr:
    return CollectedCdr(
        Cdr(
            uuid=uuid,
            direction=Direction.OUTBOUND,
            caller_number="2112",
            caller_destination="",
            destination_number="14165550100",
            start=NOW - timedelta(hours=1),
            billsec=95,
        ),
        domain="mcon.wat7.ictvoip.ca",
        leg="a",
        hangup_cause="NORMAL_CLEARING",
    )


def _card(rate: str) -> list[str]:
    return ["Description,Prefix,RateValue,Increment\n", f"United Kingdom,44,{rate},60\n"]


class TestExactIdentifiers:
    def test_call_ids_differing_in_case_accent_or_space_are_distinct_calls(
        self, db: Connection
    ) -> None:
        """Four call ids that only a folding collation confuses are four stored calls."""
        first = store_cdrs(db, 7, [_cdr(LOOKALIKE_IDS[0])], now=NOW)
        rest = store_cdrs(db, 7, [_cdr(uuid) for uuid in LOOKALIKE_IDS[1:]], now=NOW)
        again = store_cdrs(db, 7, [_cdr(uuid) for uuid in LOOKALIKE_IDS], now=NOW)

        assert (first.inserted, rest.inserted, again.duplicates) == (1, 3, 4)
        assert count_cdrs(db, 7) == 4

    def test_tariffs_named_tm_and_TM_are_two_tariffs(self, db: Connection) -> None:
        """Importing tariff ``tm`` leaves tariff ``TM`` and its rates alone."""
        import_tariff(db, "TM", _card("0.0300"), source="tm.csv", now=NOW)
        import_tariff(db, "tm", _card("0.0900"), source="tm.csv", now=NOW)

        assert sorted(info.name for info in list_tariffs(db)) == ["TM", "tm"]
        upper = load_tariff(db, "TM").lookup("442071234567")
        lower = load_tariff(db, "tm").lookup("442071234567")
        assert upper is not None
        assert lower is not None
        assert (upper.rate, lower.rate) == (Decimal("0.03"), Decimal("0.09"))

    def test_packages_differing_in_case_are_two_packages(self, db: Connection) -> None:
        """Saving package ``au`` does not overwrite package ``AU``."""
        parsed = parse_package_toml((EXAMPLES / "package-au.toml").read_text()).package
        save_package(
            db, dataclasses.replace(parsed, name="AU", free_minutes=5), tariff=None, now=NOW
        )
        save_package(
            db, dataclasses.replace(parsed, name="au", free_minutes=9), tariff=None, now=NOW
        )

        assert load_package(db, "AU").package.free_minutes == 5
        assert load_package(db, "au").package.free_minutes == 9

    def test_watermark_scopes_differing_in_case_are_separate(self, db: Connection) -> None:
        """A tenant scope ``Tenant`` keeps its own watermark beside ``tenant``."""
        set_watermark(db, 3, "Tenant", NOW, now=NOW)
        set_watermark(db, 3, "tenant", NOW - timedelta(days=1), now=NOW)

        assert get_watermark(db, 3, "Tenant") == NOW
        assert get_watermark(db, 3, "tenant") == NOW - timedelta(days=1)

    def test_nonces_are_exact(self, db: Connection) -> None:
        """A nonce differing from a used one only in case is a different nonce."""
        assert remember_nonce(db, "ab" * 16, now=NOW)
        assert remember_nonce(db, "AB" * 16, now=NOW)
        assert not remember_nonce(db, "ab" * 16, now=NOW)


class TestIdentifierCollation:
    @pytest.mark.parametrize(
        ("mariadb", "version", "collation"),
        [
            (True, (10, 3, 39), "utf8mb4_nopad_bin"),
            (False, (8, 0, 36), "utf8mb4_0900_bin"),
            (False, (5, 7, 44), "utf8mb4_bin"),
        ],
    )
    def test_each_server_gets_its_exact_collation(
        self, mariadb: bool, version: tuple[int, ...], collation: str
    ) -> None:
        """MariaDB and MySQL 8 get a binary collation that does not pad; MySQL 5.7 its only one."""
        dialect = mysql.dialect()
        dialect.is_mariadb = mariadb
        dialect.server_version_info = version

        assert identifier_collation(dialect) == collation
        assert f"COLLATE {collation}" in str(Identifier(64).compile(dialect=dialect))
