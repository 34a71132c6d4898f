"""The database seam: driver failures become errors an operator can act on; nothing half-done."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import delete, func, select, text
from sqlalchemy.engine import URL, Engine

from bridge.db import EngineDatabase, make_engine
from bridge.errors import ConfigError, DatabaseBusy, DatabaseUnavailable, SchemaMismatch
from bridge.settings import Settings, load_settings
from bridge.whmcs.clients import get_credit
from bridge.whmcs.money import move_credit
from bridge.whmcs.tables import clients, credit
from tests.factories.whmcs import make_client


def _database(url: URL, *, lock_timeout: int = 1) -> EngineDatabase:
    return EngineDatabase(make_engine(Settings(database_url=url, db_lock_timeout=lock_timeout)))


class TestConnectionFailures:
    def test_unreachable_server(self, mariadb_url: URL) -> None:
        """Nothing listening on the port: a DatabaseUnavailable naming host and port."""
        database = _database(mariadb_url.set(port=1))

        with pytest.raises(DatabaseUnavailable, match=r"127\.0\.0\.1:1\b") as caught:
            database.ping()
        assert caught.value.retryable

    def test_wrong_password(self, mariadb_url: URL) -> None:
        """A rejected login says to check the URL's user and password, without echoing them."""
        database = _database(mariadb_url.set(username="nobody", password="wrong-pass-123"))

        with pytest.raises(ConfigError, match="refused the bridge's login") as caught:
            database.ping()
        assert "wrong-pass-123" not in caught.value.message

    def test_unknown_database(self, mariadb_url: URL) -> None:
        """A URL naming a database that does not exist says so."""
        missing = f"{mariadb_url.database}_missing"
        database = _database(mariadb_url.set(database=missing))

        with pytest.raises(ConfigError, match=f"no database '{missing}'"):
            database.ping()

    def test_malformed_url(self) -> None:
        """A URL that is not a URL fails at settings time with the expected form."""
        with pytest.raises(ConfigError, match="mysql\\+pymysql://USER:PASSWORD@HOST"):
            load_settings({"BRIDGE_DATABASE_URL": "whmcs database please"})

    def test_dropped_connection(self, mariadb_url: URL, engine: Engine) -> None:
        """A connection killed mid-transaction becomes a retryable DatabaseUnavailable."""
        database = _database(mariadb_url)

        def query_after_the_server_dropped_us() -> None:
            with database.transaction() as conn:
                own_id = conn.execute(text("SELECT CONNECTION_ID()")).scalar_one()
                with engine.connect() as killer:
                    killer.execute(text(f"KILL {int(own_id)}"))
                conn.execute(text("SELECT 1"))

        with pytest.raises(DatabaseUnavailable, match="Cannot reach the database"):
            query_after_the_server_dropped_us()

    def test_missing_table_points_to_doctor(self) -> None:
        """A query on a table the database lacks says which and suggests `bridge doctor`."""
        database = EngineDatabase(make_engine(load_settings({"BRIDGE_DATABASE_URL": "sqlite://"})))

        with pytest.raises(SchemaMismatch, match="bridge doctor"), database.transaction() as conn:
            get_credit(conn, 1)


@pytest.fixture(name="committed_client")
def _committed_client(engine: Engine) -> Iterator[int]:
    with engine.begin() as conn:
        client_id = make_client(conn, credit=Decimal("20.00"), currency_id=0)
    yield client_id
    with engine.begin() as conn:
        conn.execute(delete(credit).where(credit.c.clientid == client_id))
        conn.execute(delete(clients).where(clients.c.id == client_id))


class TestLockedRow:
    def test_locked_row_fails_fast_and_writes_nothing(
        self, mariadb_url: URL, engine: Engine, committed_client: int
    ) -> None:
        """A client row held by another transaction gives DatabaseBusy; no ledger row remains."""
        database = _database(mariadb_url, lock_timeout=1)
        locked = threading.Event()
        release = threading.Event()

        def hold_lock() -> None:
            with engine.begin() as conn:
                conn.execute(
                    select(clients.c.id).where(clients.c.id == committed_client).with_for_update()
                )
                locked.set()
                release.wait(10)

        holder = threading.Thread(target=hold_lock)
        holder.start()
        try:
            assert locked.wait(5)
            with pytest.raises(DatabaseBusy, match="safe to retry"), database.transaction() as conn:
                move_credit(conn, committed_client, Decimal("-1.00"), "usage", on=date(2026, 1, 1))
        finally:
            release.set()
            holder.join()

        with engine.connect() as conn:
            assert get_credit(conn, committed_client) == Decimal("20.00")
            ledger = conn.execute(
                select(func.count()).where(credit.c.clientid == committed_client)
            ).scalar_one()
            assert ledger == 0
