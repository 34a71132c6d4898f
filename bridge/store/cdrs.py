"""The CDR store (``mod_voipbridge_cdrs``) and collection watermarks.

Every call is stored once: the table is unique on (server, PBX uuid), and :func:`store_cdrs`
inserts a batch in one statement that skips calls already stored (``INSERT IGNORE`` on MySQL,
``ON CONFLICT DO NOTHING`` on SQLite), so re-fetching a window, a Vodia push sent three times or
a CSV imported twice adds nothing. Values are made to fit their columns before the insert, so the
duplicate key is the only thing ignored. Times are stored as naive UTC.

One bad record never fails its batch: a record an adapter could not read
(:class:`~bridge.calls.RejectedCdr`) or one that cannot be stored as it is (seconds out of range, an
implausible start) is quarantined in ``mod_voipbridge_cdr_quarantine`` with the reason, once per
server and id, and the rest of the batch is stored, so the watermark still moves. Over-long ids are
stored as a digest, never cut (:func:`stored_uuid`).

A watermark records, per server and scope (a service or the whole server), up to when calls have
been collected. Callers advance it in the same transaction as the last batch of rows, so a fetch
that fails part way leaves it where it was and the window is fetched again next time.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Table, func, select
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import Connection, RowMapping

from bridge.calls import MAX_SECONDS, CollectedCdr, Intake, RejectedCdr
from bridge.errors import InvalidCdr
from bridge.rating.models import Cdr, Direction
from bridge.store.bulk import BulkTable, Row
from bridge.store.tables import cdr_quarantine, cdr_watermarks, cdrs

# Rows fetched per round trip when a caller streams a period's calls.
_STREAM_BATCH = 500
# The stored row, in the order _row() builds it (and fits PBX free text to its columns).
_STORED = BulkTable(
    cdrs,
    ("server_id", "uuid", "service_id", "domain", "direction", "caller_number",
     "caller_destination", "destination_number", "start_utc", "billsec", "leg", "hangup_cause",
     "caller_name", "collected_at"),
)  # fmt: skip
UUID_LENGTH = 64
# Over-long or unstorable ids are kept as a digest of the whole id (see stored_uuid).
DIGEST_PREFIX = "sha256:"
# The earliest and latest call start the store accepts: MySQL's DATETIME begins at year 1000,
# and a start outside these years is a corrupt record, not a call to bill.
_FIRST_YEAR, _LAST_YEAR = 1970, 9998
_REASON_LENGTH = 255
_RECORD_SHOWN = 2000


@dataclass(frozen=True, slots=True)
class StoreResult:
    """How many records of a batch were new, already stored, and set aside as unstorable."""

    inserted: int
    duplicates: int
    quarantined: int = 0


def store_cdrs(
    conn: Connection,
    server_id: int,
    records: Iterable[Intake],
    *,
    now: datetime,
    service_id: int | None = None,
) -> StoreResult:
    """Store ``records`` for ``server_id``, skipping calls already stored.

    A record that cannot be stored as it is (a rejected record, seconds out of range, a start
    no calendar has) is quarantined instead, with the reason, and the rest of the batch is stored.
    """
    batch: dict[str, Row] = {}
    aside: dict[str, dict[str, Any]] = {}
    rejected = 0
    collected_at = _naive(now)
    for record in records:
        try:
            if isinstance(record, RejectedCdr):
                raise InvalidCdr(record.reason)
            row = _row(server_id, record, service_id, collected_at)
        except InvalidCdr as exc:
            held = _quarantine_row(server_id, record, exc.message, service_id, now)
            aside[held["uuid"]] = held
            rejected += 1
            continue
        batch[row[1]] = row  # by stored uuid: a repeat within the batch is stored once
    inserted = _STORED.insert(conn, list(batch.values()), ignore_duplicates=True)
    if aside:
        _quarantine_rows(conn, list(aside.values()))
    # Every record set aside counts, a repeat of one too: the caller accounts for each it gave.
    return StoreResult(inserted=inserted, duplicates=len(batch) - inserted, quarantined=rejected)


def stored_uuid(uuid: str) -> str:
    """Return the id a call is stored under: its own, or a digest when it cannot be kept whole.

    Cutting an over-long id could merge two calls, so an id longer than the column, or one that is
    not valid Unicode text, is stored as ``sha256:`` and 57 hex digits of its SHA-256: the same
    id always gives the same digest, so a re-fetched call is still stored once.
    """
    if (
        len(uuid) <= UUID_LENGTH
        and (uuid.isascii() or _storable(uuid))
        and not uuid.startswith(DIGEST_PREFIX)
    ):
        return uuid
    digest = hashlib.sha256(uuid.encode("utf-8", "surrogatepass")).hexdigest()
    return DIGEST_PREFIX + digest[: UUID_LENGTH - len(DIGEST_PREFIX)]


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


@dataclass(frozen=True, slots=True)
class Quarantined:
    """Records of one server that were set aside as unstorable, and the latest reason."""

    server_id: int
    records: int
    latest: datetime
    reason: str


def list_quarantined(conn: Connection) -> list[Quarantined]:
    """Return, per server, how many records are quarantined, with the newest one's reason."""
    counts = select(
        cdr_quarantine.c.server_id,
        func.count().label("records"),
        func.max(cdr_quarantine.c.id).label("newest"),
    ).group_by(cdr_quarantine.c.server_id)
    found = []
    for row in conn.execute(counts.order_by(cdr_quarantine.c.server_id)):
        newest = conn.execute(
            select(cdr_quarantine.c.quarantined_at, cdr_quarantine.c.reason).where(
                cdr_quarantine.c.id == row.newest
            )
        ).one()
        found.append(
            Quarantined(
                row.server_id, int(row.records), newest.quarantined_at.replace(tzinfo=UTC),
                newest.reason,
            )
        )  # fmt: skip
    return found


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


def _quarantine_rows(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """Set records aside; a record already set aside (the same window fetched again) stays once."""
    conn.execute(_insert_ignoring_duplicates(conn, cdr_quarantine), rows)


def _insert_ignoring_duplicates(conn: Connection, table: Table) -> Any:
    if conn.dialect.name == "mysql":
        # As for stored calls (bridge/store/bulk.py): INSERT IGNORE's count is exact, and every
        # value already fits its column, so a duplicate key is the only thing it ignores.
        return table.insert().prefix_with("IGNORE")
    return sqlite.insert(table).on_conflict_do_nothing(index_elements=["server_id", "uuid"])


def _row(
    server_id: int, record: CollectedCdr, service_id: int | None, collected_at: datetime
) -> Row:
    """Return the stored row of ``record`` (``_STORED``'s columns, in order), or raise
    :class:`InvalidCdr` saying why it cannot be stored. ``collected_at`` is naive UTC."""
    call = record.call
    billsec, start, leg = call.billsec, call.start, record.leg
    if not 0 <= billsec <= MAX_SECONDS:
        raise InvalidCdr(f"billsec {billsec} is out of range (0 to {MAX_SECONDS})")
    if not _FIRST_YEAR <= start.year <= _LAST_YEAR:
        raise InvalidCdr(f"start {start.date().isoformat()} is not a plausible call time")
    if leg not in ("a", "b"):
        raise InvalidCdr(f"leg {leg[:40]!r} is neither a nor b")
    # PBX free text: an over-long value is cut and an unencodable character replaced rather than
    # failing the call (the id, which must stay exact, is handled by stored_uuid).
    domain, caller, dialled = record.domain, call.caller_number, call.caller_destination
    destination, cause, name = call.destination_number, record.hangup_cause, record.caller_name
    if not (
        (domain + caller + dialled + destination + cause + name).isascii()
        and len(domain) <= 255
        and len(name) <= 255
        and max(len(caller), len(dialled), len(destination), len(cause)) <= 64
    ):  # the usual call needs nothing done: one test instead of six
        domain, name = _text(domain, 255), _text(name, 255)
        caller, dialled = _text(caller, 64), _text(dialled, 64)
        destination, cause = _text(destination, 64), _text(cause, 64)
    return (
        server_id,
        stored_uuid(call.uuid),
        service_id,
        domain,
        call.direction._value_,  # the `value` property costs ten times more
        caller,
        dialled,
        destination,
        start,  # aware (CollectedCdr keeps it UTC): the bulk writer stores it as naive UTC
        billsec,
        leg,
        cause,
        name,
        collected_at,
    )


def _quarantine_row(
    server_id: int, record: Intake, reason: str, service_id: int | None, now: datetime
) -> dict[str, Any]:
    if isinstance(record, RejectedCdr):
        shown = record.record
        pbx_id = record.uuid
    else:
        shown = repr(record)
        pbx_id = record.uuid
    # A record without an id is known by its content, so fetching it again sets it aside once.
    key = stored_uuid(pbx_id or DIGEST_PREFIX + shown)
    return {
        "server_id": server_id,
        "uuid": key,
        "pbx_uuid": _text(pbx_id, None),
        "service_id": service_id,
        "reason": _text(reason, _REASON_LENGTH),
        "record": _text(shown, _RECORD_SHOWN),
        "quarantined_at": _naive(now),
    }


def _text(value: str, limit: int | None) -> str:
    if value.isascii():  # the common case, and always storable
        return value if limit is None or len(value) <= limit else value[:limit]
    if not _storable(value):
        value = value.encode("utf-8", "replace").decode("utf-8")
    return value if limit is None else value[:limit]


def _storable(text: str) -> bool:
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate, which no database column can hold
        return False
    return True


def _naive(instant: datetime) -> datetime:
    return instant.astimezone(UTC).replace(tzinfo=None)
