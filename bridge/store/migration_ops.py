"""Schema changes for the bridge's migrations that are safe to run again after a crash.

MySQL and MariaDB commit every DDL statement on its own, so a ``bridge migrate`` killed part way
leaves some of a migration's tables behind while the version table still names the revision
before it. Each helper here therefore looks at the live schema first and does only what is
missing; rerunning a migration that was interrupted at any statement finishes it. Each statement
is atomic by itself (a table is created with its columns and unique keys in one statement), so
"present" always means "complete".
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql
from sqlalchemy.schema import CreateIndex, CreateTable, SchemaItem

from bridge.store.tables import identifier_collation


def create_table(name: str, *items: SchemaItem, **options: Any) -> None:
    """Create table ``name`` unless it exists, then whichever of its indexes are missing."""
    bind = op.get_bind()
    table = sa.Table(name, sa.MetaData(), *items, **options)
    present: set[str | None] = set()
    if sa.inspect(bind).has_table(name):
        present = {index["name"] for index in sa.inspect(bind).get_indexes(name)}
    else:
        op.execute(CreateTable(table))
    for index in sorted(table.indexes, key=lambda index: str(index.name)):
        if index.name not in present:
            op.execute(CreateIndex(index))


def make_exact(table: str, column: str, length: int, *, nullable: bool = False) -> None:
    """Give ``table.column`` (a VARCHAR) the binary collation of identifiers, unless it has it."""
    bind = op.get_bind()
    if bind.dialect.name not in ("mysql", "mariadb"):
        return  # SQLite compares text exactly already.
    target = identifier_collation(bind.dialect)
    current = bind.execute(
        sa.text(
            "SELECT collation_name FROM information_schema.columns "
            "WHERE table_schema = DATABASE() AND table_name = :table AND column_name = :column"
        ),
        {"table": table, "column": column},
    ).scalar_one()
    if current != target:
        op.alter_column(
            table,
            column,
            type_=mysql.VARCHAR(length, charset="utf8mb4", collation=target),
            existing_nullable=nullable,
        )


def add_column(table: str, column: sa.Column[Any]) -> None:
    """Add ``column`` to ``table`` unless an interrupted run already added it."""
    present = {c["name"] for c in sa.inspect(op.get_bind()).get_columns(table)}
    if column.name not in present:
        op.add_column(table, column)
