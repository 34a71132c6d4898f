"""A comparable description of the bridge's live tables, for checking what migrations build."""

from __future__ import annotations

from typing import Any

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

from bridge.store.tables import VERSION_TABLE


def describe_schema(conn: Connection) -> dict[str, Any]:
    """Return every ``mod_voipbridge_*`` table's columns, keys and indexes as plain data."""
    inspector = inspect(conn)
    collations = _collations(conn)
    tables: dict[str, Any] = {}
    for name in sorted(inspector.get_table_names()):
        if not name.startswith("mod_voipbridge_") or name == VERSION_TABLE:
            continue
        tables[name] = {
            "columns": [
                (
                    column["name"],
                    column["type"].compile(dialect=conn.dialect),
                    column["nullable"],
                    str(column.get("default")),
                    collations.get((name, column["name"])),
                )
                for column in inspector.get_columns(name)
            ],
            "primary_key": inspector.get_pk_constraint(name)["constrained_columns"],
            "unique": sorted(
                tuple(unique["column_names"]) for unique in inspector.get_unique_constraints(name)
            ),
            "indexes": sorted(
                (str(index["name"]), tuple(index["column_names"]), bool(index["unique"]))
                for index in inspector.get_indexes(name)
            ),
        }
    return tables


def _collations(conn: Connection) -> dict[tuple[str, str], str]:
    if conn.dialect.name != "mysql":
        return {}
    rows = conn.execute(
        text(
            "SELECT table_name, column_name, collation_name FROM information_schema.columns "
            "WHERE table_schema = DATABASE() AND collation_name IS NOT NULL"
        )
    )
    return {(row[0], row[1]): row[2] for row in rows}
