"""The bridge's billing ledger: which stored calls a job has billed, and what it posted to WHMCS.

``mod_voipbridge_billed_calls`` holds one row per (service, stored call) that a billing job has
dealt with — billed, free, or not billable at all — with its 6-decimal cost; its unique key is
what makes a call billed at most once, whatever runs twice. ``mod_voipbridge_postings`` holds
every amount a job posted to WHMCS (a billable item, a credit movement) for a service and billing
period. ``mod_voipbridge_realtime_totals`` keeps real-time billing's running cost and whole cents
taken per service and period. Callers write all three in the transaction that moves the money.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Join, and_, func, select
from sqlalchemy.engine import Connection, RowMapping

from bridge.db import inserted_id
from bridge.rating.models import Cdr, Direction
from bridge.store.tables import billed_calls, cdrs, postings, realtime_totals

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class StoredCall:
    """A call from the CDR store, as rating sees it, with its row id (the ledger's key)."""

    id: int
    call: Cdr


@dataclass(frozen=True, slots=True)
class BilledCall:
    """One ledger row: how a job rated a stored call, and which posting took its money."""

    cdr_id: int
    service_id: int
    client_id: int
    period_start: date
    period_end: date
    job: str
    status: str
    calltype: str
    billed_seconds: int
    free_seconds: int
    cost: Decimal
    posting_id: int | None = None


@dataclass(frozen=True, slots=True)
class Posting:
    """An amount a job posted to WHMCS (positive charges the client, negative gives back)."""

    job: str
    service_id: int
    client_id: int
    currency_id: int
    period_start: date
    period_end: date
    amount: Decimal
    calls: int
    whmcs_table: str
    whmcs_id: int | None
    description: str
    adjusts_posting_id: int | None = None


def list_services_with_unbilled_calls(conn: Connection, *, before: datetime) -> list[int]:
    """Return the services that have stored a-leg calls started before ``before`` not billed yet."""
    query = (
        select(cdrs.c.service_id)
        .select_from(_unbilled_join())
        .where(
            cdrs.c.service_id.is_not(None),
            cdrs.c.leg == "a",
            cdrs.c.start_utc < _naive(before),
            billed_calls.c.id.is_(None),
        )
        .group_by(cdrs.c.service_id)
        .order_by(cdrs.c.service_id)
    )
    return [int(service_id) for service_id in conn.execute(query).scalars()]


def iter_unbilled_calls(
    conn: Connection, service_id: int, *, before: datetime
) -> Iterator[StoredCall]:
    """Yield the service's stored a-leg calls started before ``before`` that no job billed yet."""
    query = (
        select(*_RATED)
        .select_from(_unbilled_join())
        .where(
            cdrs.c.service_id == service_id,
            cdrs.c.leg == "a",
            cdrs.c.start_utc < _naive(before),
            billed_calls.c.id.is_(None),
        )
        .order_by(cdrs.c.start_utc, cdrs.c.id)
    )
    # Billing reads every call of every due service: plain tuples and only what rating needs.
    for row in conn.execute(query):
        yield _stored(row)


def iter_billed_calls(
    conn: Connection, service_id: int, period_start: date
) -> Iterator[tuple[StoredCall, BilledCall]]:
    """Yield the calls a job billed for the service's period starting ``period_start``."""
    query = (
        select(*_RATED, *_billed_columns())
        .select_from(cdrs.join(billed_calls, billed_calls.c.cdr_id == cdrs.c.id))
        .where(billed_calls.c.service_id == service_id, billed_calls.c.period_start == period_start)
        .order_by(cdrs.c.start_utc, cdrs.c.id)
    )
    for row in conn.execute(query).mappings():
        yield _stored(tuple(row[column.name] for column in _RATED)), _billed(row)


def free_seconds_used(conn: Connection, service_id: int, period_start: date) -> int:
    """Return the free-minute seconds already given to the service's calls in the period."""
    used = conn.execute(
        select(func.coalesce(func.sum(billed_calls.c.free_seconds), 0)).where(
            billed_calls.c.service_id == service_id, billed_calls.c.period_start == period_start
        )
    ).scalar_one()
    return int(used)


def record_billed_calls(conn: Connection, rows: Sequence[BilledCall], *, now: datetime) -> None:
    """Add ledger rows; a call already billed for its service violates the unique key (raises)."""
    if rows:
        conn.execute(
            billed_calls.insert(),
            [{**_values(row), "rated_at": _naive(now)} for row in rows],
        )


def rerecord_billed_call(conn: Connection, row: BilledCall, *, now: datetime) -> None:
    """Replace how a billed call was rated (re-rating), keeping its place in the ledger."""
    values = _values(row)
    conn.execute(
        billed_calls.update()
        .where(billed_calls.c.service_id == row.service_id, billed_calls.c.cdr_id == row.cdr_id)
        .values(
            status=values["status"],
            calltype=values["calltype"],
            billed_seconds=values["billed_seconds"],
            free_seconds=values["free_seconds"],
            cost=values["cost"],
            job=values["job"],
            rated_at=_naive(now),
        )
    )


def add_posting(conn: Connection, posting: Posting, *, now: datetime) -> int:
    """Record an amount posted to WHMCS and return the posting's id."""
    result = conn.execute(
        postings.insert().values(
            job=posting.job,
            service_id=posting.service_id,
            client_id=posting.client_id,
            currency_id=posting.currency_id,
            period_start=posting.period_start,
            period_end=posting.period_end,
            amount=posting.amount,
            calls=posting.calls,
            whmcs_table=posting.whmcs_table,
            whmcs_id=posting.whmcs_id,
            adjusts_posting_id=posting.adjusts_posting_id,
            description=posting.description,
            created_at=_naive(now),
        )
    )
    return inserted_id(result)


def list_postings(
    conn: Connection, service_id: int, period_start: date
) -> list[tuple[int, Posting]]:
    """Return the postings of the service's period starting ``period_start``, oldest first."""
    rows = conn.execute(
        select(postings)
        .where(postings.c.service_id == service_id, postings.c.period_start == period_start)
        .order_by(postings.c.id)
    ).mappings()
    return [
        (
            row["id"],
            Posting(
                job=row["job"],
                service_id=row["service_id"],
                client_id=row["client_id"],
                currency_id=row["currency_id"],
                period_start=row["period_start"],
                period_end=row["period_end"],
                amount=Decimal(row["amount"]),
                calls=row["calls"],
                whmcs_table=row["whmcs_table"],
                whmcs_id=row["whmcs_id"],
                description=row["description"],
                adjusts_posting_id=row["adjusts_posting_id"],
            ),
        )
        for row in rows
    ]


def lock_realtime_total(
    conn: Connection, service_id: int, period_start: date
) -> tuple[Decimal, Decimal]:
    """Return (cost so far, cents taken so far) of the service's period, locking the row."""
    row = conn.execute(
        select(realtime_totals.c.cost, realtime_totals.c.taken)
        .where(
            realtime_totals.c.service_id == service_id,
            realtime_totals.c.period_start == period_start,
        )
        .with_for_update()
    ).first()
    if row is None:
        return ZERO, ZERO
    return Decimal(row.cost), Decimal(row.taken)


def save_realtime_total(
    conn: Connection,
    service_id: int,
    period_start: date,
    *,
    cost: Decimal,
    taken: Decimal,
    now: datetime,
) -> None:
    """Store the period's new running cost and cents taken."""
    key = and_(
        realtime_totals.c.service_id == service_id,
        realtime_totals.c.period_start == period_start,
    )
    values = {"cost": cost, "taken": taken, "updated_at": _naive(now)}
    if conn.execute(realtime_totals.update().where(key).values(**values)).rowcount == 0:
        conn.execute(
            realtime_totals.insert().values(
                service_id=service_id, period_start=period_start, **values
            )
        )


def sum_amounts(items: Iterable[Posting]) -> Decimal:
    """Return the total of some postings."""
    return sum((item.amount for item in items), ZERO)


_RATED = (
    cdrs.c.id,
    cdrs.c.uuid,
    cdrs.c.direction,
    cdrs.c.caller_number,
    cdrs.c.caller_destination,
    cdrs.c.destination_number,
    cdrs.c.start_utc,
    cdrs.c.billsec,
)
_DIRECTIONS = {direction.value: direction for direction in Direction}


def _stored(row: Sequence[Any]) -> StoredCall:
    cdr_id, uuid, direction, caller, caller_destination, destination, start, billsec = row
    call = Cdr(
        uuid, _DIRECTIONS[direction], caller, caller_destination, destination,
        start.replace(tzinfo=UTC), billsec,
    )  # fmt: skip
    return StoredCall(cdr_id, call)


def _unbilled_join() -> Join:
    return cdrs.outerjoin(
        billed_calls,
        and_(billed_calls.c.service_id == cdrs.c.service_id, billed_calls.c.cdr_id == cdrs.c.id),
    )


def _billed_columns() -> list[ColumnElement[object]]:
    return [
        billed_calls.c.service_id.label("billed_service_id"),
        billed_calls.c.client_id,
        billed_calls.c.period_start,
        billed_calls.c.period_end,
        billed_calls.c.job,
        billed_calls.c.status,
        billed_calls.c.calltype,
        billed_calls.c.billed_seconds,
        billed_calls.c.free_seconds,
        billed_calls.c.cost,
        billed_calls.c.posting_id,
    ]


def _billed(row: RowMapping) -> BilledCall:
    values = row
    return BilledCall(
        cdr_id=values["id"],
        service_id=values["billed_service_id"],
        client_id=values["client_id"],
        period_start=values["period_start"],
        period_end=values["period_end"],
        job=values["job"],
        status=values["status"],
        calltype=values["calltype"],
        billed_seconds=values["billed_seconds"],
        free_seconds=values["free_seconds"],
        cost=Decimal(values["cost"]),
        posting_id=values["posting_id"],
    )


def _values(row: BilledCall) -> dict[str, object]:
    return {
        "service_id": row.service_id,
        "cdr_id": row.cdr_id,
        "client_id": row.client_id,
        "period_start": row.period_start,
        "period_end": row.period_end,
        "job": row.job,
        "status": row.status,
        "calltype": row.calltype,
        "billed_seconds": row.billed_seconds,
        "free_seconds": row.free_seconds,
        "cost": row.cost,
        "posting_id": row.posting_id,
    }


def _naive(instant: datetime) -> datetime:
    return instant.astimezone(UTC).replace(tzinfo=None)
