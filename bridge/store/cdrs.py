"""The CDR store (``mod_voipbridge_cdrs``) and collection watermarks.

Every call is stored once: the table is unique on (server, PBX uuid), and :func:`store_cdrs`
inserts a batch in one statement that skips calls already stored (``INSERT IGNORE`` on MySQL,
``ON CONFLICT DO NOTHING`` on SQLite), so re-fetching a window, a Vodia push sent three times or
a CSV imported twice adds nothing. Values are made to fit their columns before the insert, so the
duplicate key is the only thing ignored. Times are stored as naive UTC.

A watermark records, per server and scope (a service or the whole server), up to when calls have
been collected. Callers advance it in the same transaction as the last batch of rows, so a fetch
that fails part way leaves it where it was and the window is fetched again next time.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import Connection, RowMapping

from bridge.calls import CollectedCdr
from bridge.errors import InvalidCdr
from bridge.rating.models import Cdr, Direction
from bridge.store.tables import cdr_watermarks, cdrs

# Rows fetched per round trip when a caller streams a period's calls.
_STREAM_BATCH = 500
_FIELD_LIMITS = {
    "uuid": 64,
    "domain": 255,
    "caller_number": 64,
    "caller_destination": 64,
    "destination_number": 64,
    "hangup_cause": 64,
    "caller_name": 255,
}


@dataclass(frozen=True, slots=True)
class StoreResult:
    """How many rows of a batch were new and how many were already stored."""

    inserted: int
    duplicates: int


def store_cdrs(
    conn: Connection,
    server_id: int,
    records: Iterable[CollectedCdr],
    *,
    now: datetime,
    service_id: int | None = None,
) -> StoreResult:
    """Insert ``records`` for ``server_id`` in one statement, skipping calls already stored."""
    batch = {record.uuid: record for record in records}
    if not batch:
        return StoreResult(0, 0)
    rows = [_row(server_id, record, service_id, now) for record in batch.values()]
    inserted = conn.execute(_insert_ignoring_duplicates(conn), rows).rowcount
    return StoreResult(inserted=inserted, duplicates=len(rows) - inserted)


def assign_tenant_cdrs(conn: Connection, server_id: int, domain: str, service_id: int) -> int:
    """File the server's stored calls of tenant ``domain`` that have no service under one."""
    result = conn.execute(
        cdrs.update()
        .where(
            cdrs.c.server_id == server_id,
            cdrs.c.service_id.is_(None),
            cdrs.c.domain == domain,
        )
        .values(service_id=service_id)
    )
    return int(result.rowcount)


@dataclass(frozen=True, slots=True)
class Unassigned:
    """Stored a-leg calls of one server and tenant that no service owns (so nothing bills them)."""

    server_id: int
    domain: str
    calls: int
    oldest: datetime


def list_unassigned_cdrs(conn: Connection, server_id: int | None = None) -> list[Unassigned]:
    """Return, per server and tenant, the stored a-leg calls that are filed under no service."""
    query = (
        select(
            cdrs.c.server_id,
            cdrs.c.domain,
            func.count().label("calls"),
            func.min(cdrs.c.start_utc).label("oldest"),
        )
        .where(cdrs.c.service_id.is_(None), cdrs.c.leg == "a")
        .group_by(cdrs.c.server_id, cdrs.c.domain)
        .order_by(cdrs.c.server_id, cdrs.c.domain)
    )
    if server_id is not None:
        query = query.where(cdrs.c.server_id == server_id)
    return [
        Unassigned(row.server_id, row.domain, int(row.calls), row.oldest.replace(tzinfo=UTC))
        for row in conn.execute(query)
    ]


def count_cdrs(conn: Connection, server_id: int) -> int:
    """Return how many calls are stored for ``server_id``."""
    query = select(func.count()).select_from(cdrs).where(cdrs.c.server_id == server_id)
    return int(conn.execute(query).scalar_one())


def iter_service_cdrs(
    conn: Connection, service_id: int, start: datetime, end: datetime, *, stream: bool = False
) -> Iterator[CollectedCdr]:
    """Yield a service's stored a-leg calls that started in ``[start, end)``, by start time.

    With ``stream`` the rows come from the server in batches (a server-side cursor on MySQL)
    rather than all at once, so a long export holds a batch in memory, not the month.
    """
    query = (
        select(*_CALL_COLUMNS)
        .where(
            cdrs.c.service_id == service_id,
            cdrs.c.leg == "a",
            cdrs.c.start_utc >= _naive(start),
            cdrs.c.start_utc < _naive(end),
        )
        .order_by(cdrs.c.start_utc, cdrs.c.id)
    )
    if stream:
        query = query.execution_options(yield_per=_STREAM_BATCH)
    for row in conn.execute(query).mappings():
        yield record_from_row(row)


# What record_from_row reads: a period's query fetches no more (fewer columns to decode per row).
_CALL_COLUMNS = (
    cdrs.c.uuid,
    cdrs.c.direction,
    cdrs.c.caller_number,
    cdrs.c.caller_destination,
    cdrs.c.destination_number,
    cdrs.c.start_utc,
    cdrs.c.billsec,
    cdrs.c.domain,
    cdrs.c.leg,
    cdrs.c.hangup_cause,
    cdrs.c.caller_name,
)


def record_from_row(row: RowMapping) -> CollectedCdr:
    """Return a ``mod_voipbridge_cdrs`` row as the call it stores."""
    call = Cdr(
        uuid=row["uuid"],
        direction=Direction(row["direction"]),
        caller_number=row["caller_number"],
        caller_destination=row["caller_destination"],
        destination_number=row["destination_number"],
        start=row["start_utc"].replace(tzinfo=UTC),
        billsec=row["billsec"],
    )
    return CollectedCdr(
        call,
        domain=row["domain"],
        leg=row["leg"],
        hangup_cause=row["hangup_cause"],
        caller_name=row["caller_name"],
    )


def get_watermark(conn: Connection, server_id: int, scope: str) -> datetime | None:
    """Return up to when calls of ``scope`` on ``server_id`` were collected (UTC), if ever."""
    value = conn.execute(
        select(cdr_watermarks.c.collected_to).where(
            cdr_watermarks.c.server_id == server_id, cdr_watermarks.c.scope == scope
        )
    ).scalar_one_or_none()
    return None if value is None else value.replace(tzinfo=UTC)


def set_watermark(
    conn: Connection, server_id: int, scope: str, collected_to: datetime, *, now: datetime
) -> None:
    """Record that calls of ``scope`` were collected up to ``collected_to`` (never moves back)."""
    current = get_watermark(conn, server_id, scope)
    if current is not None and current >= collected_to:
        return
    values = {"collected_to": _naive(collected_to), "updated_at": _naive(now)}
    if current is None:
        conn.execute(cdr_watermarks.insert().values(server_id=server_id, scope=scope, **values))
    else:
        conn.execute(
            cdr_watermarks.update()
            .where(cdr_watermarks.c.server_id == server_id, cdr_watermarks.c.scope == scope)
            .values(**values)
        )


def _insert_ignoring_duplicates(conn: Connection) -> Any:
    if conn.dialect.name == "mysql":
        # INSERT IGNORE reports exactly the rows it inserted, whatever the server and client
        # flags (ON DUPLICATE KEY's counts differ between MySQL and MariaDB). IGNORE would also
        # swallow other row errors as warnings; _row() has already made every value fit its
        # column, so a duplicate key is the only thing left for it to ignore.
        return cdrs.insert().prefix_with("IGNORE")
    return sqlite.insert(cdrs).on_conflict_do_nothing(index_elements=["server_id", "uuid"])


def _row(
    server_id: int, record: CollectedCdr, service_id: int | None, now: datetime
) -> dict[str, Any]:
    row: dict[str, Any] = {
        "server_id": server_id,
        "uuid": record.uuid,
        "service_id": service_id,
        "domain": record.domain,
        "direction": record.direction.value,
        "caller_number": record.call.caller_number,
        "caller_destination": record.call.caller_destination,
        "destination_number": record.call.destination_number,
        "start_utc": _naive(record.start),
        "billsec": record.billsec,
        "leg": record.leg,
        "hangup_cause": record.hangup_cause,
        "caller_name": record.caller_name,
        "collected_at": _naive(now),
    }
    if not 0 <= record.billsec < 2**31:
        raise InvalidCdr(f"CDR {record.uuid}: billsec {record.billsec} is out of range")
    for name, limit in _FIELD_LIMITS.items():
        # PBX fields are free text; an over-long one is cut rather than failing the whole batch,
        # except the uuid, whose truncation could merge two calls.
        if len(row[name]) > limit:
            if name == "uuid":
                raise InvalidCdr(f"CDR uuid longer than {limit} characters: {record.uuid[:80]}")
            row[name] = row[name][:limit]
    return row


def _naive(instant: datetime) -> datetime:
    return instant.astimezone(UTC).replace(tzinfo=None)
