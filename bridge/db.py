"""Engines and the transaction seam.

Endpoints and jobs open a transaction with ``database.transaction()`` and hand the connection down;
nothing below them commits or rolls back. Commands open the database with :func:`open_database`,
which disposes the engine's pool when the command is done. Tests swap in a :class:`BoundDatabase`
that runs every "transaction" as a savepoint inside the test's own transaction, which is rolled
back afterwards.

Driver errors never leave this seam raw: :func:`translate_errors` turns the ones an operator can act
on (cannot connect, wrong password, lock wait timeout, missing table) into the
:mod:`bridge.errors` tree with a message that says what to fix.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import URL, Connection, CursorResult, Engine
from sqlalchemy.exc import DBAPIError

from bridge.errors import (
    ConfigError,
    DatabaseBusy,
    DatabaseError,
    DatabaseUnavailable,
    InvalidRequest,
    SchemaMismatch,
)
from bridge.settings import Settings

# MySQL/MariaDB client and server error numbers the bridge explains (see the MariaDB error list).
_MYSQL_UNREACHABLE = {2003, 2005, 2006, 2013, 2055}
_MYSQL_LOGIN = {1044, 1045, 1698}
_MYSQL_UNKNOWN_DB = {1049}
_MYSQL_BUSY = {1205, 1213}
_MYSQL_SCHEMA = {1054, 1146}


class Database(Protocol):
    """What endpoints and jobs need from the database: a transaction and a health ping."""

    @property
    def backend(self) -> str:
        """Return the SQLAlchemy backend name (``mysql`` or ``sqlite``)."""
        ...

    def transaction(self) -> AbstractContextManager[Connection]:
        """Return a context manager yielding a connection inside one transaction."""
        ...

    def session(self) -> AbstractContextManager[Connection]:
        """Return a context manager yielding a connection of its own, for session state (locks)."""
        ...

    def ping(self) -> float:
        """Run a trivial query and return its latency in milliseconds."""
        ...


class EngineDatabase:
    """The production :class:`Database`: one SQLAlchemy engine, one transaction per call."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @property
    def backend(self) -> str:
        """Return the SQLAlchemy backend name (``mysql`` or ``sqlite``)."""
        return self.engine.dialect.name

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """Yield a connection in a transaction that commits on success and rolls back on error."""
        with translate_errors(self.engine.url), self.engine.begin() as conn:
            yield conn

    @contextmanager
    def session(self) -> Iterator[Connection]:
        """Yield a pooled autocommit connection held for the block (a named lock lives with it)."""
        with translate_errors(self.engine.url), self.engine.connect() as conn:
            yield conn.execution_options(isolation_level="AUTOCOMMIT")

    def ping(self) -> float:
        """Run ``SELECT 1`` and return its latency in milliseconds."""
        started = time.perf_counter()
        with translate_errors(self.engine.url), self.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return (time.perf_counter() - started) * 1000


class BoundDatabase:
    """A :class:`Database` over one open connection, each transaction a savepoint (for tests)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    @property
    def backend(self) -> str:
        """Return the SQLAlchemy backend name of the bound connection."""
        return self.conn.dialect.name

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """Yield the bound connection inside a savepoint released on success."""
        with translate_errors(self.conn.engine.url), self.conn.begin_nested():
            yield self.conn

    @contextmanager
    def session(self) -> Iterator[Connection]:
        """Yield the bound connection itself."""
        with translate_errors(self.conn.engine.url):
            yield self.conn

    def ping(self) -> float:
        """Run ``SELECT 1`` on the bound connection and return its latency in milliseconds."""
        started = time.perf_counter()
        with translate_errors(self.conn.engine.url):
            self.conn.execute(text("SELECT 1"))
        return (time.perf_counter() - started) * 1000


class DryRunDatabase:
    """A :class:`Database` whose transactions are all rolled back: work is done, nothing kept.

    A job run with ``--dry-run`` goes through every step, reads what it wrote within each
    transaction, and reports what it would have done; the rollback then discards it.
    """

    def __init__(self, inner: Database) -> None:
        self.inner = inner

    @property
    def backend(self) -> str:
        """Return the wrapped database's backend name."""
        return self.inner.backend

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """Yield a connection in a transaction that is rolled back when the block ends."""
        try:
            with self.inner.transaction() as conn:
                yield conn
                raise _RolledBack
        except _RolledBack:
            pass

    def session(self) -> AbstractContextManager[Connection]:
        """Return the wrapped database's session (locks hold in a dry run too)."""
        return self.inner.session()

    def ping(self) -> float:
        """Ping the wrapped database."""
        return self.inner.ping()


class _RolledBack(Exception):
    """Raised at the end of a dry-run transaction to roll it back."""


@contextmanager
def open_database(settings: Settings) -> Iterator[EngineDatabase]:
    """Yield the database ``settings`` name for one command; its connections close afterwards."""
    engine = make_engine(settings)
    try:
        yield EngineDatabase(engine)
    finally:
        engine.dispose()


def sqlite_url(path: Path, *, option: str = "--db") -> str:
    """Return the SQLite URL of file ``path``, refusing a folder that does not exist.

    SQLite reports a missing folder only as "unable to open database file", from deep inside the
    first query; this says which option named which folder.
    """
    folder = path.parent
    if not folder.is_dir():
        raise InvalidRequest(
            f"{option} {path}: the folder {folder} does not exist; create it or name another file."
        )
    return f"sqlite:///{path}"


def inserted_id(result: CursorResult[Any]) -> int:
    """Return the primary key of the row an ``INSERT`` just wrote."""
    key = result.inserted_primary_key
    if key is None or key[0] is None:
        raise RuntimeError("the INSERT reported no primary key")
    return int(key[0])


def make_engine(settings: Settings) -> Engine:
    """Create the engine for ``settings.database_url`` (WHMCS's MySQL/MariaDB, or SQLite)."""
    url = settings.database_url
    if url.get_backend_name() == "sqlite":
        return create_engine(
            url,
            # Starlette runs sync endpoints in a thread pool; SQLite locks keep writers apart.
            connect_args={"check_same_thread": False, "timeout": settings.db_lock_timeout},
        )
    engine = create_engine(
        url.update_query_dict({"charset": "utf8mb4"}),
        pool_pre_ping=True,
        # MySQL closes idle connections after wait_timeout (8 h by default); recycle well before.
        pool_recycle=3600,
    )
    lock_timeout = int(settings.db_lock_timeout)

    @event.listens_for(engine, "do_connect")
    def _announce_local_files(_dialect: Any, _record: Any, _args: Any, params: Any) -> None:
        # Only the capability: PyMySQL (local_infile off) still refuses every request for a file
        # except during the bridge's own LOAD DATA statements (bridge/store/bulk.py).
        if engine.dialect.driver == "pymysql":
            from pymysql.constants import CLIENT

            params["client_flag"] = params.get("client_flag", 0) | CLIENT.LOCAL_FILES

    @event.listens_for(engine, "connect")
    def _set_session(dbapi_conn: Any, _record: Any) -> None:
        # A row locked by WHMCS or another job should fail fast with a clear message rather than
        # hold a cron run for InnoDB's default 50 s.
        with dbapi_conn.cursor() as cursor:
            cursor.execute(f"SET SESSION innodb_lock_wait_timeout = {lock_timeout}")

    return engine


@contextmanager
def translate_errors(url: URL) -> Iterator[None]:
    """Turn driver errors inside the block into :mod:`bridge.errors` with actionable messages."""
    try:
        yield
    except DBAPIError as exc:
        raise explain_db_error(exc, url) from exc


def explain_db_error(exc: DBAPIError, url: URL) -> DatabaseError | ConfigError | DBAPIError:
    """Return the bridge error that explains ``exc``, or ``exc`` itself when it is unexpected."""
    orig = exc.orig
    detail = str(orig.args[1]) if orig is not None and len(orig.args) > 1 else str(orig)
    number = orig.args[0] if orig is not None and orig.args else None
    where = url.render_as_string(hide_password=True)
    if url.get_backend_name() == "sqlite":
        return _explain_sqlite(detail, where, exc)
    if number in _MYSQL_UNREACHABLE or (exc.connection_invalidated and number is None):
        return DatabaseUnavailable(
            f"Cannot reach the database at {url.host}:{url.port or 3306} ({detail}). "
            "Check that MySQL/MariaDB is running and that BRIDGE_DATABASE_URL names the right host."
        )
    if number in _MYSQL_LOGIN:
        return ConfigError(
            f"The database refused the bridge's login ({detail}). Check the user and password in "
            "BRIDGE_DATABASE_URL and the grants listed in the README."
        )
    if number in _MYSQL_UNKNOWN_DB:
        return ConfigError(
            f"The database server has no database {url.database!r} ({detail}). "
            "BRIDGE_DATABASE_URL must name the WHMCS database."
        )
    if number in _MYSQL_BUSY:
        return DatabaseBusy(
            f"A row the bridge needs stayed locked ({detail}); another job or WHMCS held it. "
            "The work was rolled back and is safe to retry."
        )
    if number in _MYSQL_SCHEMA:
        return SchemaMismatch(
            f"The WHMCS database at {where} lacks something the bridge uses ({detail}). "
            "Run `bridge doctor` for the full list."
        )
    return exc


def _explain_sqlite(detail: str, where: str, exc: DBAPIError) -> DatabaseError | DBAPIError:
    if "no such table" in detail or "no such column" in detail:
        return SchemaMismatch(
            f"The database at {where} lacks something the bridge uses ({detail}). "
            "Run `bridge doctor` for the full list, or `bridge demo` to rebuild the demo database."
        )
    if "database is locked" in detail:
        return DatabaseBusy(f"The SQLite database at {where} stayed locked ({detail}); retry.")
    if "unable to open database file" in detail:
        return DatabaseUnavailable(f"Cannot open the SQLite database at {where} ({detail}).")
    return exc
