"""The WHMCS fixture schema and the live-schema check behind `bridge doctor`."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection

from bridge.errors import ConfigError
from bridge.whmcs.schema import (
    SchemaGap,
    create_whmcs_schema,
    describe_gaps,
    find_schema_gaps,
    whmcs_ddl,
)
from bridge.whmcs.tables import METADATA


class TestFixtureSchema:
    def test_every_declared_column_exists_in_the_fixture(self, conn: Connection) -> None:
        """The MariaDB fixture has every table and column the bridge's queries use."""
        assert find_schema_gaps(conn) == []

    def test_every_whmcs_table_is_innodb_utf8mb3_like_a_real_install(
        self, conn: Connection
    ) -> None:
        """Every WHMCS table is InnoDB (so tests can roll back) and utf8 (utf8mb3), as installed."""
        rows = conn.execute(
            text(
                "SELECT table_name, engine, table_collation FROM information_schema.tables "
                "WHERE table_schema = DATABASE() AND table_name LIKE 'tbl%'"
            )
        ).all()
        assert {row[0] for row in rows} == set(METADATA.tables)
        assert {row[1] for row in rows} == {"InnoDB"}
        assert all(row[2].startswith(("utf8_", "utf8mb3_")) for row in rows)

    def test_sqlite_translation_builds_the_same_tables(self) -> None:
        """The SQLite translation of the fixture has every declared table and column too."""
        engine = create_engine("sqlite://")
        with engine.begin() as conn:
            create_whmcs_schema(conn)
            assert find_schema_gaps(conn) == []
            names = conn.execute(text("SELECT name FROM sqlite_master WHERE type='index'")).all()
        assert ("tblhosting_userid",) in names
        engine.dispose()

    def test_refuses_a_database_that_already_has_whmcs_tables(self, conn: Connection) -> None:
        """Loading the fixture into a database with WHMCS tables is refused, never merged."""
        with pytest.raises(ConfigError, match="already exist"):
            create_whmcs_schema(conn)

    def test_mysql_statements_are_whole_create_tables(self) -> None:
        """The fixture splits into one CREATE TABLE per WHMCS table."""
        statements = whmcs_ddl("mysql")
        assert len(statements) == len(METADATA.tables)
        assert all(s.startswith("CREATE TABLE") for s in statements)


class TestFindSchemaGaps:
    def test_reports_missing_tables_and_columns_together(self) -> None:
        """A missing table and a missing column are both listed, in one pass."""
        engine = create_engine("sqlite://")
        with engine.begin() as conn:
            create_whmcs_schema(conn)
            conn.execute(text("DROP TABLE tblbundles"))
            conn.execute(text("ALTER TABLE tblclients DROP COLUMN credit"))
            gaps = find_schema_gaps(conn)
        engine.dispose()

        assert gaps == [SchemaGap("tblbundles"), SchemaGap("tblclients", "credit")]
        message = describe_gaps(gaps)
        assert "table tblbundles" in message
        assert "tblclients.credit" in message

    def test_wrong_database_gets_one_short_explanation(self) -> None:
        """A database with no WHMCS tables at all is told it is the wrong database."""
        engine = create_engine("sqlite://")
        with engine.connect() as conn:
            message = describe_gaps(find_schema_gaps(conn))
        engine.dispose()
        assert "none of the WHMCS tables" in message
