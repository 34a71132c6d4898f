"""The nonce store that makes each signed shim request usable once (DESIGN.md §3)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from bridge.store.tables import nonces


def remember_nonce(conn: Connection, nonce: str, *, now: datetime, window: timedelta) -> bool:
    """Record ``nonce`` as used at ``now`` (UTC); return ``False`` if it was already used."""
    # Anything older than twice the skew window can no longer pass the timestamp check, so it is
    # safe to forget; keeping the table this small keeps the check one index probe.
    seen_at = now.replace(tzinfo=None)
    conn.execute(nonces.delete().where(nonces.c.seen_at < seen_at - 2 * window))
    try:
        with conn.begin_nested():
            conn.execute(nonces.insert().values(nonce=nonce, seen_at=seen_at))
    except IntegrityError:
        return False
    return True
