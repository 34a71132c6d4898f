"""`bridge grants` prints privileges that are enough to run the bridge, and no more."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, Connection
from sqlalchemy.exc import DBAPIError

from bridge.db import EngineDatabase, make_engine
from bridge.doctor import examine
from bridge.errors import InvalidRequest
from bridge.grants import grant_statements
from bridge.settings import Settings
from bridge.whmcs.customfields import set_client_field
from bridge.whmcs.money import move_credit
from bridge.whmcs.services import ServiceStatus, set_service_status
from tests.bridge_cli import bridge_env, run_bridge
from tests.conftest import RUN_SUFFIX, throwaway_whmcs_database
from tests.factories.whmcs import make_client, make_service, make_voip_client_fields

USER, PASSWORD = f"bridge_grants_{RUN_SUFFIX}"[:32], "grants-test-pw-1"


def _one_voip_client(conn: Connection) -> None:
    make_voip_client_fields(conn)
    make_service(conn, make_client(conn, credit=Decimal("5.00")))


@pytest.fixture(name="whmcs_url")
def _whmcs_url(mariadb_url: URL) -> Iterator[URL]:
    """A migrated WHMCS database holding one client with a VoIP service."""
    with throwaway_whmcs_database(mariadb_url, "grants", _one_voip_client, migrate=True) as url:
        yield url


@pytest.fixture(name="limited_url")
def _limited_url(whmcs_url: URL) -> Iterator[URL]:
    """A login holding exactly what `bridge grants` prints, on the WHMCS database."""
    result = run_bridge(
        "grants", f"{USER}@127.0.0.1", "--database", str(whmcs_url.database), env=bridge_env()
    )
    assert result.returncode == 0, result.stderr
    admin = create_engine(whmcs_url)
    with admin.begin() as conn:
        conn.execute(text(f"DROP USER IF EXISTS '{USER}'@'127.0.0.1'"))
        conn.execute(text(f"CREATE USER '{USER}'@'127.0.0.1' IDENTIFIED BY '{PASSWORD}'"))
        for statement in result.stdout.splitlines():
            conn.execute(text(statement))
    yield whmcs_url.set(username=USER, password=PASSWORD)
    with admin.begin() as conn:
        conn.execute(text(f"DROP USER IF EXISTS '{USER}'@'127.0.0.1'"))
    admin.dispose()


def test_printed_grants_run_the_bridge(limited_url: URL) -> None:
    """With only the printed grants, doctor passes and the bridge's writes all succeed."""
    database = EngineDatabase(make_engine(Settings(database_url=limited_url)))

    report = examine(database, "limited")
    with database.transaction() as conn:
        move_credit(conn, 1, Decimal("-1.00"), "usage", on=date(2026, 11, 21))
        set_client_field(conn, 1, "VoIP Suspended", "Yes", at=datetime(2026, 11, 21, 9, 0))
        set_service_status(conn, 1, ServiceStatus.SUSPENDED, suspend_reason="zero balance")

    assert report.healthy, report.render()


def test_printed_grants_cannot_change_the_whmcs_schema(limited_url: URL) -> None:
    """The bridge's login cannot alter WHMCS tables or read tables it does not use."""
    engine = create_engine(limited_url)
    with engine.connect() as conn:
        with pytest.raises(DBAPIError, match="denied"):
            conn.execute(text("ALTER TABLE tblclients ADD COLUMN x INT"))
        with pytest.raises(DBAPIError, match="denied"):
            conn.execute(text("DELETE FROM tblcredit"))
    engine.dispose()


def test_malformed_account_is_refused() -> None:
    """An account that is not USER@HOST never reaches a GRANT statement."""
    with pytest.raises(InvalidRequest, match="USER@HOST"):
        grant_statements("bobby'; DROP TABLE x; --@host", "whmcs")
