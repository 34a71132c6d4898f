"""Job locks: one run of a job at a time, across processes and bridge instances.

On MySQL/MariaDB a job holds the named lock ``GET_LOCK('voipbridge.<database>.<job>', 0)`` on a
connection of its own for as long as it runs: the server releases it when the run ends, and also
when the process dies (its connection drops), so a crashed run never blocks the next one. On
SQLite (the demo), which has no named locks, a row in ``mod_voipbridge_job_locks`` stands in,
with an expiry so a crashed run blocks the job for at most :data:`ROW_LOCK_TTL`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from sqlalchemy import delete, text
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import Connection

from bridge.db import Database
from bridge.store.tables import job_locks

ROW_LOCK_TTL = timedelta(hours=2)
_MAX_LOCK_NAME = 64


def lock_name(conn: Connection, job: str) -> str:
    """Return the server-wide lock name of ``job`` for this database (64 characters at most)."""
    name = f"voipbridge.{conn.engine.url.database or ''}.{job}"
    if len(name) <= _MAX_LOCK_NAME:
        return name
    return "voipbridge." + hashlib.sha256(name.encode()).hexdigest()[: _MAX_LOCK_NAME - 11]


@contextmanager
def job_lock(database: Database, job: str, *, holder: str, now: datetime) -> Iterator[bool]:
    """Hold the lock of ``job`` for the block; yield ``False`` (and hold nothing) if it is taken."""
    if database.backend == "mysql":
        with database.session() as conn:
            name = lock_name(conn, job)
            got = conn.execute(text("SELECT GET_LOCK(:name, 0)"), {"name": name}).scalar()
            try:
                yield got == 1
            finally:
                if got == 1:
                    conn.execute(text("SELECT RELEASE_LOCK(:name)"), {"name": name})
        return
    with database.transaction() as conn:
        got = _take_row(conn, job, holder, now)
    try:
        yield got
    finally:
        if got:
            with database.transaction() as conn:
                conn.execute(delete(job_locks).where(job_locks.c.job == job))


def _take_row(conn: Connection, job: str, holder: str, now: datetime) -> bool:
    naive = now.replace(tzinfo=None)
    conn.execute(delete(job_locks).where(job_locks.c.job == job, job_locks.c.expires_at < naive))
    inserted = conn.execute(
        sqlite.insert(job_locks)
        .values(job=job, holder=holder[:128], expires_at=naive + ROW_LOCK_TTL)
        .on_conflict_do_nothing(index_elements=["job"])
    )
    return bool(inserted.rowcount)
