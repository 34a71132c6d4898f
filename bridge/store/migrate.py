"""Applying and inspecting the bridge's Alembic migrations (`bridge migrate`, `bridge doctor`).

`bridge migrate` must survive being killed at any point and being run several times at once:

* every migration is idempotent (:mod:`bridge.store.migration_ops`: it creates or alters only
  what is missing), and on MySQL/MariaDB, where each DDL statement commits by itself, the version
  is committed after each migration, so a rerun resumes where a crashed run stopped;
* on SQLite, where DDL is transactional, the whole upgrade is one ``BEGIN IMMEDIATE``
  transaction: a crash leaves nothing behind, and a second run waits for the first;
* on MySQL/MariaDB concurrent runs queue on a named lock (``GET_LOCK``) held by the migrating
  session; the server releases it if that session dies;
* any failure is a :class:`~bridge.errors.BridgeError` (one ``error:`` line), never a traceback.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.script.revision import RevisionError
from alembic.util import CommandError
from sqlalchemy import text
from sqlalchemy.engine import URL, Connection, Engine
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from bridge.db import translate_errors
from bridge.errors import BridgeError, DatabaseBusy, MigrationFailed
from bridge.store.tables import VERSION_TABLE

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# How long a second `bridge migrate` waits for a running one (a migration may rebuild big tables).
LOCK_WAIT_SECONDS = 600


@dataclass(frozen=True, slots=True)
class MigrationState:
    """Where the database's ``mod_voipbridge_*`` tables stand against the code's migrations."""

    current: str | None
    head: str
    pending: tuple[str, ...]

    @property
    def up_to_date(self) -> bool:
        """Tell whether every migration has been applied."""
        return not self.pending


def alembic_config(conn: Connection | None = None) -> Config:
    """Return an Alembic config for the bridge's migrations, bound to ``conn`` when given."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = conn
    return config


def get_migration_state(conn: Connection) -> MigrationState:
    """Return the applied revision, the head revision and the revisions still to apply."""
    script = ScriptDirectory.from_config(alembic_config())
    head = script.get_current_head()
    if head is None:
        raise RuntimeError(f"no migrations found in {MIGRATIONS}")
    current = MigrationContext.configure(
        conn, opts={"version_table": VERSION_TABLE}
    ).get_current_revision()
    try:
        revisions = list(script.iterate_revisions(head, current))
    except (CommandError, RevisionError):
        raise MigrationFailed(
            f"The bridge's tables are at revision {current}, which this bridge does not know: "
            "a newer bridge migrated this database. Run that version (or newer)."
        ) from None
    pending = tuple(revision.revision for revision in reversed(revisions))
    return MigrationState(current=current, head=head, pending=pending)


def upgrade_database(engine: Engine) -> MigrationState:
    """Apply every pending migration (resuming an interrupted run) and return the new state."""
    with _explain_failures(engine.url), engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            return _upgrade_in_one_transaction(conn)
        with _migration_lock(conn):
            get_migration_state(conn)  # refuses a database migrated by a newer bridge
            conn.commit()
            # Not inside a transaction, so Alembic commits the version after each migration.
            command.upgrade(alembic_config(conn), "head")
            return get_migration_state(conn)


def _upgrade_in_one_transaction(conn: Connection) -> MigrationState:
    # pysqlite would run DDL outside any transaction; in autocommit mode the bridge opens the one
    # real transaction itself. IMMEDIATE takes the write lock up front, so a concurrent run waits
    # (up to the engine's busy timeout) and then finds the work done.
    conn.execution_options(isolation_level="AUTOCOMMIT")
    conn.exec_driver_sql("BEGIN IMMEDIATE")
    try:
        get_migration_state(conn)  # refuses a database migrated by a newer bridge
        command.upgrade(alembic_config(conn), "head")
        state = get_migration_state(conn)
    except BaseException:
        with suppress(DBAPIError):  # SQLite may have rolled back already
            conn.exec_driver_sql("ROLLBACK")
        raise
    conn.exec_driver_sql("COMMIT")
    return state


@contextmanager
def _migration_lock(conn: Connection) -> Iterator[None]:
    name = _lock_name(conn.engine.url)
    got = conn.execute(
        text("SELECT GET_LOCK(:name, :wait)"), {"name": name, "wait": LOCK_WAIT_SECONDS}
    ).scalar()
    conn.commit()
    if got != 1:
        raise DatabaseBusy(
            f"Another `bridge migrate` has been running on this database for over "
            f"{LOCK_WAIT_SECONDS} s. Let it finish, then run `bridge migrate` again."
        )
    try:
        yield
    finally:
        # If the session broke, the server has released the lock with it.
        with suppress(SQLAlchemyError):
            conn.rollback()
            conn.execute(text("SELECT RELEASE_LOCK(:name)"), {"name": name})
            conn.commit()


def _lock_name(url: URL) -> str:
    # Named locks are server-wide: name this database's so other databases on the server (other
    # WHMCS installs, parallel test runs) do not queue behind it. MySQL allows 64 characters.
    name = f"voipbridge_migrate.{url.database or ''}"
    if len(name) <= 64:
        return name
    return "voipbridge_migrate." + hashlib.sha256(name.encode()).hexdigest()[:40]


@contextmanager
def _explain_failures(url: URL) -> Iterator[None]:
    try:
        with translate_errors(url):
            yield
    except BridgeError:
        raise
    except (SQLAlchemyError, CommandError, RevisionError) as exc:
        orig = getattr(exc, "orig", None) or exc
        detail = " ".join(str(orig).split())
        raise MigrationFailed(
            f"Migrating the bridge's tables stopped: {detail}. Fix the cause and run "
            "`bridge migrate` again: it picks up where this run stopped."
        ) from exc
