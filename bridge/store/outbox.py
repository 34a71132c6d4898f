"""The mail outbox (``mod_voipbridge_outbox``): messages queued by the jobs, until delivered.

A row is written in the transaction of the job that decided to send it, so the mail exists if and
only if the decision committed. Delivery happens afterwards, one row at a time:

1. :func:`claim_entry` takes a due row for a lease (its next attempt moves past the lease, the
   attempt is counted) and commits, so a second bridge instance delivering at the same moment
   skips it;
2. the transport sends it;
3. :func:`mark_sent` (or :func:`mark_retry` / :func:`mark_failed`) records the outcome.

A crash between 2 and 3 leaves the row queued: it is sent again once the lease ends. That window
is the price of sending after commit (at least once, never lost); see docs/decisions.md.

Times are naive UTC in the table and aware UTC in and out of this module.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import Connection, RowMapping

from bridge.store.tables import outbox

QUEUED = "queued"
SENT = "sent"
FAILED = "failed"
STATUSES = (QUEUED, SENT, FAILED)
MAX_KEY_LENGTH = 191
MAX_TEMPLATE_NAME_LENGTH = 255
_MAX_ERROR_LENGTH = 500


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    """One queued (or delivered, or abandoned) message."""

    id: int
    dedupe_key: str
    template_name: str
    client_id: int
    merge_fields: Mapping[str, str]
    status: str
    attempts: int
    next_attempt_at: datetime
    last_error: str
    created_at: datetime
    sent_at: datetime | None


def has_key(conn: Connection, dedupe_key: str) -> bool:
    """Tell whether a message with ``dedupe_key`` was ever queued (whatever became of it)."""
    query = select(outbox.c.id).where(outbox.c.dedupe_key == dedupe_key)
    return conn.execute(query).first() is not None


@dataclass(frozen=True, slots=True)
class NewEntry:
    """A message to queue: its key, template, client and merge-field snapshot."""

    dedupe_key: str
    template_name: str
    client_id: int
    merge_fields: Mapping[str, str]


def add_entry(
    conn: Connection,
    *,
    dedupe_key: str,
    template_name: str,
    client_id: int,
    merge_fields: Mapping[str, str],
    now: datetime,
) -> bool:
    """Queue a message due at ``now``; return ``False`` (and change nothing) if the key exists."""
    entry = NewEntry(dedupe_key, template_name, client_id, merge_fields)
    return add_entries(conn, [entry], now=now) == 1


def add_entries(conn: Connection, entries: Sequence[NewEntry], *, now: datetime) -> int:
    """Queue messages due at ``now`` in one statement; return how many were new (keys unseen)."""
    for entry in entries:
        if not 0 < len(entry.dedupe_key) <= MAX_KEY_LENGTH or not entry.dedupe_key.isascii():
            # INSERT IGNORE would cut an over-long key to fit: two alerts could become one.
            raise ValueError(f"an outbox key is 1 to {MAX_KEY_LENGTH} ASCII characters")
        if not 0 < len(entry.template_name) <= MAX_TEMPLATE_NAME_LENGTH:
            raise ValueError(f"a template name is 1 to {MAX_TEMPLATE_NAME_LENGTH} characters")
    if not entries:
        return 0
    at = _naive(now)
    rows = [
        {
            "dedupe_key": entry.dedupe_key,
            "template_name": entry.template_name,
            "client_id": entry.client_id,
            # ASCII escapes: the snapshot fits any column charset, emoji and all.
            "merge_fields": json.dumps(dict(entry.merge_fields), ensure_ascii=True, sort_keys=True),
            "status": QUEUED,
            "attempts": 0,
            "next_attempt_at": at,
            "last_error": "",
            "created_at": at,
            "sent_at": None,
        }
        for entry in entries
    ]
    return int(conn.execute(_insert_unless_present(conn), rows).rowcount)


def known_keys(conn: Connection, dedupe_keys: list[str]) -> set[str]:
    """Return which of ``dedupe_keys`` were ever queued."""
    known: set[str] = set()
    for start in range(0, len(dedupe_keys), 1000):
        query = select(outbox.c.dedupe_key).where(
            outbox.c.dedupe_key.in_(dedupe_keys[start : start + 1000])
        )
        known.update(conn.execute(query).scalars())
    return known


def get_entry(conn: Connection, dedupe_key: str) -> OutboxEntry | None:
    """Return the message queued under ``dedupe_key``, if any."""
    row = conn.execute(select(outbox).where(outbox.c.dedupe_key == dedupe_key)).mappings().first()
    return None if row is None else _entry(row)


def list_entries(
    conn: Connection, *, status: str | None = None, client_id: int | None = None
) -> list[OutboxEntry]:
    """Return the outbox's messages, oldest first, optionally of one status or client."""
    query = select(outbox).order_by(outbox.c.id)
    if status is not None:
        query = query.where(outbox.c.status == status)
    if client_id is not None:
        query = query.where(outbox.c.client_id == client_id)
    return [_entry(row) for row in conn.execute(query).mappings()]


def list_due_ids(conn: Connection, *, now: datetime, limit: int) -> list[int]:
    """Return the ids of up to ``limit`` queued messages due at ``now``, longest waiting first."""
    query = (
        select(outbox.c.id)
        .where(outbox.c.status == QUEUED, outbox.c.next_attempt_at <= _naive(now))
        .order_by(outbox.c.next_attempt_at, outbox.c.id)
        .limit(limit)
    )
    return list(conn.execute(query).scalars())


def claim_entry(
    conn: Connection, entry_id: int, *, now: datetime, lease: timedelta
) -> OutboxEntry | None:
    """Take a due message for one attempt until ``now + lease``; ``None`` if it is not due."""
    at = _naive(now)
    claimed = conn.execute(
        outbox.update()
        .where(
            outbox.c.id == entry_id,
            outbox.c.status == QUEUED,
            outbox.c.next_attempt_at <= at,
        )
        .values(attempts=outbox.c.attempts + 1, next_attempt_at=at + lease)
    ).rowcount
    if claimed != 1:
        return None
    row = conn.execute(select(outbox).where(outbox.c.id == entry_id)).mappings().one()
    return _entry(row)


def mark_sent(conn: Connection, entry_id: int, *, now: datetime) -> None:
    """Record that the message was handed to the transport."""
    conn.execute(
        outbox.update()
        .where(outbox.c.id == entry_id)
        .values(status=SENT, sent_at=_naive(now), last_error="")
    )


def mark_retry(conn: Connection, entry_id: int, *, error: str, retry_at: datetime) -> None:
    """Keep the message queued, to be tried again at ``retry_at``."""
    conn.execute(
        outbox.update()
        .where(outbox.c.id == entry_id, outbox.c.status == QUEUED)
        .values(next_attempt_at=_naive(retry_at), last_error=_clip(error))
    )


def mark_failed(conn: Connection, entry_id: int, *, error: str) -> None:
    """Give the message up: it will not be tried again."""
    conn.execute(
        outbox.update()
        .where(outbox.c.id == entry_id, outbox.c.status == QUEUED)
        .values(status=FAILED, last_error=_clip(error))
    )


def _insert_unless_present(conn: Connection) -> Any:
    if conn.dialect.name == "mysql":
        # IGNORE also turns data errors into warnings; add_entry has checked the lengths and the
        # JSON column takes 16 MiB, so a duplicate key is the only thing left for it to ignore.
        return outbox.insert().prefix_with("IGNORE")
    return sqlite.insert(outbox).on_conflict_do_nothing(index_elements=["dedupe_key"])


def _entry(row: RowMapping) -> OutboxEntry:
    return OutboxEntry(
        id=row["id"],
        dedupe_key=row["dedupe_key"],
        template_name=row["template_name"],
        client_id=row["client_id"],
        merge_fields=json.loads(row["merge_fields"]),
        status=row["status"],
        attempts=row["attempts"],
        next_attempt_at=_aware(row["next_attempt_at"]),
        last_error=row["last_error"],
        created_at=_aware(row["created_at"]),
        sent_at=None if row["sent_at"] is None else _aware(row["sent_at"]),
    )


def _naive(instant: datetime) -> datetime:
    if instant.tzinfo is None:
        raise ValueError("outbox times are aware datetimes (UTC)")
    # Whole seconds: MySQL's DATETIME rounds fractions, which would make "due at now" flaky.
    return instant.astimezone(UTC).replace(tzinfo=None, microsecond=0)


def _aware(stored: datetime) -> datetime:
    return stored.replace(tzinfo=UTC)


def _clip(error: str) -> str:
    return error if len(error) <= _MAX_ERROR_LENGTH else error[: _MAX_ERROR_LENGTH - 1] + "…"
