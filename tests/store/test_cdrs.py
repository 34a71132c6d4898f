"""The CDR store: each call once whatever is re-sent, UTC times, watermarks that only advance."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta, timezone

from sqlalchemy import select
from sqlalchemy.engine import Connection

from bridge.calls import CollectedCdr, Intake, RejectedCdr
from bridge.rating.models import Cdr, Direction
from bridge.store.cdrs import (
    count_cdrs,
    get_watermark,
    iter_service_cdrs,
    list_quarantined,
    set_watermark,
    store_cdrs,
    stored_uuid,
)
from bridge.store.tables import cdr_quarantine

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
TORONTO_WINTER = timezone(timedelta(hours=-5))


def _cdr(uuid: str, *, start: datetime = NOW - timedelta(hours=1), leg: str = "a") -> CollectedCdr:
    return CollectedCdr(
        Cdr(
            uuid=uuid,
            direction=Direction.OUTBOUND,
            caller_number="2112",
            caller_destination="",
            destination_number="14165550100",
            start=start,
            billsec=95,
        ),
        domain="mcon.wat7.ictvoip.ca",
        leg=leg,
        hangup_cause="NORMAL_CLEARING",
    )


class TestStoreCdrs:
    def test_repeats_are_stored_once(self, conn: Connection) -> None:
        """The same calls sent three times (a re-fetch, a repeated push) are stored once."""
        batch = [_cdr("u1"), _cdr("u2")]

        results = [store_cdrs(conn, 7, batch, now=NOW) for _ in range(3)]

        assert [(r.inserted, r.duplicates) for r in results] == [(2, 0), (0, 2), (0, 2)]
        assert count_cdrs(conn, 7) == 2

    def test_caller_names_are_kept_whole_and_long_ones_cut_to_the_column(
        self, conn: Connection
    ) -> None:
        """A caller name reads back as the PBX sent it (any script); an over-long one is cut."""
        named = dataclasses.replace(_cdr("u1"), caller_name="Zoë <b>\U0001f600</b>")
        flood = dataclasses.replace(_cdr("u2"), caller_name="x" * 300)

        store_cdrs(conn, 7, [named, flood], now=NOW, service_id=5)
        stored = {
            c.uuid: c.caller_name for c in iter_service_cdrs(conn, 5, NOW - timedelta(days=1), NOW)
        }

        assert stored == {"u1": "Zoë <b>\U0001f600</b>", "u2": "x" * 255}

    def test_over_long_ids_are_kept_apart_by_digest_never_cut(self, conn: Connection) -> None:
        """Two 65-character ids sharing 64 characters stay two calls; each is stored once."""
        first, second = "v" * 64 + "1", "v" * 64 + "2"

        batch = [_cdr(first), _cdr(second)]
        results = [store_cdrs(conn, 7, batch, now=NOW, service_id=5) for _ in range(2)]

        assert [(r.inserted, r.duplicates, r.quarantined) for r in results] == [
            (2, 0, 0),
            (0, 2, 0),
        ]
        stored = {c.uuid for c in iter_service_cdrs(conn, 5, NOW - timedelta(days=1), NOW)}
        assert stored == {stored_uuid(first), stored_uuid(second)}
        assert stored_uuid(first) != stored_uuid(second)
        assert len(stored_uuid(first)) == 64
        assert stored_uuid(first).startswith("sha256:")

    def test_an_unstorable_record_is_quarantined_and_the_batch_kept(self, conn: Connection) -> None:
        """Seconds over the column, a year-1 start, an odd leg and a rejected row are set aside."""
        huge = dataclasses.replace(
            _cdr("huge"), call=dataclasses.replace(_cdr("huge").call, billsec=2**31)
        )
        ancient = _cdr("ancient", start=datetime(1, 1, 2, tzinfo=UTC))
        rejected = RejectedCdr("", "billsec '1e999999' is not a number of seconds", "{...}")
        odd_leg = _cdr("odd", leg="xy")
        batch: list[Intake] = [_cdr("u1"), huge, ancient, rejected, odd_leg, _cdr("u2")]

        first = store_cdrs(conn, 7, batch, now=NOW)
        again = store_cdrs(conn, 7, batch, now=NOW)

        assert (first.inserted, first.duplicates, first.quarantined) == (2, 0, 4)
        assert (again.inserted, again.duplicates, again.quarantined) == (0, 2, 4)
        assert count_cdrs(conn, 7) == 2
        (aside,) = list_quarantined(conn)
        assert (aside.server_id, aside.records) == (7, 4)
        reasons = set(conn.execute(select(cdr_quarantine.c.reason)).scalars())
        assert reasons == {
            "billsec 2147483648 is out of range (0 to 2147483647)",
            "start 0001-01-02 is not a plausible call time",
            "billsec '1e999999' is not a number of seconds",
            "leg 'xy' is neither a nor b",
        }

    def test_text_no_column_can_hold_is_replaced_not_fatal(self, conn: Connection) -> None:
        """A lone surrogate in a caller name (JSON allows "\\ud800") costs only that character."""
        odd = dataclasses.replace(_cdr("u1"), caller_name="Bad \ud800 name")

        result = store_cdrs(conn, 7, [odd], now=NOW, service_id=5)

        (stored,) = iter_service_cdrs(conn, 5, NOW - timedelta(days=1), NOW)
        assert (result.inserted, stored.caller_name) == (1, "Bad ? name")

    def test_same_uuid_on_another_server_is_another_call(self, conn: Connection) -> None:
        """Uniqueness is per server: two PBXes may reuse a call id."""
        store_cdrs(conn, 7, [_cdr("u1")], now=NOW)

        result = store_cdrs(conn, 8, [_cdr("u1")], now=NOW)

        assert result.inserted == 1

    def test_times_are_kept_in_utc(self, conn: Connection) -> None:
        """A call started at 10:15 -05:00 reads back as 15:15 UTC."""
        start = datetime(2026, 1, 10, 10, 15, tzinfo=TORONTO_WINTER)
        store_cdrs(conn, 7, [_cdr("u1", start=start)], now=NOW, service_id=42)

        (stored,) = iter_service_cdrs(conn, 42, NOW - timedelta(days=365), NOW)

        assert stored.start == datetime(2026, 1, 10, 15, 15, tzinfo=UTC)
        assert (stored.domain, stored.billsec, stored.direction) == (
            "mcon.wat7.ictvoip.ca",
            95,
            Direction.OUTBOUND,
        )

    def test_service_window_is_half_open_and_skips_b_legs(self, conn: Connection) -> None:
        """A service's calls are read for [start, end), a-legs only, in start order."""
        hour = timedelta(hours=1)
        store_cdrs(
            conn,
            7,
            [
                _cdr("late", start=NOW),
                _cdr("first", start=NOW - 2 * hour),
                _cdr("b", start=NOW - hour, leg="b"),
                _cdr("second", start=NOW - hour),
            ],
            now=NOW,
            service_id=42,
        )

        uuids = [c.uuid for c in iter_service_cdrs(conn, 42, NOW - 2 * hour, NOW)]

        assert uuids == ["first", "second"]

    def test_empty_batch(self, conn: Connection) -> None:
        """Storing nothing is not an error."""
        assert store_cdrs(conn, 7, [], now=NOW).inserted == 0


class TestWatermarks:
    def test_unset_then_advanced(self, conn: Connection) -> None:
        """A scope never collected has no watermark; setting one records it in UTC."""
        assert get_watermark(conn, 7, "service:42") is None

        set_watermark(conn, 7, "service:42", NOW, now=NOW)

        assert get_watermark(conn, 7, "service:42") == NOW

    def test_never_moves_back(self, conn: Connection) -> None:
        """An older watermark (a re-run with --since) never rewinds what was collected."""
        set_watermark(conn, 7, "server", NOW, now=NOW)

        set_watermark(conn, 7, "server", NOW - timedelta(days=1), now=NOW)

        assert get_watermark(conn, 7, "server") == NOW
