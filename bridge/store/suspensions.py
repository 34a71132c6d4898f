"""Automatic suspensions of clients (``mod_voipbridge_suspensions``): open while suspended."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.engine import Connection

from bridge.db import inserted_id
from bridge.store.tables import suspensions


@dataclass(frozen=True, slots=True)
class Suspension:
    """One time a client was suspended by autosuspend, and why (``auto`` or ``manual``)."""

    id: int
    client_id: int
    reason: str
    started_at: datetime


def open_suspension(conn: Connection, client_id: int) -> Suspension | None:
    """Return the client's suspension still in force, locking it, if there is one."""
    row = conn.execute(
        select(suspensions)
        .where(suspensions.c.client_id == client_id, suspensions.c.ended_at.is_(None))
        .order_by(suspensions.c.id)
        .with_for_update()
    ).first()
    if row is None:
        return None
    return Suspension(row.id, row.client_id, row.reason, row.started_at.replace(tzinfo=UTC))


def start_suspension(conn: Connection, client_id: int, reason: str, *, now: datetime) -> Suspension:
    """Record that the client is suspended from ``now`` (the caller checked none is open)."""
    result = conn.execute(
        suspensions.insert().values(
            client_id=client_id, reason=reason, started_at=_naive(now), ended_at=None
        )
    )
    return Suspension(inserted_id(result), client_id, reason, now)


def end_suspension(conn: Connection, client_id: int, *, now: datetime) -> None:
    """Record that the client's suspension ended at ``now``."""
    conn.execute(
        suspensions.update()
        .where(suspensions.c.client_id == client_id, suspensions.c.ended_at.is_(None))
        .values(ended_at=_naive(now))
    )


def _naive(instant: datetime) -> datetime:
    return instant.astimezone(UTC).replace(tzinfo=None)
