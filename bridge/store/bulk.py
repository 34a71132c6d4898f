"""Writing many rows at once: ``LOAD DATA LOCAL INFILE`` on MariaDB, a multi-row insert elsewhere.

The CDR store and the tariff import hand :class:`BulkTable` rows whose values already fit their
columns (``bridge.store.cdrs._row`` and the rate-card reader see to that); a timestamp may be
naive UTC or aware, and is stored as naive UTC either way. On MariaDB/MySQL through
PyMySQL the rows become one tab-separated text in ``LOAD DATA``'s default format, built once per
row by a plan the table's column types decide (``\\N`` for NULL; a row whose text holds a tab, a
newline, a NUL or a backslash has those escaped), written to a private temporary file and loaded
inside the caller's transaction. The server then does all the parsing: PyMySQL never escapes a
value in Python, which is where the plain path spends half its time.

The fast path keeps the plain path's guarantees: ``IGNORE`` skips rows whose unique key is
already stored (the affected-row count is exactly the rows inserted), and any other warning (a
value cut or converted) raises :class:`~bridge.errors.BulkWriteRefused`, so the transaction rolls
back rather than store a changed value. Without ``IGNORE`` a duplicate key is refused the same way.

``LOAD DATA LOCAL`` lets the server ask the client for a file. The engine announces the capability
(``bridge.db.make_engine``), but PyMySQL answers such a request only while
:func:`_local_files_allowed` holds, which is the span of one of our own ``LOAD DATA`` statements;
at any other time a request is refused. When the server has ``local_infile`` off, the driver is
not PyMySQL, or the database is SQLite (the demo), rows go through SQLAlchemy's multi-row insert.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Date,
    DateTime,
    Integer,
    Numeric,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import Connection

from bridge.errors import BulkWriteRefused

Row = tuple[Any, ...]
# Escapes of LOAD DATA's default format (FIELDS TERMINATED BY '\t' ESCAPED BY '\\').
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\x00": "\\0"})
_DUPLICATE_KEY = 1062
_INFO_KEY = "bridge.local_infile"


_NULL = "\\N"


class BulkTable:
    """How rows of one table are written in bulk: its columns, in order, and their text form."""

    def __init__(self, table: Table, columns: Sequence[str]) -> None:
        self.table = table
        self.columns = tuple(columns)
        renders = [_renderer(table.c[name].type) for name in self.columns]
        self._conversions = [
            (at, render)
            for at, (name, render) in enumerate(zip(self.columns, renders, strict=True))
            if render is not None or table.c[name].nullable
        ]
        self._tabs = len(self.columns) - 1
        self._column_list = ", ".join(self.columns)
        self._timestamps = [n for n in self.columns if isinstance(table.c[n].type, DateTime)]
        unique = [c for c in table.constraints if isinstance(c, UniqueConstraint)]
        self._unique = [column.name for column in unique[0].columns] if unique else None

    def insert(self, conn: Connection, rows: Sequence[Row], *, ignore_duplicates: bool) -> int:
        """Insert ``rows`` (value tuples in column order); return how many were inserted.

        With ``ignore_duplicates`` a row whose unique key is already stored is skipped;
        otherwise a duplicate raises.
        """
        if not rows:
            return 0
        if load_data_available(conn):
            return self._load(conn, rows, ignore_duplicates)
        return self._insert(conn, rows, ignore_duplicates)

    def insert_batches(
        self,
        conn: Connection,
        batches: Iterable[Sequence[Row]],
        *,
        ignore_duplicates: bool,
        first: Callable[[], object] | None = None,
    ) -> int:
        """Insert each batch of ``batches`` as :meth:`insert` does; return how many were inserted.

        ``first``, when given, runs on ``conn`` before the first batch is written (deleting the
        rows the batches replace, say). On the LOAD DATA path it and each batch run on one writer
        thread while the caller's thread builds the next batch (the server works while Python
        reads); the caller's thread never touches ``conn`` meanwhile, and an error in either
        stops both, after the statement in flight.
        """
        if not load_data_available(conn):
            if first is not None:
                first()
            return sum(
                self.insert(conn, batch, ignore_duplicates=ignore_duplicates) for batch in batches
            )
        inserted = 0
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="bridge-bulk") as writer:
            preparing = None if first is None else writer.submit(first)
            loading: Future[int] | None = None
            for batch in batches:  # the next batch is read while the writer works
                if not batch:
                    continue
                text = self.text(batch)  # here, so the writer thread only waits for the server
                if preparing is not None:
                    preparing.result()  # its error, if any, stops here, before any batch
                    preparing = None
                if loading is not None:
                    inserted += loading.result()
                loading = writer.submit(self._load_text, conn, text, len(batch), ignore_duplicates)
            if preparing is not None:
                preparing.result()
            if loading is not None:
                inserted += loading.result()
        return inserted

    def text(self, rows: Sequence[Row]) -> bytes:
        """Return ``rows`` as LOAD DATA's tab-separated UTF-8 text, one line per row."""
        return "".join([self._line(row) for row in rows]).encode("utf-8")

    def _line(self, row: Row) -> str:
        texts = list(row)
        nulls = 0
        for at, render in self._conversions:  # only the columns that are not text, or nullable
            value = texts[at]
            if value is None:
                texts[at] = _NULL
                nulls += 1
            elif render is not None:
                texts[at] = render(value)
        line = "\t".join(texts)
        # Numbers and dates never hold a tab, newline or backslash, and each NULL adds one
        # backslash: any other count means some text needs escaping.
        if line.count("\\") != nulls or line.count("\t") != self._tabs or "\n" in line:
            line = "\t".join(
                [
                    text.translate(_ESCAPES) if isinstance(value, str) else text
                    for text, value in zip(texts, row, strict=True)
                ]
            )
        return line + "\n"

    def _load(self, conn: Connection, rows: Sequence[Row], ignore: bool) -> int:
        return self._load_text(conn, self.text(rows), len(rows), ignore)

    def _load_text(self, conn: Connection, data: bytes, count: int, ignore: bool) -> int:
        """Load ``count`` rows written as ``data``; return how many were inserted."""
        with tempfile.TemporaryDirectory(prefix="voipbridge-bulk-") as folder:
            path = Path(folder) / "rows.tsv"
            path.write_bytes(data)
            statement = (
                f"LOAD DATA LOCAL INFILE %s {'IGNORE ' if ignore else ''}INTO TABLE "
                f"{self.table.name} CHARACTER SET utf8mb4 ({self._column_list})"
            )
            with _local_files_allowed(conn):
                inserted = int(conn.exec_driver_sql(statement, (str(path),)).rowcount)
        warnings = int(conn.exec_driver_sql("SELECT @@warning_count").scalar_one())
        skipped = count - inserted
        if warnings > (skipped if ignore else 0) or (skipped and not ignore):
            raise BulkWriteRefused(_refusal(conn, self.table.name, ignore))
        return inserted

    def _insert(self, conn: Connection, rows: Sequence[Row], ignore: bool) -> int:
        values = [dict(zip(self.columns, row, strict=True)) for row in rows]
        for row_values in values:
            for name in self._timestamps:
                stamp = row_values[name]
                if stamp is not None and stamp.tzinfo is not None:
                    row_values[name] = stamp.astimezone(UTC).replace(tzinfo=None)
        statement: Any = self.table.insert()
        if ignore and conn.dialect.name == "mysql":
            # INSERT IGNORE reports exactly the rows it inserted (ON DUPLICATE KEY's counts differ
            # between MySQL and MariaDB). It would also turn other row errors into warnings; the
            # callers have already made every value fit its column, so only duplicates are left.
            statement = statement.prefix_with("IGNORE")
        elif ignore:
            statement = sqlite.insert(self.table).on_conflict_do_nothing(
                index_elements=self._unique
            )
        return int(conn.execute(statement, values).rowcount)


def load_data_available(conn: Connection) -> bool:
    """Return whether ``conn`` can take ``LOAD DATA LOCAL INFILE`` (PyMySQL, server allows it)."""
    if conn.dialect.name != "mysql" or conn.dialect.driver != "pymysql":
        return False
    info = conn.connection.info
    if _INFO_KEY not in info:
        from pymysql.constants import CLIENT

        announced = bool(conn.connection.dbapi_connection.client_flag & CLIENT.LOCAL_FILES)  # type: ignore[union-attr]
        allowed = announced and bool(conn.exec_driver_sql("SELECT @@local_infile").scalar_one())
        info[_INFO_KEY] = allowed
    return bool(info[_INFO_KEY])


@contextmanager
def _local_files_allowed(conn: Connection) -> Iterator[None]:
    """Let PyMySQL answer the server's request for a local file for the block only."""
    driver = conn.connection.dbapi_connection
    driver._local_infile = True  # type: ignore[union-attr]
    try:
        yield
    finally:
        driver._local_infile = False  # type: ignore[union-attr]


def _refusal(conn: Connection, table: str, ignore: bool) -> str:
    shown = [
        f"{level} {code}: {message}"
        for level, code, message in conn.exec_driver_sql("SHOW WARNINGS LIMIT 64")
        if not (ignore and code == _DUPLICATE_KEY)
    ]
    detail = shown[0] if shown else "a duplicate key"
    return (
        f"Bulk write to {table} refused: the server reported {detail}. The batch's "
        "transaction is rolled back; this is a bug in the bridge, please report it."
    )


def _renderer(kind: Any) -> Callable[[Any], str] | None:
    """Return how a column's values become text (None: they are text already)."""
    if isinstance(kind, TypeDecorator):
        kind = kind.impl_instance
    if isinstance(kind, Numeric) and not isinstance(kind, Integer):
        return _remembering(_fixed_point)
    if isinstance(kind, Integer):
        return str
    if isinstance(kind, DateTime):
        return _remembering(_timestamp)
    if isinstance(kind, Date):
        return _remembering(date.isoformat)
    if isinstance(kind, String | Text):
        return None
    raise TypeError(f"no bulk text form for column type {kind!r}")


def _timestamp(value: datetime) -> str:
    """Return a timestamp as PyMySQL writes a naive UTC datetime (microseconds when non-zero)."""
    if value.tzinfo is None:
        return str(value)
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    return str(value)[:-6]  # without "+00:00": one conversion instead of two (replace, then str)


def _fixed_point(value: Decimal) -> str:
    return format(value, "f")  # str(Decimal) may use an exponent


def _remembering(render: Callable[[Any], str]) -> Callable[[Any], str]:
    """Return ``render`` remembering its last value: rows share objects, formatting is slow.

    A CDR batch shares one ``collected_at``, and a rate card's rows one date and one zero fee;
    formatting a date or a Decimal costs up to a microsecond, comparing identity nothing.
    """
    last: list[Any] = [None, ""]

    def remembered(value: Any) -> str:
        if value is not last[0]:
            last[:] = [value, render(value)]
        text: str = last[1]
        return text

    return remembered
