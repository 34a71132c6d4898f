"""`bridge doctor`'s report: what it checks, and the calls it warns nothing will bill."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.engine import Connection

from bridge.calls import CollectedCdr, RejectedCdr
from bridge.db import BoundDatabase
from bridge.doctor import examine
from bridge.rating import Cdr, Direction
from bridge.store.cdrs import store_cdrs

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


def _call(uuid: str, domain: str) -> CollectedCdr:
    cdr = Cdr(uuid, Direction.OUTBOUND, "2112", "", "14165550100", NOW, 60)
    return CollectedCdr(cdr, domain=domain)


def test_calls_no_service_owns_are_a_warning_not_a_failure(conn: Connection) -> None:
    """Unassigned calls are listed per server and tenant; the database is still healthy."""
    store_cdrs(
        conn, 4, [_call("u1", "ghost.example.com"), _call("u2", "ghost.example.com")], now=NOW
    )

    report = examine(BoundDatabase(conn), "test")

    assert report.healthy
    assert (
        "warning      2 call(s) on server #4 of tenant ghost.example.com since 2026-11-21 match "
        "no service" in report.render()
    )


def test_quarantined_records_are_counted_per_server(conn: Connection) -> None:
    """Records set aside as unstorable are a warning with their count and the latest reason."""
    bad = RejectedCdr("x1", "billsec '-3' is not a number of seconds", "{}")
    store_cdrs(conn, 4, [bad, RejectedCdr("x2", "start_stamp '' is empty", "{}")], now=NOW)

    report = examine(BoundDatabase(conn), "test")

    assert report.healthy
    assert (
        "warning      2 call record(s) from server #4 could not be stored and are quarantined "
        "(latest 2026-11-21: start_stamp '' is empty)" in report.render()
    )


def test_the_character_sets_of_written_whmcs_text_are_reported(conn: Connection) -> None:
    """Doctor says the WHMCS text columns are utf8mb3 and what that means for emoji."""
    report = examine(BoundDatabase(conn), "test")

    assert (
        "WHMCS text   utf8mb3 (4-byte characters such as emoji are written as U+FFFD): "
        "10 column(s)" in report.render()
    )
