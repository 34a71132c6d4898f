"""The nonce store that makes each signed shim request usable once (DESIGN.md §3).

Many signed calls arrive at once (WHMCS's admin pages and its cron), so on InnoDB the store keeps
each transaction to one small statement that cannot be part of a deadlock:

* :func:`remember_nonce` inserts with ``INSERT IGNORE`` (MySQL) or ``ON CONFLICT DO NOTHING``
  (SQLite) and reads the affected-row count, so a replay never raises and no savepoint is needed
  (a deadlock rolls back the whole transaction, savepoints and all, which used to turn a busy
  answer into a 500 "SAVEPOINT does not exist");
* :func:`forget_expired_nonces` runs in a transaction of its own, after the nonce's: it deletes a
  bounded batch of expired nonces by primary key. A purge locks only old rows (in key order) and
  the gaps next to them; an insert waits on those gaps while holding nothing, so no cycle can form.
  The purge used to run before the insert in the same transaction, and two calls each holding gap
  locks the other's insert needed deadlocked.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import select
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import Connection

from bridge.store.tables import Identifier, nonces

# Rows purged per call at most: a call never does unbounded work, and since calls purge more
# than they add, a backlog (after downtime) is gone after a few calls.
PURGE_BATCH = 100
_NONCE_LENGTH = cast(Identifier, nonces.c.nonce.type).length


def remember_nonce(conn: Connection, nonce: str, *, now: datetime) -> bool:
    """Record ``nonce`` as used at ``now`` (UTC); return ``False`` if it was already used."""
    if not 0 < len(nonce) <= _NONCE_LENGTH:
        # INSERT IGNORE would cut an over-long value to fit: two nonces could become one.
        raise ValueError(f"a nonce is 1 to {_NONCE_LENGTH} characters")
    values = {"nonce": nonce, "seen_at": now.replace(tzinfo=None)}
    return bool(conn.execute(_insert_unless_present(conn), values).rowcount == 1)


def forget_expired_nonces(
    conn: Connection, *, now: datetime, window: timedelta, limit: int = PURGE_BATCH
) -> int:
    """Delete up to ``limit`` nonces too old to pass the ``window`` check; return how many."""
    # Anything older than twice the skew window can no longer pass the timestamp check, so it is
    # safe to forget; keeping the table this small keeps the check one index probe.
    before = now.replace(tzinfo=None) - 2 * window
    # A plain SELECT is a consistent read and locks nothing; the DELETE then locks only the rows
    # it removes, by primary key, in key order (InnoDB walks an IN list sorted).
    expired = (
        conn.execute(
            select(nonces.c.nonce)
            .where(nonces.c.seen_at < before)
            .order_by(nonces.c.seen_at)
            .limit(limit)
        )
        .scalars()
        .all()
    )
    if not expired:
        return 0
    return int(conn.execute(nonces.delete().where(nonces.c.nonce.in_(expired))).rowcount)


def _insert_unless_present(conn: Connection) -> Any:
    if conn.dialect.name == "mysql":
        # IGNORE also turns data errors into warnings; remember_nonce has checked the length, so
        # a duplicate key is the only thing left for it to ignore.
        return nonces.insert().prefix_with("IGNORE")
    return sqlite.insert(nonces).on_conflict_do_nothing(index_elements=["nonce"])
