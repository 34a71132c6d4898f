"""FusionPBX CDRs from a real PostgreSQL ``v_xml_cdr``: legs, numbers, zones, batches, errors."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import psycopg
import pytest
from psycopg.conninfo import make_conninfo

from bridge.calls import CollectedCdr, Intake, RejectedCdr
from bridge.errors import ProviderRejected, ProviderUnavailable
from bridge.modules.assignment import FusionPbxAssignment
from bridge.modules.base import PbxServer, TimeWindow
from bridge.modules.fusionpbx import FusionPbxAdapter
from bridge.modules.fusionpbx_db import FusionPbxCdrDatabase
from bridge.rating.models import Direction
from tests.fakes import free_port
from tests.modules.conftest import FusionPbxDatabase

TENANT = "acme.pbx.example.com"
OTHER = "other.pbx.example.com"
SERVICE = FusionPbxAssignment(TENANT, "5192229000", ("2112", "2113"))
MARCH_8 = TimeWindow(datetime(2026, 3, 8, tzinfo=UTC), datetime(2026, 3, 9, tzinfo=UTC))
DB_PASSWORD = "Db-Secret-77"


def _uuid(number: int) -> UUID:
    return UUID(int=number)


def _row(number: int, start: str, **values: Any) -> dict[str, Any]:
    """Return a v_xml_cdr row as FusionPBX writes an answered outbound a-leg."""
    return {
        "xml_cdr_uuid": _uuid(number),
        "domain_uuid": _uuid(9000),
        "domain_name": TENANT,
        "direction": "outbound",
        "caller_id_name": "Reception",
        "caller_id_number": "2112",
        "caller_destination": None,
        "destination_number": "4165550100",
        "start_stamp": start,
        "duration": 35,
        "billsec": 30,
        "leg": "a",
        "hangup_cause": "NORMAL_CLEARING",
        "status": "answered",
        **values,
    }


def _adapter(dsn: str, *, batch_size: int = 5000) -> FusionPbxAdapter:
    server = PbxServer(
        id=3,
        name="FusionPBX Toronto",
        module="fusionpbx",
        hostname="127.0.0.1",
        # No HTTP is involved: the database is the CDR source whenever a DSN is stored.
        port=free_port(),
        secure=False,
        credentials={"db_dsn": make_conninfo(dsn, password=DB_PASSWORD)},
    )
    return FusionPbxAdapter(server, db_batch_size=batch_size, db_connect_timeout=3)


def _fetch(
    dsn: str, assignment: FusionPbxAssignment | None = SERVICE, **options: Any
) -> list[CollectedCdr]:
    adapter = _adapter(dsn, **options)
    try:
        calls = list(adapter.fetch_cdrs(assignment, MARCH_8))
    finally:
        adapter.close()
    assert all(isinstance(call, CollectedCdr) for call in calls), calls
    return [call for call in calls if isinstance(call, CollectedCdr)]


def _fetch_all(dsn: str, **options: Any) -> list[Intake]:
    adapter = _adapter(dsn, **options)
    try:
        return list(adapter.fetch_cdrs(SERVICE, MARCH_8))
    finally:
        adapter.close()


class TestMapping:
    def test_a_and_b_legs_are_both_read_with_their_leg(
        self, fusionpbx_db: FusionPbxDatabase
    ) -> None:
        """Both legs of a call arrive, marked a and b, so the store can bill only the a-leg."""
        fusionpbx_db.insert(
            _row(1, "2026-03-08 10:00:00+00"),
            _row(2, "2026-03-08 10:00:01+00", leg="b", originating_leg_uuid=_uuid(1)),
        )

        a_leg, b_leg = _fetch(fusionpbx_db.dsn)

        assert (a_leg.uuid, a_leg.leg) == (str(_uuid(1)), "a")
        assert (b_leg.uuid, b_leg.leg) == (str(_uuid(2)), "b")

    def test_outbound_and_inbound_rate_on_their_own_numbers(
        self, fusionpbx_db: FusionPbxDatabase
    ) -> None:
        """Outbound calls rate on destination_number and inbound calls on caller_destination."""
        fusionpbx_db.insert(
            _row(1, "2026-03-08 10:00:00+00", destination_number="4165550100"),
            _row(
                2,
                "2026-03-08 11:00:00+00",
                direction="inbound",
                caller_id_name="<b>Ada</b>",
                caller_id_number="4165550199",
                caller_destination="5192229000",
                destination_number="2112",
            ),
        )

        outbound, inbound = _fetch(fusionpbx_db.dsn)

        assert (outbound.direction, outbound.call.rated_number) == (
            Direction.OUTBOUND,
            "4165550100",
        )
        assert (inbound.direction, inbound.call.rated_number) == (
            Direction.INBOUND,
            "5192229000",
        )
        assert (inbound.call.caller_number, inbound.domain) == ("4165550199", TENANT)
        assert outbound.hangup_cause == "NORMAL_CLEARING"
        assert (outbound.caller_name, inbound.caller_name) == ("Reception", "<b>Ada</b>")

    def test_start_stamp_offsets_become_utc_across_dst(
        self, fusionpbx_db: FusionPbxDatabase
    ) -> None:
        """Stamps written with the PBX's offset, before and after a DST change, read as UTC."""
        fusionpbx_db.insert(
            _row(1, "2026-03-08 01:30:00-05"),
            _row(2, "2026-03-08 03:30:00-04"),
            _row(3, "2026-03-08 23:59:00+09:30"),
        )

        starts = [cdr.start for cdr in _fetch(fusionpbx_db.dsn)]

        assert starts == [
            datetime(2026, 3, 8, 6, 30, tzinfo=UTC),
            datetime(2026, 3, 8, 7, 30, tzinfo=UTC),
            datetime(2026, 3, 8, 14, 29, tzinfo=UTC),
        ]

    def test_billsec_rounds_up_and_status_is_ignored(self, fusionpbx_db: FusionPbxDatabase) -> None:
        """A fraction of a second bills as a whole one; status 'failed' does not zero the call."""
        fusionpbx_db.insert(
            _row(1, "2026-03-08 10:00:00+00", billsec="61.2"),
            _row(2, "2026-03-08 10:01:00+00", billsec=72, status="failed"),
            _row(3, "2026-03-08 10:02:00+00", billsec=None, status="missed"),
        )

        assert [cdr.billsec for cdr in _fetch(fusionpbx_db.dsn)] == [62, 72, 0]

    def test_a_row_that_cannot_be_a_call_comes_rejected_and_cheaply(
        self, fusionpbx_db: FusionPbxDatabase
    ) -> None:
        """billsec 1e99999 (numeric holds it) is one rejected row, not minutes of CPU or a stop."""
        fusionpbx_db.insert(
            _row(1, "2026-03-08 10:00:00+00", billsec="1e99999"),
            _row(2, "2026-03-08 10:01:00+00", billsec=-4),
            _row(3, "2026-03-08 10:02:00+00", billsec=5),
        )

        huge, negative, good = _fetch_all(fusionpbx_db.dsn)

        assert isinstance(huge, RejectedCdr)
        assert isinstance(negative, RejectedCdr)
        assert ("billsec" in huge.reason, "billsec" in negative.reason) == (True, True)
        assert huge.domain == negative.domain == TENANT
        assert isinstance(good, CollectedCdr)
        assert good.billsec == 5

    def test_empty_and_unknown_directions_are_local(
        self, fusionpbx_db: FusionPbxDatabase, caplog: pytest.LogCaptureFixture
    ) -> None:
        """An empty direction is local, as FusionPBX decides; an unknown one is local and logged."""
        fusionpbx_db.insert(
            _row(1, "2026-03-08 10:00:00+00", direction=None),
            _row(2, "2026-03-08 10:01:00+00", direction="Outbound"),
            _row(3, "2026-03-08 10:02:00+00", direction="sideways"),
        )

        directions = [cdr.direction for cdr in _fetch(fusionpbx_db.dsn)]

        assert directions == [Direction.LOCAL, Direction.OUTBOUND, Direction.LOCAL]
        assert "direction='sideways'" in caplog.text


class TestSelection:
    def test_only_the_tenant_or_every_tenant(self, fusionpbx_db: FusionPbxDatabase) -> None:
        """A service gets its tenant's calls; the whole server (no assignment) gets all."""
        fusionpbx_db.insert(
            _row(1, "2026-03-08 10:00:00+00"),
            _row(2, "2026-03-08 10:01:00+00", domain_name=OTHER),
        )

        assert [cdr.domain for cdr in _fetch(fusionpbx_db.dsn)] == [TENANT]
        assert [cdr.domain for cdr in _fetch(fusionpbx_db.dsn, None)] == [TENANT, OTHER]

    def test_window_start_is_inclusive_and_end_exclusive(
        self, fusionpbx_db: FusionPbxDatabase
    ) -> None:
        """A call at the window's first instant counts; one at its end belongs to the next."""
        fusionpbx_db.insert(
            _row(1, "2026-03-07 23:59:59.999999+00"),
            _row(2, "2026-03-08 00:00:00+00"),
            _row(3, "2026-03-08 23:59:59.999999+00"),
            _row(4, "2026-03-09 00:00:00+00"),
        )

        uuids = [cdr.uuid for cdr in _fetch(fusionpbx_db.dsn)]

        assert uuids == [str(_uuid(2)), str(_uuid(3))]

    def test_a_seven_hour_call_is_read_when_it_is_recorded(
        self, fusionpbx_db: FusionPbxDatabase
    ) -> None:
        """A call that started 7 h before the window is read: FusionPBX recorded it in it."""
        fusionpbx_db.insert(
            _row(1, "2026-03-07 17:00:00+00", insert_date="2026-03-08 00:05:00+00", billsec=25200)
        )

        (call,) = _fetch(fusionpbx_db.dsn)

        assert (call.uuid, call.start, call.billsec) == (
            str(_uuid(1)),
            datetime(2026, 3, 7, 17, 0, tzinfo=UTC),
            25200,
        )

    def test_a_record_imported_late_is_read_in_the_window_it_was_imported(
        self, fusionpbx_db: FusionPbxDatabase
    ) -> None:
        """A call imported 9 h after it ended belongs to the window of its import, not its start."""
        fusionpbx_db.insert(
            _row(1, "2026-03-08 20:00:00+00", insert_date="2026-03-09 05:02:00+00"),
            _row(2, "2026-03-07 20:00:00+00", insert_date="2026-03-08 05:02:00+00"),
        )

        uuids = [cdr.uuid for cdr in _fetch(fusionpbx_db.dsn)]

        assert uuids == [str(_uuid(2))]

    def test_batches_bring_every_call_once_in_order(self, fusionpbx_db: FusionPbxDatabase) -> None:
        """Ten calls read three at a time, several sharing a start second, arrive once, in order."""
        # Pairs share a start_stamp, so batch edges fall between calls told apart by uuid only.
        fusionpbx_db.insert(
            *(_row(number, f"2026-03-08 12:00:{number // 2:02}+00") for number in range(10, 0, -1))
        )

        uuids = [cdr.uuid for cdr in _fetch(fusionpbx_db.dsn, batch_size=3)]

        assert uuids == [str(_uuid(number)) for number in range(1, 11)]

    def test_the_session_is_read_only(self, fusionpbx_db: FusionPbxDatabase) -> None:
        """The bridge's connection to the PBX database cannot change a row."""
        fusionpbx_db.insert(_row(1, "2026-03-08 10:00:00+00"))
        reader = FusionPbxCdrDatabase(fusionpbx_db.dsn, server_name="pbx")

        with reader.connect() as conn, pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            conn.execute("DELETE FROM v_xml_cdr")

        assert len(_fetch(fusionpbx_db.dsn)) == 1


class TestDatabaseErrors:
    def test_refused_connection_is_temporary_and_hides_the_password(
        self, fusionpbx_db: FusionPbxDatabase, caplog: pytest.LogCaptureFixture
    ) -> None:
        """A closed port is retryable, and neither the error nor the log shows the password."""
        caplog.set_level(logging.DEBUG)
        closed = make_conninfo(fusionpbx_db.dsn, port=free_port())

        with pytest.raises(ProviderUnavailable, match="cannot connect") as caught:
            _fetch(closed)

        assert caught.value.retryable
        assert "Connection refused" in caught.value.message
        assert DB_PASSWORD not in caught.value.message
        assert DB_PASSWORD not in caplog.text

    def test_refused_login_is_permanent(self, fusionpbx_db: FusionPbxDatabase) -> None:
        """A login the server refuses (here: a user that does not exist) needs the admin."""
        stranger = make_conninfo(fusionpbx_db.dsn, user="voipbridge_nobody")

        with pytest.raises(ProviderRejected, match="refused the login") as caught:
            _fetch(stranger)

        assert 'role "voipbridge_nobody" does not exist' in caught.value.message
        assert DB_PASSWORD not in caught.value.message

    def test_missing_table_says_which_database_to_use(
        self, fusionpbx_db: FusionPbxDatabase
    ) -> None:
        """A database without v_xml_cdr is rejected with a hint about the database name."""
        with pytest.raises(ProviderRejected, match="has no v_xml_cdr table") as caught:
            _fetch(fusionpbx_db.empty_dsn)

        assert "bridge_test_fusionpbx_empty" in caught.value.message

    def test_missing_grant_says_what_to_grant(self, fusionpbx_db: FusionPbxDatabase) -> None:
        """A login without SELECT on v_xml_cdr is told the GRANT that fixes it."""
        with pytest.raises(ProviderRejected, match="GRANT SELECT ON v_xml_cdr"):
            _fetch(fusionpbx_db.no_grant_dsn)

    def test_malformed_dsn_is_rejected_without_echoing_it(self) -> None:
        """A DSN libpq cannot parse is refused without repeating it, password included."""
        server = PbxServer(
            3,
            "pbx",
            "fusionpbx",
            "127.0.0.1",
            credentials={"db_dsn": f"postgresql//voipbridge_ro:{DB_PASSWORD}@pbx"},
        )

        adapter = FusionPbxAdapter(server)

        with pytest.raises(ProviderRejected, match="not a libpq connection string") as caught:
            adapter.fetch_cdrs(SERVICE, MARCH_8)
        adapter.close()

        assert DB_PASSWORD not in caught.value.message
