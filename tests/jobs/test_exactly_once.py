"""Exactly once: a job that dies after any database statement, then runs again, bills as one
clean run does — the same ledger, credit, billable items and postings, to the cent.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.engine import Connection

from bridge.db import BoundDatabase
from bridge.jobs import JOBS
from bridge.jobs.base import JobContext, run_job
from bridge.settings import Settings
from bridge.store.tariffs import import_tariff
from tests.jobs.billing_data import RATE_CARD, BillingData, billing_state

AT_DUE = datetime(2026, 12, 1, 0, 55, tzinfo=UTC)
_SAVEPOINTS = ("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT")


class Crash(Exception):
    """The process 'died' at this statement."""


class CrashAt:
    """An SQLAlchemy hook that raises before the job's k-th statement (savepoints not counted)."""

    def __init__(self, at: int | None) -> None:
        self.at = at
        self.seen = 0

    def __call__(self, *args: Any) -> None:
        statement: str = args[2]
        if statement.lstrip().upper().startswith(_SAVEPOINTS):
            return
        self.seen += 1
        if self.seen == self.at:
            raise Crash(f"crash before statement {self.seen}: {statement[:60]}")


def _runner(conn: Connection, settings: Settings, job: str, **options: Any) -> Callable[[], Any]:
    context = JobContext(BoundDatabase(conn), settings, AT_DUE + timedelta(days=1), **options)
    return lambda: run_job(JOBS[job], context)


def _with_hook(conn: Connection, hook: CrashAt, run: Callable[[], Any]) -> None:
    event.listen(conn, "before_cursor_execute", hook)
    try:
        run()
    except Crash:
        pass
    finally:
        event.remove(conn, "before_cursor_execute", hook)
        # A crash inside the lock's release leaves it held by this connection; a dead process's
        # locks go with its connection, so let them go here too.
        conn.execute(text("SELECT RELEASE_ALL_LOCKS()"))


def _crash_everywhere(conn: Connection, run: Callable[[], Any]) -> int:
    """Crash the job before each of its statements in turn; return how many there were."""
    reference_point = conn.begin_nested()
    counter = CrashAt(None)
    _with_hook(conn, counter, run)
    reference = billing_state(conn)
    reference_point.rollback()
    assert counter.seen > 10
    for k in range(1, counter.seen + 1):
        point = conn.begin_nested()
        _with_hook(conn, CrashAt(k), run)
        run()
        assert billing_state(conn) == reference, f"after a crash before statement {k}"
        point.rollback()
    return counter.seen


@pytest.mark.parametrize("job", ["autobill", "realtime"])
def test_a_crash_at_any_statement_then_a_rerun_bills_exactly_once(
    conn: Connection, data: BillingData, settings: Settings, job: str
) -> None:
    """For every statement k of a run: die before k, run again: the result of one clean run."""
    statements = _crash_everywhere(conn, _runner(conn, settings, job))

    assert statements > 20


def test_a_crash_at_any_statement_of_a_rerate_then_a_rerun_posts_once(
    conn: Connection, data: BillingData, settings: Settings
) -> None:
    """Re-rating dies anywhere and runs again: one adjustment, as one clean run posts."""
    _runner(conn, settings, "autobill")()
    card = RATE_CARD.replace("USA/Canada,1,0.0100,6", "USA/Canada,1,0.0170,6")
    import_tariff(conn, "Test Tariff", card.splitlines(keepends=True), source="fix", now=AT_DUE)
    rerate = _runner(
        conn,
        settings,
        "rerate",
        service_id=data.services["anna"],
        options={"period": "2026-11-01..2026-12-01"},
    )

    statements = _crash_everywhere(conn, rerate)

    assert statements > 5
