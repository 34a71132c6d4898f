"""Stored tariffs: import, re-import all-or-nothing, saved column mapping, export, lookup."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.engine import URL, Connection, Engine

from bridge.db import BoundDatabase
from bridge.errors import InvalidRequest, NotFound
from bridge.rating.tariff_csv import TariffCsvError, tariff_csv_lines
from bridge.store import bulk
from bridge.store.tables import tariff_rates, tariffs
from bridge.store.tariffs import (
    WRITE_BATCH,
    TariffImport,
    get_tariff_info,
    import_tariff,
    iter_rates,
    list_tariffs,
    load_tariff,
)
from tests.bridge_cli import Ran, bridge_on_sqlite

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
CARD = (
    "Destination,Code,Cost,Billing\n"
    "USA/Canada,1,0.0100,6\n"
    "Jamaica,1876,0.2100,60\n"
    "United Kingdom,44,0.0300,60\n"
)
ODD_COLUMNS = {
    "Destination": "Description",
    "Code": "Prefix",
    "Cost": "RateValue",
    "Billing": "Increment",
}


def _import(conn: Connection, text: str, overrides: dict[str, str] | None = None) -> TariffImport:
    lines = text.splitlines(keepends=True)
    return import_tariff(
        conn, "Telnyx_2026_01", lines, source="telnyx.csv", now=NOW, overrides=overrides
    )


class TestImportTariff:
    def test_import_stores_rates_and_mapping(self, conn: Connection) -> None:
        """A card with its own column names imports with --map and is ready to rate with."""
        outcome = _import(conn, CARD, ODD_COLUMNS)

        tariff = load_tariff(conn, "Telnyx_2026_01")
        info = get_tariff_info(conn, "Telnyx_2026_01")
        assert outcome.imported == 3
        jamaica, nanp = tariff.lookup("18765550123"), tariff.lookup("15195550100")
        assert jamaica is not None
        assert jamaica.description == "Jamaica"
        assert nanp is not None
        assert nanp.rate == Decimal("0.01")
        assert info.rate_count == 3
        assert info.column_map["RateValue"] == "Cost"
        assert info.imported_at == NOW.replace(tzinfo=None)

    def test_reimport_replaces_rates_using_the_saved_mapping(self, conn: Connection) -> None:
        """The next month's card needs no --map and replaces every rate."""
        _import(conn, CARD, ODD_COLUMNS)

        outcome = _import(conn, "Destination,Code,Cost,Billing\nUSA/Canada,1,0.0090,6\n")

        assert (outcome.imported, outcome.replaced) == (1, 3)
        assert [(row.prefix, row.rate) for row in iter_rates(conn, "Telnyx_2026_01")] == [
            ("1", Decimal("0.00900000"))
        ]

    def test_bad_reimport_keeps_the_previous_rates(self, conn: Connection) -> None:
        """A card with one bad line imports nothing; the old rates stay, every line reported."""
        _import(conn, CARD, ODD_COLUMNS)
        bad = "Destination,Code,Cost,Billing\nUSA/Canada,1,0.0090,6\nMexico,52,free,60\n"

        database = BoundDatabase(conn)
        with (
            pytest.raises(TariffCsvError, match="line 3: RateValue 'free'"),
            database.transaction() as tx,
        ):
            _import(tx, bad)

        assert len(list(iter_rates(conn, "Telnyx_2026_01"))) == 3
        assert get_tariff_info(conn, "Telnyx_2026_01").rate_count == 3

    def test_bad_line_after_a_written_batch_keeps_the_previous_rates(
        self, conn: Connection
    ) -> None:
        """A bad last line, after whole batches were bulk-written, still leaves the old rates."""
        _import(conn, CARD, ODD_COLUMNS)
        rows = "".join(f"Zone {n},{10**6 + n},0.01,60\n" for n in range(WRITE_BATCH + 5))
        bad = f"Destination,Code,Cost,Billing\n{rows}Mexico,52,free,60\n"

        with (
            pytest.raises(TariffCsvError, match=f"line {WRITE_BATCH + 7}: RateValue 'free'"),
            BoundDatabase(conn).transaction() as tx,
        ):
            _import(tx, bad)

        assert [row.prefix for row in iter_rates(conn, "Telnyx_2026_01")] == ["1", "1876", "44"]

    def test_bulk_and_plain_writes_store_the_same_rates(
        self, conn: Connection, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """LOAD DATA and the plain insert store identical rows (NULLs, dates, decimals, text)."""
        card = (
            "Description,Prefix,RateValue,Increment,ShortDescription,Lastratechangedate,Oldrate,"
            "RatePremium,ConnectionFee\n"
            'Tab\there,1,0.00000001,6,"back\\slash",2025-11-01,,1.5,\n'
            '"Zoë 😀 ""quoted""",44,9999999999.99999999,60,\\N,,0.2,,0.05\n'
            "NULL,52,0,1,,2025/01/31 10:00:00,0,0,0\n"
        )
        lines = card.splitlines(keepends=True)
        import_tariff(conn, "fast", lines, source="card.csv", now=NOW)
        with monkeypatch.context() as patch:
            patch.setattr(bulk, "load_data_available", lambda _conn: False)
            import_tariff(conn, "plain", lines, source="card.csv", now=NOW)

        columns = [c for c in tariff_rates.c if c.name not in ("id", "tariff_id")]
        fast, plain = (
            [
                tuple(row)
                for row in conn.execute(
                    select(*columns)
                    .where(tariff_rates.c.tariff_id == get_tariff_info(conn, name).id)
                    .order_by(tariff_rates.c.prefix)
                )
            ]
            for name in ("fast", "plain")
        )
        assert fast == plain
        assert len(fast) == 3

    def test_a_killed_import_leaves_the_previous_rates(
        self, engine: Engine, mariadb_url: URL
    ) -> None:
        """SIGKILL after batches were bulk-loaded leaves the committed rates as they were."""
        name = "Killed_import"
        with engine.begin() as conn:
            _import(conn, CARD, ODD_COLUMNS)
            conn.execute(
                tariffs.update().where(tariffs.c.name == "Telnyx_2026_01").values(name=name)
            )
        command = [sys.executable, "-c", _KILLED_IMPORT, mariadb_url.render_as_string(False), name]
        try:
            with subprocess.Popen(command, stdout=subprocess.PIPE) as child:  # noqa: S603
                assert child.stdout is not None
                assert child.stdout.readline() == b"read\n"
                loaded = _wait_for_loaded_rows(engine, minimum=2 * WRITE_BATCH)
                # (rows written by the child's open transaction, in this run's database)
                child.kill()

            with engine.connect() as conn:
                kept = [row.prefix for row in iter_rates(conn, name)]
            assert loaded >= 2 * WRITE_BATCH
            assert kept == ["1", "1876", "44"]
        finally:
            with engine.begin() as conn:
                tariff_id = get_tariff_info(conn, name).id
                conn.execute(tariff_rates.delete().where(tariff_rates.c.tariff_id == tariff_id))
                conn.execute(tariffs.delete().where(tariffs.c.id == tariff_id))

    def test_export_writes_the_documented_columns(self, conn: Connection) -> None:
        """Export writes every field under its documented name, in import order."""
        _import(conn, CARD, ODD_COLUMNS)

        lines = list(tariff_csv_lines(iter_rates(conn, "Telnyx_2026_01")))

        assert lines[0].startswith("Description,Prefix,RateValue,Increment,")
        assert lines[2].startswith("Jamaica,1876,0.21,60,")

    def test_unknown_tariff(self, conn: Connection) -> None:
        """Asking for a tariff that does not exist says how to list them."""
        with pytest.raises(NotFound, match="bridge tariff list"):
            load_tariff(conn, "nope")

    def test_a_name_longer_than_its_column_is_refused(self, conn: Connection) -> None:
        """A 300-character tariff name is an error naming the column; nothing is stored."""
        lines = CARD.splitlines(keepends=True)

        with pytest.raises(InvalidRequest, match=r"tariff: name .* is longer than"):
            import_tariff(conn, "T" * 300, lines, source="card.csv", now=NOW)

        assert list_tariffs(conn) == []

    def test_list(self, conn: Connection) -> None:
        """Listing shows each tariff once with its rate count."""
        _import(conn, CARD, ODD_COLUMNS)

        assert [(t.name, t.rate_count) for t in list_tariffs(conn)] == [("Telnyx_2026_01", 3)]


class TestTariffCommands:
    def test_import_list_export_from_the_command_line(self, tmp_path: Path) -> None:
        """`bridge tariff import/list/export` work end to end and refuse a bad card cleanly."""
        bridge = bridge_on_sqlite(tmp_path)
        card = tmp_path / "card.csv"
        card.write_text(CARD)
        bad = tmp_path / "bad.csv"
        bad.write_text("Destination,Code,Cost,Billing\nX,1,,6\n")

        def run(*args: str) -> Ran:
            return bridge("tariff", *args)

        imported = run(
            "import", "Telnyx", str(card), "--map", "Destination=Description", "--map",
            "Code=Prefix", "--map", "Cost=RateValue", "--map", "Billing=Increment",
        )  # fmt: skip
        refused = run("import", "Telnyx", str(bad))
        listed = run("list")
        exported = run("export", "Telnyx")

        assert imported.returncode == 0, imported.stderr
        assert "3 rates imported (0 replaced)" in imported.stdout
        assert refused.returncode == 2
        assert "line 2: RateValue" in refused.stderr
        assert "Nothing was imported; tariff 'Telnyx' is unchanged." in refused.stderr
        assert "Telnyx" in listed.stdout
        assert "3" in listed.stdout
        assert exported.stdout.splitlines()[1].startswith("USA/Canada,1,0.01,6")


# A child importing a large card into the tariff named by argv[2]: after reading three batches'
# worth it says so and stalls, with its transaction open, until it is killed.
_KILLED_IMPORT = textwrap.dedent(
    """
    import sys, time
    from datetime import UTC, datetime
    from sqlalchemy.engine import make_url
    from bridge.db import make_engine
    from bridge.settings import Settings
    from bridge.store.tariffs import WRITE_BATCH, import_tariff

    def lines():
        yield "Description,Prefix,RateValue,Increment\\n"
        for n in range(3 * WRITE_BATCH):
            yield f"Zone {n},{10**6 + n},0.01,60\\n"
        print("read", flush=True)
        time.sleep(120)
        yield "Zone,2,0.01,60\\n"

    engine = make_engine(Settings(database_url=make_url(sys.argv[1])))
    with engine.begin() as conn:
        import_tariff(conn, sys.argv[2], lines(), source="killed", now=datetime.now(UTC))
    """
)


def _wait_for_loaded_rows(engine: Engine, *, minimum: int) -> int:
    """Return how many rows open transactions in this database wrote, once at least ``minimum``."""
    query = text(
        "SELECT COALESCE(MAX(t.trx_rows_modified), 0) FROM information_schema.innodb_trx t "
        "JOIN information_schema.processlist p ON p.id = t.trx_mysql_thread_id WHERE p.db = :db"
    )
    deadline = time.monotonic() + 60
    written = 0
    while time.monotonic() < deadline and written < minimum:
        time.sleep(0.1)
        with engine.connect() as conn:
            written = int(conn.execute(query, {"db": engine.url.database}).scalar_one())
    return written
