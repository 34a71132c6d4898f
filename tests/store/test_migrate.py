"""The bridge's own tables: migrations build exactly what the code queries, and recover.

`bridge migrate` is killed (SIGKILL) before each of its writes in turn and run again, and run three
times at once; each time the result must be the schema a clean migration builds.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, event, inspect, text
from sqlalchemy.engine import URL, Connection

from bridge.errors import DatabaseBusy, MigrationFailed
from bridge.store import migrate
from bridge.store.migrate import get_migration_state, upgrade_database
from bridge.store.tables import METADATA, VERSION_TABLE
from tests.bridge_cli import BRIDGE, bridge_env, run_bridge
from tests.conftest import drop_database, recreate_database
from tests.store.interrupted_migrate import is_write
from tests.store.schema_snapshot import describe_schema

REPO = Path(__file__).resolve().parents[2]


class TestMigrations:
    def test_fresh_database_gets_every_table_and_column(self, tmp_path: Path) -> None:
        """Migrating an empty SQLite file creates every mod_voipbridge_* table as declared."""
        engine = create_engine(f"sqlite:///{tmp_path / 'bridge.db'}")

        state = upgrade_database(engine)

        with engine.connect() as conn:
            inspector = inspect(conn)
            for table in METADATA.sorted_tables:
                live = {column["name"] for column in inspector.get_columns(table.name)}
                assert live == set(table.columns.keys()), table.name
            assert VERSION_TABLE in inspector.get_table_names()
        assert state.up_to_date
        assert state.current == state.head
        engine.dispose()

    def test_migrated_sqlite_matches_the_declared_tables(self, tmp_path: Path) -> None:
        """On SQLite, migrations build exactly the tables, keys and indexes tables.py declares."""
        migrated = create_engine(f"sqlite:///{tmp_path / 'migrated.db'}")
        declared = create_engine(f"sqlite:///{tmp_path / 'declared.db'}")
        upgrade_database(migrated)
        METADATA.create_all(declared)

        with migrated.connect() as left, declared.connect() as right:
            assert describe_schema(left) == describe_schema(right)
        migrated.dispose()
        declared.dispose()

    def test_migrated_mariadb_matches_the_declared_tables(
        self, conn: Connection, mariadb_url: URL
    ) -> None:
        """On MariaDB, the migrated test database has the declared columns, collations and keys."""
        url = mariadb_url.set(database=f"{mariadb_url.database}_declared")
        recreate_database(url)
        declared = create_engine(url)
        try:
            METADATA.create_all(declared)
            with declared.connect() as right:
                assert describe_schema(conn) == describe_schema(right)
        finally:
            declared.dispose()
            drop_database(url)

    def test_migrating_twice_changes_nothing(self, tmp_path: Path) -> None:
        """A second `bridge migrate` is a no-op at the same revision."""
        engine = create_engine(f"sqlite:///{tmp_path / 'bridge.db'}")

        first = upgrade_database(engine)
        second = upgrade_database(engine)

        assert first == second
        engine.dispose()

    def test_unmigrated_database_lists_pending_revisions(self, tmp_path: Path) -> None:
        """A database never migrated reports every revision as pending."""
        engine = create_engine(f"sqlite:///{tmp_path / 'empty.db'}")
        with engine.connect() as conn:
            state = get_migration_state(conn)
        engine.dispose()

        assert state.current is None
        assert not state.up_to_date
        assert state.pending[-1] == state.head

    def test_test_database_is_at_head(self, conn: Connection) -> None:
        """The MariaDB test database was migrated to the head revision."""
        assert get_migration_state(conn).up_to_date


def _writes_in_a_full_migration(url: URL | str) -> int:
    """Migrate ``url`` (empty) from scratch and return how many writes that took."""
    engine = create_engine(url)
    writes = 0

    def _count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        nonlocal writes
        writes += is_write(statement)

    event.listen(engine, "before_cursor_execute", _count)
    upgrade_database(engine)
    engine.dispose()
    return writes


def _describe(url: URL | str) -> tuple[dict[str, Any], bool]:
    engine = create_engine(url)
    with engine.connect() as conn:
        described = (describe_schema(conn), get_migration_state(conn).up_to_date)
    engine.dispose()
    return described


@contextmanager
def _empty_databases(base: URL, names: list[str]) -> Iterator[list[URL]]:
    urls = [base.set(database=f"{base.database}_{name}") for name in names]
    server = create_engine(base.set(database=""))
    try:
        with server.begin() as conn:
            for url in urls:
                conn.execute(text(f"DROP DATABASE IF EXISTS `{url.database}`"))
                conn.execute(text(f"CREATE DATABASE `{url.database}` CHARACTER SET utf8mb4"))
        yield urls
    finally:
        with server.begin() as conn:
            for url in urls:
                conn.execute(text(f"DROP DATABASE IF EXISTS `{url.database}`"))
        server.dispose()


class _EmptyDatabases:
    """Makes empty databases by name: on MariaDB (dropped afterwards) or as SQLite files."""

    def __init__(self, request: pytest.FixtureRequest, folder: Path) -> None:
        self.request = request
        self.folder = folder
        self.sqlite = request.param == "sqlite"

    @contextmanager
    def __call__(self, names: list[str]) -> Iterator[list[URL | str]]:
        if self.sqlite:
            yield [f"sqlite:///{self.folder / name}.db" for name in names]
            return
        with _empty_databases(self.request.getfixturevalue("mariadb_url"), names) as urls:
            yield list(urls)


@pytest.fixture(name="backend_urls", params=["mariadb", "sqlite"])
def _backend_urls(request: pytest.FixtureRequest, tmp_path: Path) -> _EmptyDatabases:
    """A factory of empty databases, on MariaDB or as SQLite files."""
    return _EmptyDatabases(request, tmp_path)


def _render(url: URL | str) -> str:
    return url.render_as_string(hide_password=False) if isinstance(url, URL) else url


class TestRecovery:
    def test_migrate_killed_before_any_write_resumes_to_a_clean_schema(
        self, backend_urls: _EmptyDatabases
    ) -> None:
        """Killed with SIGKILL before its k-th write, for every k, a rerun yields a clean schema."""
        with backend_urls(["clean"]) as (clean,):
            writes = _writes_in_a_full_migration(clean)
            expected = _describe(clean)
        # Every write on MariaDB, where each DDL statement commits by itself; SQLite migrates in
        # one transaction, so a kill anywhere in it leaves nothing, and a few points show that.
        stops = list(range(1, writes + 1))
        if backend_urls.sqlite:
            stops = sorted({1, writes // 2, writes})
        with backend_urls([f"kill{k}" for k in stops]) as urls:
            pairs = [
                arg for k, url in zip(stops, urls, strict=True) for arg in (_render(url), str(k))
            ]
            driver = subprocess.run(  # noqa: S603 - our own test driver
                [sys.executable, "-m", "tests.store.interrupted_migrate", *pairs],
                cwd=REPO,
                env=bridge_env(),
                capture_output=True,
                text=True,
                timeout=300,
                check=False,
            )
            results = [
                json.loads(line.removeprefix("RESULT "))
                for line in driver.stdout.splitlines()
                if line.startswith("RESULT ")
            ]
            outcomes = [(r["stop_at"], r["killed"], r["rerun"]) for r in results]
            assert outcomes == [(k, True, 0) for k in stops], driver.stderr
            for k, url in zip(stops, urls, strict=True):
                assert _describe(url) == expected, f"killed before write {k}"
        # At least one write per table (the version table too) and one version write.
        assert writes > len(METADATA.tables) + 1

    def test_three_concurrent_runs_all_succeed(self, conn: Connection, mariadb_url: URL) -> None:
        """Three `bridge migrate` started at once all exit 0 and leave a clean schema."""
        with _empty_databases(mariadb_url, ["concurrent"]) as (shared,):
            runs = [
                subprocess.Popen(  # noqa: S603 - our own console script
                    [BRIDGE, "migrate"],
                    env=bridge_env(BRIDGE_DATABASE_URL=_render(shared)),
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                )
                for _ in range(3)
            ]
            outputs = [run.communicate(timeout=120) for run in runs]

            assert [run.returncode for run in runs] == [0, 0, 0], outputs
            assert all(not err for _out, err in outputs), outputs
            # The session's test database was migrated cleanly, alone.
            assert _describe(shared) == (describe_schema(conn), True)

    def test_three_concurrent_runs_on_sqlite_all_succeed(self, tmp_path: Path) -> None:
        """On SQLite, three migrations at once all succeed: each waits for the one before."""
        clean, shared = f"sqlite:///{tmp_path / 'clean.db'}", f"sqlite:///{tmp_path / 'shared.db'}"
        upgrade_database(create_engine(clean))
        engines = [create_engine(shared) for _ in range(3)]

        with ThreadPoolExecutor(3) as pool:
            states = list(pool.map(upgrade_database, engines))

        assert [state.up_to_date for state in states] == [True, True, True]
        assert _describe(shared) == _describe(clean)
        for engine in engines:
            engine.dispose()

    def test_a_failing_migration_is_one_error_line(self, mariadb_url: URL) -> None:
        """A migration the database refuses ends with one `error:` line and status 2."""
        with _empty_databases(mariadb_url, ["foreign"]) as (url,):
            engine = create_engine(url)
            with engine.begin() as conn:
                # A hand-made table under the bridge's name, lacking a column 0003 indexes.
                conn.execute(text("CREATE TABLE mod_voipbridge_special_rules (id INT)"))
            engine.dispose()

            run = run_bridge("migrate", env=bridge_env(BRIDGE_DATABASE_URL=_render(url)))

        assert run.returncode == 2, run.stderr
        assert run.stderr.startswith("error: Migrating the bridge's tables stopped: ")
        assert "product_id" in run.stderr
        assert len(run.stderr.strip().splitlines()) == 1, run.stderr

    def test_database_of_a_newer_bridge_is_refused(self, tmp_path: Path) -> None:
        """A database at a revision this bridge does not know is refused, and left as it is."""
        engine = create_engine(f"sqlite:///{tmp_path / 'bridge.db'}")
        upgrade_database(engine)
        with engine.begin() as conn:
            conn.execute(text(f"UPDATE {VERSION_TABLE} SET version_num = '0099'"))

        with pytest.raises(MigrationFailed, match="revision 0099, which this bridge does not know"):
            upgrade_database(engine)
        with engine.connect() as conn:
            assert conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalar() == "0099"
        engine.dispose()

    def test_a_run_that_cannot_get_the_lock_says_so(
        self, mariadb_url: URL, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """While another session holds the migration lock too long, migrate stops in one line."""
        monkeypatch.setattr(migrate, "LOCK_WAIT_SECONDS", 0)
        with _empty_databases(mariadb_url, ["locked"]) as (url,):
            holder, engine = create_engine(url), create_engine(url)
            with holder.connect() as conn:
                name = f"voipbridge_migrate.{url.database}"
                assert conn.execute(text("SELECT GET_LOCK(:n, 0)"), {"n": name}).scalar() == 1

                with pytest.raises(DatabaseBusy, match="Another `bridge migrate`"):
                    upgrade_database(engine)
            holder.dispose()  # its session ends, and the lock with it
            state = upgrade_database(engine)
            engine.dispose()
        assert state.up_to_date

    def test_lock_names_fit_mysql_for_any_database_name(self) -> None:
        """Lock names are per database and never over MySQL's 64 characters."""
        short = migrate._lock_name(URL.create("mysql+pymysql", database="whmcs"))
        long_names = [
            migrate._lock_name(URL.create("mysql+pymysql", database="w" * 60 + suffix))
            for suffix in ("a", "b")
        ]

        assert short == "voipbridge_migrate.whmcs"
        assert all(len(name) <= 64 for name in long_names)
        assert long_names[0] != long_names[1]
