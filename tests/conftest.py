"""Shared fixtures: a real MariaDB test database, a rolled-back connection per test, the app.

The MariaDB database is created once per run, named after ``bridge_test`` (or the database named
in ``BRIDGE_TEST_DATABASE_URL``; the name must contain ``test``) plus this run's suffix
(:data:`RUN_SUFFIX`), so two runs on one server never drop each other's database; it is loaded
with ``bridge/whmcs/schema/whmcs.sql`` and the bridge's migrations, and dropped at the end. Each
test gets ``conn``: a connection inside a transaction that is rolled back afterwards, so tests
never see each other's rows. Code under test that opens "transactions" through
:class:`~bridge.db.BoundDatabase` gets savepoints inside it.

When MariaDB cannot be reached, the run stops with a message saying how to start it: data-layer
tests are never skipped.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
from hypothesis import settings as hypothesis_settings
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.exc import OperationalError
from starlette.datastructures import Secret
from starlette.testclient import TestClient

from bridge.app import create_app
from bridge.db import BoundDatabase, make_engine
from bridge.settings import Settings
from bridge.store.migrate import upgrade_database
from bridge.whmcs.schema import create_whmcs_schema
from tests.fakes import Switchboard, serve

# The FusionPBX-side scripts under PHP, for tests/fusionpbx_api and the FusionPBX adapter tests.
pytest_plugins = ("tests.fusionpbx_api.fixtures",)

DEFAULT_TEST_DATABASE_URL = "mysql+pymysql://root@127.0.0.1:3306/bridge_test"
TEST_SECRET = "test-secret-0123456789abcdef0123456789abcdef"
# Hypothesis's per-example deadline is a timed assertion: on a loaded machine it fails tests that
# are correct. Examples are still bounded by their count.
hypothesis_settings.register_profile("bridge", deadline=None)
hypothesis_settings.load_profile("bridge")

# One suffix per test process: a run (or an xdist worker) names every database, role and login it
# creates with it, so concurrent runs on the same servers stay apart.
RUN_SUFFIX = "_".join(
    part for part in (secrets.token_hex(3), os.environ.get("PYTEST_XDIST_WORKER")) if part
)
START_MARIADB = (
    "Start it with `scripts/test` (installs and starts MariaDB when run as root) or with\n"
    "  start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd\n"
    "or point BRIDGE_TEST_DATABASE_URL at a MariaDB/MySQL server you may create databases on."
)


def mariadb_test_url() -> URL:
    """Return the URL of this run's MariaDB test database (one per run and xdist worker)."""
    url = make_url(os.environ.get("BRIDGE_TEST_DATABASE_URL", DEFAULT_TEST_DATABASE_URL))
    name = url.database or ""
    if "test" not in name:
        pytest.exit(
            f"BRIDGE_TEST_DATABASE_URL names database {name!r}; the test suite drops and "
            "recreates its database, so the name must contain 'test'.",
            returncode=2,
        )
    return url.set(database=f"{name}_{RUN_SUFFIX}")


def recreate_database(url: URL) -> None:
    """Drop and create the database ``url`` names (utf8mb4), or stop the run if unreachable."""
    server = create_engine(url.set(database=""), pool_pre_ping=True)
    try:
        with server.begin() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS `{url.database}`"))
            conn.execute(
                text(
                    f"CREATE DATABASE `{url.database}` "
                    "CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
                )
            )
    except OperationalError as exc:
        pytest.exit(
            f"MariaDB is not reachable at {url.render_as_string(hide_password=True)}: "
            f"{exc.orig}\n{START_MARIADB}",
            returncode=1,
        )
    finally:
        server.dispose()


def drop_database(url: URL) -> None:
    """Drop the database ``url`` names."""
    server = create_engine(url.set(database=""))
    with server.begin() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS `{url.database}`"))
    server.dispose()


@contextmanager
def throwaway_whmcs_database(
    url: URL,
    suffix: str,
    prepare: Callable[[Connection], object] = lambda _conn: None,
    *,
    migrate: bool = False,
) -> Iterator[URL]:
    """Yield a separate, committed WHMCS database for tests that need DDL; drop it afterwards."""
    throwaway = url.set(database=f"{url.database}_{suffix}")
    recreate_database(throwaway)
    engine = create_engine(throwaway)
    try:
        with engine.begin() as conn:
            create_whmcs_schema(conn)
            prepare(conn)
        if migrate:
            upgrade_database(engine)
        yield throwaway
    finally:
        engine.dispose()
        drop_database(throwaway)


@pytest.fixture(scope="session", name="mariadb_url")
def _mariadb_url() -> URL:
    return mariadb_test_url()


@pytest.fixture(scope="session", name="engine")
def _engine(mariadb_url: URL) -> Iterator[Engine]:
    recreate_database(mariadb_url)
    engine = make_engine(Settings(database_url=mariadb_url, db_lock_timeout=2))
    # DDL commits implicitly in MariaDB, so all schema work happens here, before any test's
    # transaction begins.
    with engine.begin() as conn:
        create_whmcs_schema(conn)
    upgrade_database(engine)
    yield engine
    engine.dispose()
    drop_database(mariadb_url)


@pytest.fixture(name="conn")
def _conn(engine: Engine) -> Iterator[Connection]:
    with engine.connect() as conn:
        transaction = conn.begin()
        try:
            yield conn
        finally:
            transaction.rollback()


@pytest.fixture(name="sql_mode", params=["strict", "whmcs"])
def _sql_mode(request: pytest.FixtureRequest, conn: Connection) -> Iterator[str]:
    """The server's strict default, and WHMCS's own sql_mode='' for its connections."""
    before = conn.execute(text("SELECT @@SESSION.sql_mode")).scalar_one()
    if request.param == "whmcs":
        conn.execute(text("SET SESSION sql_mode = ''"))
    yield request.param
    conn.execute(text("SET SESSION sql_mode = :mode"), {"mode": before})


@pytest.fixture(name="database")
def _database(conn: Connection) -> BoundDatabase:
    return BoundDatabase(conn)


@pytest.fixture(name="settings")
def _settings(mariadb_url: URL) -> Settings:
    return Settings(database_url=mariadb_url, secret=Secret(TEST_SECRET), database_configured=True)


@pytest.fixture(scope="session", name="session_switchboard")
def _session_switchboard() -> Iterator[Switchboard]:
    board = Switchboard()
    with serve(board) as served:
        board.served = served
        yield board


@pytest.fixture(name="switchboard")
def _switchboard(session_switchboard: Switchboard) -> Switchboard:
    """The session's fake-server listener; plug a fake into it with ``switchboard.plug(app)``."""
    return session_switchboard


@pytest.fixture(name="http")
def _http(settings: Settings, database: BoundDatabase) -> Iterator[TestClient]:
    with TestClient(create_app(settings, database=database)) as http:
        yield http
