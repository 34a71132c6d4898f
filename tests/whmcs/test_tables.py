"""Column types that absorb WHMCS quirks: zero dates and naive local datetimes."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select, text
from sqlalchemy.engine import Connection

from bridge.whmcs.tables import ZERO_DATE, ZERO_DATETIME, WhmcsDateTime, activity_log, hosting
from tests.factories.whmcs import make_client, make_service


class TestZeroDates:
    def test_zero_date_and_datetime_read_as_none(self, conn: Connection) -> None:
        """0000-00-00 and 0000-00-00 00:00:00 written by WHMCS read back as None."""
        service = make_service(conn, make_client(conn))
        conn.execute(
            text("UPDATE tblhosting SET nextduedate = :zero WHERE id = :id"),
            {"zero": ZERO_DATE, "id": service},
        )
        conn.execute(
            text(
                "INSERT INTO tblactivitylog (date, description, user, ipaddr) "
                "VALUES (:zero, 'x', 'y', '')"
            ),
            {"zero": ZERO_DATETIME},
        )

        due = conn.execute(select(hosting.c.nextduedate).where(hosting.c.id == service))
        logged = conn.execute(select(activity_log.c.date).where(activity_log.c.description == "x"))

        assert due.scalar_one() is None
        assert logged.scalar_one() is None

    def test_none_writes_the_zero_date(self, conn: Connection) -> None:
        """Clearing a NOT NULL date writes WHMCS's zero date, not NULL."""
        service = make_service(conn, make_client(conn), next_due=date(2026, 12, 1))

        conn.execute(hosting.update().where(hosting.c.id == service).values(nextduedate=None))

        raw = conn.execute(
            text("SELECT CAST(nextduedate AS CHAR) FROM tblhosting WHERE id = :id"),
            {"id": service},
        ).scalar_one()
        assert raw == ZERO_DATE

    def test_aware_datetimes_are_refused(self) -> None:
        """Writing an aware datetime is a bug: WHMCS columns hold local wall-clock time."""
        with pytest.raises(ValueError, match="naive"):
            WhmcsDateTime().process_bind_param(datetime(2026, 1, 1, tzinfo=UTC), dialect=None)  # type: ignore[arg-type]
