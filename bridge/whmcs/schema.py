"""The WHMCS schema: checking a live database, and building a throwaway one for tests and the demo.

:func:`find_schema_gaps` is what ``bridge doctor`` and ``bridge serve`` run against a real WHMCS
database: it reflects every table and column declared in :mod:`bridge.whmcs.tables` and lists what
is missing, all at once, so an operator fixes everything in one pass.

:func:`create_whmcs_schema` loads ``bridge/whmcs/schema/whmcs.sql`` (MySQL DDL as WHMCS creates it)
into an *empty* database, translating it for SQLite when needed. It refuses to touch a database that
already has WHMCS tables, so it can never damage a production install.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import bindparam, inspect, text
from sqlalchemy.engine import Connection

from bridge.errors import ConfigError
from bridge.whmcs.tables import METADATA, WRITES

SCHEMA_PATH = Path(__file__).resolve().parent / "schema" / "whmcs.sql"

_TABLE_OPTIONS = re.compile(r"\)\s*ENGINE=.*$", re.IGNORECASE)
_COLUMN_NOISE = re.compile(
    r"\s+(unsigned|COLLATE\s+\w+|CHARACTER SET\s+\w+|ON UPDATE CURRENT_TIMESTAMP)",
    re.IGNORECASE,
)
_ENUM = re.compile(r"\benum\([^)]*\)", re.IGNORECASE)
_KEY = re.compile(r"^\s*(UNIQUE\s+)?KEY\s+`(\w+)`\s+\((.*)\),?$", re.IGNORECASE)
_PREFIX_LENGTH = re.compile(r"\(\d+\)")


@dataclass(frozen=True, slots=True)
class SchemaGap:
    """One table or column the bridge uses that the live database lacks."""

    table: str
    column: str | None = None

    def __str__(self) -> str:
        return f"table {self.table}" if self.column is None else f"{self.table}.{self.column}"


def declared_tables() -> list[str]:
    """Return the names of the WHMCS tables the bridge uses."""
    return [table.name for table in METADATA.sorted_tables]


def table_privileges() -> dict[str, tuple[str, ...]]:
    """Return the privileges the bridge needs on each WHMCS table it uses."""
    return {name: ("SELECT", *WRITES.get(name, ())) for name in declared_tables()}


def find_schema_gaps(conn: Connection) -> list[SchemaGap]:
    """Return every declared WHMCS table or column missing from the connected database."""
    live = _live_columns(conn, [table.name for table in METADATA.sorted_tables])
    gaps: list[SchemaGap] = []
    for table in METADATA.sorted_tables:
        if table.name not in live:
            gaps.append(SchemaGap(table.name))
            continue
        gaps.extend(
            SchemaGap(table.name, column.name)
            for column in table.columns
            if column.name.lower() not in live[table.name]
        )
    return gaps


def _live_columns(conn: Connection, names: list[str]) -> dict[str, set[str]]:
    """Return the lower-cased column names of each of ``names`` that exists."""
    if conn.dialect.name == "sqlite":
        present = set(inspect(conn).get_table_names()) & set(names)
        pragma = text("SELECT name FROM pragma_table_info(:table)")
        return {
            name: {row.name.lower() for row in conn.execute(pragma, {"table": name})}
            for name in present
        }
    query = text(
        "SELECT table_name AS tbl, column_name AS col FROM information_schema.columns "
        "WHERE table_schema = DATABASE() AND table_name IN :names"
    ).bindparams(bindparam("names", expanding=True))
    columns: dict[str, set[str]] = {}
    for row in conn.execute(query, {"names": names}):
        columns.setdefault(row.tbl, set()).add(row.col.lower())
    return columns


def describe_gaps(gaps: list[SchemaGap]) -> str:
    """Return one readable message listing ``gaps`` and what to do about them."""
    missing_tables = {gap.table for gap in gaps if gap.column is None}
    if missing_tables == {table.name for table in METADATA.sorted_tables}:
        return (
            "The database has none of the WHMCS tables the bridge uses (tblclients, tblhosting, "
            "...). BRIDGE_DATABASE_URL must name the WHMCS database itself."
        )
    lines = "\n".join(f"  - {gap}" for gap in gaps)
    return (
        f"The WHMCS database lacks {len(gaps)} table(s)/column(s) the bridge uses:\n{lines}\n"
        "Check that BRIDGE_DATABASE_URL names the WHMCS database and that WHMCS is 8.x "
        "(older versions lack some columns)."
    )


def whmcs_ddl(dialect: str) -> list[str]:
    """Return the statements that create the WHMCS fixture schema on ``dialect``."""
    statements = _split_statements(SCHEMA_PATH.read_text(encoding="utf-8"))
    if dialect == "sqlite":
        return [out for statement in statements for out in _to_sqlite(statement)]
    return statements


def create_whmcs_schema(conn: Connection) -> None:
    """Create the WHMCS fixture tables in an empty database (tests and the demo only)."""
    existing = set(inspect(conn).get_table_names()) & {t.name for t in METADATA.sorted_tables}
    if existing:
        raise ConfigError(
            f"Refusing to create WHMCS tables: {', '.join(sorted(existing))} already exist. "
            "The WHMCS fixture schema is for empty test and demo databases only."
        )
    for statement in whmcs_ddl(conn.dialect.name):
        conn.execute(text(statement))


def _split_statements(sql: str) -> list[str]:
    body = "\n".join(line for line in sql.splitlines() if not line.lstrip().startswith("--"))
    return [part.strip() for part in re.split(r";\s*$", body, flags=re.MULTILINE) if part.strip()]


def _to_sqlite(statement: str) -> list[str]:
    """Translate one MySQL ``CREATE TABLE`` of the fixture's style into SQLite statements."""
    lines = statement.splitlines()
    table = re.search(r"CREATE TABLE `(\w+)`", lines[0], re.IGNORECASE)
    if table is None:
        raise ValueError(f"not a CREATE TABLE statement: {lines[0]!r}")
    name = table.group(1)
    columns: list[str] = []
    indexes: list[str] = []
    auto_increment = None
    for line in lines[1:]:
        stripped = line.strip().rstrip(",")
        key = _KEY.match(line)
        if key:
            unique, key_name, key_columns = key.groups()
            key_columns = _PREFIX_LENGTH.sub("", key_columns)
            kind = "UNIQUE INDEX" if unique else "INDEX"
            indexes.append(f"CREATE {kind} `{name}_{key_name}` ON `{name}` ({key_columns})")
        elif stripped.upper().startswith("PRIMARY KEY"):
            if auto_increment is None:
                columns.append(stripped)
        elif _TABLE_OPTIONS.search(stripped) or stripped == ")":
            continue
        elif "AUTO_INCREMENT" in stripped.upper():
            auto_increment = stripped.split()[0]
            columns.append(f"{auto_increment} INTEGER PRIMARY KEY AUTOINCREMENT")
        else:
            columns.append(_ENUM.sub("text", _COLUMN_NOISE.sub("", stripped)))
    create = f"CREATE TABLE `{name}` (\n  " + ",\n  ".join(columns) + "\n)"
    return [create, *indexes]
