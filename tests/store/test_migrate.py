"""The bridge's own tables: migrations build exactly what the code queries."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine, inspect
from sqlalchemy.engine import URL, Connection

from bridge.store.migrate import get_migration_state, upgrade_database
from bridge.store.tables import METADATA, VERSION_TABLE
from tests.conftest import drop_database, recreate_database
from tests.store.schema_snapshot import describe_schema


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
