"""Stored tariffs (``mod_voipbridge_tariffs`` and ``..._tariff_rates``).

A re-import replaces a tariff's rates inside the caller's transaction: the old rates are deleted,
the new ones inserted in batches as the CSV streams in, and if any line of the file is bad the
reader raises at the end, the transaction rolls back, and the previous rates are untouched. The
column mapping used is saved with the tariff, so the next upload of the provider's card needs no
``--map``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from itertools import islice

from sqlalchemy import func, select
from sqlalchemy.engine import Connection, RowMapping

from bridge.errors import NotFound
from bridge.rating.models import RateRow
from bridge.rating.tariff_csv import TariffCsvReader
from bridge.rating.tariffs import Tariff
from bridge.store.bulk import BulkTable, Row
from bridge.store.column_fit import check_fits
from bridge.store.tables import tariff_rates, tariffs

BATCH_SIZE = 5000
# Rows per bulk write: LOAD DATA gains little beyond this, and two batches are in memory at once
# (one loading, one being read).
WRITE_BATCH = 10_000
_STORED = BulkTable(
    tariff_rates,
    (
        "tariff_id",
        "prefix",
        "description",
        "rate",
        "increment",
        "connection_fee",
        "short_description",
        "last_rate_change",
        "old_rate",
        "rate_premium",
    ),
)


@dataclass(frozen=True, slots=True)
class TariffInfo:
    """A stored tariff without its rates."""

    id: int
    name: str
    rate_count: int
    source_file: str
    imported_at: datetime | None
    column_map: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class TariffImport:
    """The outcome of importing a rate card."""

    name: str
    imported: int
    replaced: int
    column_map: Mapping[str, str]


def import_tariff(
    conn: Connection,
    name: str,
    lines: Iterable[str],
    *,
    source: str,
    now: datetime,
    overrides: Mapping[str, str] | None = None,
) -> TariffImport:
    """Replace tariff ``name``'s rates with the rate card in ``lines`` (all or nothing)."""
    check_fits(tariffs, {"name": name}, what="tariff")
    existing = (
        conn.execute(select(tariffs).where(tariffs.c.name == name).with_for_update())
        .mappings()
        .first()
    )
    saved = json.loads(existing["column_map"]) if existing else None
    reader = TariffCsvReader(lines, source=source, saved=saved, overrides=overrides)
    if existing is None:
        created = conn.execute(
            tariffs.insert().values(name=name, column_map="{}", source_file=source[-255:])
        )
        tariff_id = int(created.inserted_primary_key[0]) if created.inserted_primary_key else 0
    else:
        tariff_id = existing["id"]
    replaced: list[int] = []

    def delete_old_rates() -> None:
        """Delete the rates the card replaces (on the writer, while the first batch is read)."""
        old = tariff_rates.delete().where(tariff_rates.c.tariff_id == tariff_id)
        replaced.append(conn.execute(old).rowcount if existing is not None else 0)

    rows = reader.rows()
    batches = iter(lambda: [_rate_values(tariff_id, row) for row in islice(rows, WRITE_BATCH)], [])
    # The reader yields each prefix once, so a duplicate key here would be a bug: refused.
    imported = _STORED.insert_batches(
        conn, batches, ignore_duplicates=False, first=delete_old_rates
    )
    reader.finish()
    conn.execute(
        tariffs.update()
        .where(tariffs.c.id == tariff_id)
        .values(
            column_map=json.dumps(reader.mapping, sort_keys=True),
            source_file=source[-255:],
            rate_count=imported,
            imported_at=now.replace(tzinfo=None),
        )
    )
    return TariffImport(
        name=name, imported=imported, replaced=replaced[0], column_map=reader.mapping
    )


def list_tariffs(conn: Connection) -> list[TariffInfo]:
    """Return every stored tariff, by name."""
    rows = conn.execute(select(tariffs).order_by(tariffs.c.name)).mappings()
    return [_info(row) for row in rows]


def get_tariff_info(conn: Connection, name: str) -> TariffInfo:
    """Return tariff ``name`` without its rates, or raise :class:`NotFound`."""
    row = conn.execute(select(tariffs).where(tariffs.c.name == name)).mappings().first()
    if row is None:
        known = conn.execute(select(func.count()).select_from(tariffs)).scalar_one()
        raise NotFound(
            f"No tariff named {name!r} ({known} tariff(s) stored; `bridge tariff list` shows them)."
        )
    return _info(row)


def iter_rates(conn: Connection, name: str) -> Iterator[RateRow]:
    """Yield tariff ``name``'s rates in import order, streamed from the database."""
    info = get_tariff_info(conn, name)
    # Options on the statement, not the connection: Connection.execution_options() changes the
    # connection itself, and every later query of the transaction would inherit the batching.
    result = conn.execute(
        select(tariff_rates)
        .where(tariff_rates.c.tariff_id == info.id)
        .order_by(tariff_rates.c.id)
        .execution_options(stream_results=True, yield_per=BATCH_SIZE)
    )
    for row in result.mappings():
        yield RateRow(
            prefix=row["prefix"],
            description=row["description"],
            rate=row["rate"],
            increment=row["increment"],
            connection_fee=row["connection_fee"],
            short_description=row["short_description"],
            last_rate_change=row["last_rate_change"],
            old_rate=row["old_rate"],
            rate_premium=row["rate_premium"],
        )


def get_tariff_version(conn: Connection, name: str) -> tuple[int, int, int | None]:
    """Return what changes whenever tariff ``name``'s rates change: its id, rate count and the
    highest rate row id (an import deletes every row and inserts new ones, with new ids)."""
    info = get_tariff_info(conn, name)
    newest = conn.execute(
        select(func.max(tariff_rates.c.id)).where(tariff_rates.c.tariff_id == info.id)
    ).scalar_one()
    return (info.id, info.rate_count, None if newest is None else int(newest))


def load_tariff(conn: Connection, name: str) -> Tariff:
    """Return tariff ``name`` with its prefix index built, ready to rate with."""
    return Tariff.from_rows(name, iter_rates(conn, name))


def _rate_values(tariff_id: int, row: RateRow) -> Row:
    """Return ``row`` as ``_STORED``'s columns, in order."""
    return (
        tariff_id,
        row.prefix,
        row.description,
        row.rate,
        row.increment,
        row.connection_fee,
        row.short_description,
        row.last_rate_change,
        row.old_rate,
        row.rate_premium,
    )


def _info(row: RowMapping) -> TariffInfo:
    return TariffInfo(
        id=row["id"],
        name=row["name"],
        rate_count=row["rate_count"],
        source_file=row["source_file"],
        imported_at=row["imported_at"],
        column_map=json.loads(row["column_map"]),
    )
