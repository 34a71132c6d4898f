"""Text the bridge writes into WHMCS tables, fitted to each column's real character set.

Real WHMCS installs keep most tables in ``utf8`` (``utf8mb3``, ``utf8_unicode_ci``), which cannot
hold a character outside Unicode's first plane (an emoji, some CJK): in MySQL's strict mode such a
value fails the whole statement — and the transaction moving money with it — and without strict
mode (WHMCS's own ``sql_mode=''``) it is silently stored as ``?``. The bridge writes text from
outside (a tariff's destination names, a PBX's answer, a client's name), so every WHMCS text it
writes goes through :func:`fit_text`: on a ``utf8mb3`` column a 4-byte character becomes U+FFFD
(the replacement character, which ``utf8mb3`` holds), and any value is cut to the column's size
in bytes. A column's character set is read from ``information_schema`` once per database and
remembered; ``bridge doctor`` reports them (:func:`describe_written_text`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Column, text
from sqlalchemy.engine import Connection

from bridge.whmcs.tables import WRITTEN_TEXT

REPLACEMENT = "\ufffd"
_THREE_BYTE_SETS = frozenset({"utf8", "utf8mb3"})
_FOUR_BYTE = re.compile("[\U00010000-\U0010ffff]")
_known: dict[tuple[str, str, str], ColumnText] = {}


@dataclass(frozen=True, slots=True)
class ColumnText:
    """What a text column can hold: its character set and its size in bytes (``None``: any)."""

    charset: str | None
    max_bytes: int | None

    @property
    def holds_four_byte_characters(self) -> bool:
        """Tell whether the column stores characters outside the first Unicode plane."""
        return self.charset not in _THREE_BYTE_SETS


def fit_text(conn: Connection, column: Column[Any], value: str) -> str:
    """Return ``value`` as ``column`` can store it: 4-byte characters replaced, cut to size."""
    info = column_text(conn, column)
    if not info.holds_four_byte_characters:
        value = _FOUR_BYTE.sub(REPLACEMENT, value)
    if info.max_bytes is not None:
        encoded = value.encode("utf-8")
        if len(encoded) > info.max_bytes:
            value = encoded[: info.max_bytes].decode("utf-8", errors="ignore")
    return value


def column_text(conn: Connection, column: Column[Any]) -> ColumnText:
    """Return what ``column`` of the connected WHMCS database holds (cached per database)."""
    key = (conn.engine.url.render_as_string(hide_password=True), column.table.name, column.name)
    known = _known.get(key)
    if known is None:
        known = _known[key] = _read(conn, column.table.name, column.name)
    return known


def describe_written_text(conn: Connection) -> str:
    """Return one line saying which character sets the WHMCS text the bridge writes is in."""
    sets: dict[str, list[str]] = {}
    for column in WRITTEN_TEXT:
        info = column_text(conn, column)
        sets.setdefault(info.charset or "any", []).append(f"{column.table.name}.{column.name}")
    parts = []
    for charset, names in sorted(sets.items()):
        note = (
            " (4-byte characters such as emoji are written as U+FFFD)"
            if charset in _THREE_BYTE_SETS
            else ""
        )
        parts.append(f"{charset}{note}: {len(names)} column(s)")
    return "; ".join(parts)


def _read(conn: Connection, table: str, column: str) -> ColumnText:
    if conn.dialect.name != "mysql":
        return ColumnText(None, None)  # SQLite (the demo) stores any text, of any length
    row = conn.execute(
        text(
            "SELECT character_set_name AS charset, character_octet_length AS size "
            "FROM information_schema.columns WHERE table_schema = DATABASE() "
            "AND table_name = :table AND column_name = :column"
        ),
        {"table": table, "column": column},
    ).first()
    if row is None:
        return ColumnText(None, None)
    return ColumnText(row.charset, int(row.size) if row.size is not None else None)
