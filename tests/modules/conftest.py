"""PostgreSQL fixtures: a throwaway database holding FusionPBX's ``v_xml_cdr``, on a real server.

The server is the one :mod:`tests.postgres` reaches. Once per run the fixture creates
``bridge_test_fusionpbx`` (loaded with ``tests/schema/fusionpbx_v_xml_cdr.sql``), an empty
``bridge_test_fusionpbx_empty`` and a login without ``SELECT`` on ``v_xml_cdr``, and drops them
all at the end (names get the run's suffix, so concurrent runs stay apart). Each test starts with
an empty ``v_xml_cdr``. When PostgreSQL cannot be reached the run stops saying how to start it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import make_conninfo

from tests.conftest import RUN_SUFFIX
from tests.postgres import admin_conninfo, connect_admin

SCHEMA = Path(__file__).resolve().parents[1] / "schema" / "fusionpbx_v_xml_cdr.sql"


@dataclass(frozen=True, slots=True)
class FusionPbxDatabase:
    """Where the test ``v_xml_cdr`` lives, and DSNs for the failure cases."""

    dsn: str
    empty_dsn: str
    no_grant_dsn: str

    def insert(self, *rows: Mapping[str, object]) -> None:
        """Insert and commit ``v_xml_cdr`` rows given as column → value mappings."""
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            for row in rows:
                conn.execute(
                    sql.SQL("INSERT INTO v_xml_cdr ({}) VALUES ({})").format(
                        sql.SQL(", ").join(sql.Identifier(name) for name in row),
                        sql.SQL(", ").join(sql.Placeholder() for _ in row),
                    ),
                    list(row.values()),
                )

    def clear(self) -> None:
        """Remove every row of ``v_xml_cdr``."""
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            conn.execute("TRUNCATE v_xml_cdr")


@pytest.fixture(scope="session", name="fusionpbx_database")
def _fusionpbx_database() -> Iterator[FusionPbxDatabase]:
    admin = admin_conninfo()
    suffix = f"_{RUN_SUFFIX}"
    name = f"bridge_test_fusionpbx{suffix}"
    empty = f"bridge_test_fusionpbx_empty{suffix}"
    role = f"bridge_test_fusionpbx_nogrant{suffix}"

    def drop_all(conn: psycopg.Connection[tuple[object, ...]]) -> None:
        for database in (name, empty):
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database))
            )
        conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))

    with connect_admin(admin) as conn:
        drop_all(conn)
        for database in (name, empty):
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
        conn.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(role)))
    dsn = make_conninfo(admin, dbname=name)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(SCHEMA.read_text(encoding="utf-8").encode())
        # A login that may connect but was never granted SELECT on v_xml_cdr.
        conn.execute(sql.SQL("REVOKE ALL ON v_xml_cdr FROM PUBLIC"))
    try:
        yield FusionPbxDatabase(
            dsn=dsn,
            empty_dsn=make_conninfo(admin, dbname=empty),
            no_grant_dsn=make_conninfo(admin, dbname=name, user=role, password="no-grant-pw"),
        )
    finally:
        with connect_admin(admin) as conn:
            drop_all(conn)


@pytest.fixture(name="fusionpbx_db")
def _fusionpbx_db(fusionpbx_database: FusionPbxDatabase) -> FusionPbxDatabase:
    fusionpbx_database.clear()
    return fusionpbx_database
