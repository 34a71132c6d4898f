"""Calls in: windows from watermarks, each call once, failures that lose nothing, and filing."""

from __future__ import annotations

import base64
import dataclasses
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Connection
from starlette.datastructures import Secret

from bridge.calls import CollectedCdr, Intake
from bridge.db import BoundDatabase
from bridge.errors import NotConfigured, ProviderUnavailable
from bridge.modules.assignment import Assignment, VodiaAssignment
from bridge.modules.base import (
    ActionResult,
    CollectionPlan,
    ConnectionCheck,
    Health,
    PbxAdapter,
    PbxServer,
    TimeWindow,
)
from bridge.rating import Package
from bridge.rating.models import Cdr, Direction
from bridge.store.cdrs import get_watermark, list_quarantined, list_unassigned_cdrs, stored_uuid
from bridge.store.packages import save_package
from bridge.store.servers import save_server_settings
from bridge.store.tables import cdrs
from bridge.usecases.cdr_intake import collect_cdrs, import_cdr_file, store_pushed_cdrs
from bridge.usecases.usage import RatePlans, rate_service_usage
from bridge.whmcs.cycles import BillingPeriod
from bridge.whmcs.services import get_service
from bridge.whmcs.tables import hosting
from tests.factories.whmcs import make_client, make_product, make_server, make_service
from tests.modules.conftest import FusionPbxDatabase, _fusionpbx_database, _fusionpbx_db

__all__ = ["_fusionpbx_database", "_fusionpbx_db"]  # PostgreSQL fixtures used here too

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
KEY = Secret(base64.urlsafe_b64encode(b"k" * 32).decode())
OTHER_KEY = Secret(base64.urlsafe_b64encode(b"o" * 32).decode())
TENANT = "acme.pbx.example.com"


class ScriptedPbx:
    """A stand-in adapter: serves calls from a list, records windows, can fail part way."""

    def __init__(
        self, server: PbxServer, calls: list[CollectedCdr], *, fail_after: int | None = None
    ) -> None:
        self.server = server
        self.calls = calls
        self.fail_after = fail_after
        self.windows: list[tuple[Assignment | None, TimeWindow]] = []
        self.closed = False

    def fetch_cdrs(
        self, assignment: Assignment | None, window: TimeWindow
    ) -> Iterator[CollectedCdr]:
        """Yield the scripted calls in the window, failing after ``fail_after`` if set."""
        self.windows.append((assignment, window))
        tenant = assignment.tenant if isinstance(assignment, VodiaAssignment) else None
        for n, call in enumerate(c for c in self.calls if window.contains(c.start)):
            if self.fail_after is not None and n == self.fail_after:
                raise ProviderUnavailable("pbx went away mid-fetch; will retry.")
            if tenant is None or call.domain == tenant:
                yield call

    def collection_plan(self) -> CollectionPlan:
        """Read FusionPBX as a whole and the others per service, by start time."""
        per_service = self.server.module != "fusionpbx"
        return CollectionPlan(per_service=per_service, recorded=False, lookback=6 * HOUR)

    def __enter__(self) -> ScriptedPbx:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def test_connection(self) -> ConnectionCheck:
        """Unused here."""
        return ConnectionCheck(True, "ok")

    def create(self, assignment: Assignment) -> ActionResult:
        """Unused here."""
        return ActionResult("ok")

    suspend = unsuspend = terminate = create

    def health(self) -> Health:
        """Unused here."""
        return Health(True, 1.0)

    def close(self) -> None:
        """Record that the job released the adapter."""
        self.closed = True


def _call(uuid: str, domain: str, start: datetime) -> CollectedCdr:
    call = Cdr(
        uuid=uuid, direction=Direction.OUTBOUND, caller_number="2112", caller_destination="",
        destination_number="14165550100", start=start, billsec=60,
    )  # fmt: skip
    return CollectedCdr(call, domain=domain)


def _stored(conn: Connection) -> list[tuple[str, int | None]]:
    rows = conn.execute(select(cdrs.c.uuid, cdrs.c.service_id).order_by(cdrs.c.uuid))
    return [(row.uuid, row.service_id) for row in rows]


def _odd_and_good_vodia(conn: Connection) -> tuple[int, int]:
    """Make two Vodia servers with a service each; return the odd server and the good service."""
    odd = make_server(conn, module="vodia", hostname="odd.example.net")
    odd_product = make_product(conn, module="vodia")
    make_service(
        conn, make_client(conn), product_id=odd_product, server_id=odd,
        domain="odd.example.com | 5484815500", username="8301",
    )  # fmt: skip
    server = make_server(conn, module="vodia", hostname="vodia.example.net")
    product = make_product(conn, module="vodia")
    service = make_service(
        conn, make_client(conn), product_id=product, server_id=server,
        domain="rucken.example.com | 5484815577", username="8300",
    )  # fmt: skip
    return odd, service


class TestPerServiceCollection:
    def test_first_run_stores_and_sets_the_watermark(self, conn: Connection) -> None:
        """Each Vodia service's calls are stored under it, and its watermark moves to now."""
        server = make_server(conn, module="vodia", hostname="vodia.example.net")
        product = make_product(conn, module="vodia")
        service = make_service(
            conn, make_client(conn), product_id=product, server_id=server,
            domain="rucken.example.com | 5484815577", username="8300",
        )  # fmt: skip
        calls = [
            _call("v1", "rucken.example.com", NOW - 3 * HOUR),
            _call("v2", "rucken.example.com", NOW - 2 * HOUR),
            _call("other", "someone.else.com", NOW - HOUR),
        ]
        fakes: list[ScriptedPbx] = []

        def adapters(pbx: PbxServer) -> ScriptedPbx:
            fakes.append(ScriptedPbx(pbx, calls))
            return fakes[-1]

        report = collect_cdrs(BoundDatabase(conn), key=None, now=NOW, adapters=adapters)

        assert report.inserted == 2
        assert _stored(conn) == [("v1", service), ("v2", service)]
        assert get_watermark(conn, server, f"service:{service}") == NOW
        ((assignment, window),) = fakes[0].windows
        assert window == TimeWindow(NOW - timedelta(days=2), NOW)
        assert isinstance(assignment, VodiaAssignment)

    def test_rerun_fetches_from_the_watermark_and_stores_nothing_twice(
        self, conn: Connection
    ) -> None:
        """A second run starts at the watermark minus the lookback and adds only new calls."""
        server = make_server(conn, module="vodia", hostname="vodia.example.net")
        product = make_product(conn, module="vodia")
        make_service(
            conn, make_client(conn), product_id=product, server_id=server,
            domain="rucken.example.com | 5484815577", username="8300",
        )  # fmt: skip
        calls = [_call("v1", "rucken.example.com", NOW - 3 * HOUR)]
        fake: list[ScriptedPbx] = []

        def adapters(pbx: PbxServer) -> ScriptedPbx:
            fake.append(ScriptedPbx(pbx, calls))
            return fake[-1]

        collect_cdrs(BoundDatabase(conn), key=None, now=NOW, adapters=adapters)
        calls.append(_call("v2", "rucken.example.com", NOW + HOUR))
        later = NOW + 2 * HOUR
        second = collect_cdrs(BoundDatabase(conn), key=None, now=later, adapters=adapters)

        # The 6-hour lookback re-reads v1 (calls are written when they end); the store drops it.
        assert (second.inserted, second.scopes[0].duplicates) == (1, 1)
        assert fake[1].windows[0][1] == TimeWindow(NOW - timedelta(hours=6), later)
        assert [uuid for uuid, _ in _stored(conn)] == ["v1", "v2"]

    def test_one_bad_record_is_set_aside_and_the_watermark_still_moves(
        self, conn: Connection
    ) -> None:
        """A 65-character Vodia id is kept (as a digest) and an unstorable duration quarantined."""
        server = make_server(conn, module="vodia", hostname="vodia.example.net")
        product = make_product(conn, module="vodia")
        service = make_service(
            conn, make_client(conn), product_id=product, server_id=server,
            domain="rucken.example.com | 5484815577", username="8300",
        )  # fmt: skip
        long_id = _call("x" * 65, "rucken.example.com", NOW - 3 * HOUR)
        too_long = CollectedCdr(
            dataclasses.replace(long_id.call, uuid="huge", billsec=2**31), domain=long_id.domain
        )
        calls = [long_id, too_long, _call("v2", "rucken.example.com", NOW - 2 * HOUR)]

        def adapters(pbx: PbxServer) -> ScriptedPbx:
            return ScriptedPbx(pbx, calls)

        report = collect_cdrs(BoundDatabase(conn), key=None, now=NOW, adapters=adapters)
        again = collect_cdrs(BoundDatabase(conn), key=None, now=NOW + HOUR, adapters=adapters)

        assert (report.inserted, report.quarantined, report.errors) == (2, 1, ())
        assert (again.inserted, again.quarantined, again.errors) == (0, 1, ())
        assert get_watermark(conn, server, f"service:{service}") == NOW + HOUR
        assert _stored(conn) == [(stored_uuid("x" * 65), service), ("v2", service)]
        (aside,) = list_quarantined(conn)
        assert (aside.server_id, aside.records) == (server, 1)
        assert "billsec 2147483648 is out of range" in aside.reason

    def test_a_secret_under_another_key_fails_its_server_alone(self, conn: Connection) -> None:
        """A server whose secret cannot be decrypted is reported failing; the others collect."""
        broken = make_server(conn, module="vodia", hostname="old.example.net")
        save_server_settings(
            conn, broken, key=OTHER_KEY, now=NOW, secret_values={"api_password": "x"}
        )
        server = make_server(conn, module="vodia", hostname="vodia.example.net")
        product = make_product(conn, module="vodia")
        service = make_service(
            conn, make_client(conn), product_id=product, server_id=server,
            domain="rucken.example.com | 5484815577", username="8300",
        )  # fmt: skip
        calls = [_call("v1", "rucken.example.com", NOW - HOUR)]

        report = collect_cdrs(
            BoundDatabase(conn), key=KEY, now=NOW, adapters=lambda pbx: ScriptedPbx(pbx, calls)
        )

        ((failed, error),) = [(scope.server_id, scope.error) for scope in report.errors]
        assert failed == broken
        assert error is not None
        assert "cannot be decrypted" in error
        assert _stored(conn) == [("v1", service)]

    @pytest.mark.parametrize(
        ("error", "reported"),
        [
            (
                NotConfigured("server odd: CDR source 'file' cannot be collected"),
                "server odd: CDR source 'file' cannot be collected",
            ),
            (
                KeyError("secret-dsn-detail"),
                "unexpected KeyError; the bridge's log has the details",
            ),
        ],
    )
    def test_a_server_that_cannot_be_read_fails_alone(
        self, conn: Connection, error: Exception, reported: str
    ) -> None:
        """A server whose adapter cannot be set up (settings, a bug) fails alone; others collect."""
        odd, service = _odd_and_good_vodia(conn)
        calls = [_call("v1", "rucken.example.com", NOW - HOUR)]

        def adapters(pbx: PbxServer) -> PbxAdapter:
            if pbx.id == odd:
                raise error
            return ScriptedPbx(pbx, calls)

        report = collect_cdrs(BoundDatabase(conn), key=KEY, now=NOW, adapters=adapters)

        assert [(scope.server_id, scope.error) for scope in report.errors] == [(odd, reported)]
        assert _stored(conn) == [("v1", service)]

    def test_failure_part_way_keeps_the_watermark_and_loses_nothing(self, conn: Connection) -> None:
        """A PBX dying mid-fetch is reported; the next run fetches the window again, completely."""
        server = make_server(conn, module="vodia", hostname="vodia.example.net")
        product = make_product(conn, module="vodia")
        service = make_service(
            conn, make_client(conn), product_id=product, server_id=server,
            domain="rucken.example.com | 5484815577", username="8300",
        )  # fmt: skip
        calls = [_call(f"v{n}", "rucken.example.com", NOW - (5 - n) * HOUR) for n in range(5)]

        failing = collect_cdrs(
            BoundDatabase(conn), key=None, now=NOW, batch_size=2,
            adapters=lambda pbx: ScriptedPbx(pbx, calls, fail_after=3),
        )  # fmt: skip
        watermark_after_failure = get_watermark(conn, server, f"service:{service}")
        stored_after_failure = len(_stored(conn))
        retried = collect_cdrs(
            BoundDatabase(conn), key=None, now=NOW + HOUR, batch_size=2,
            adapters=lambda pbx: ScriptedPbx(pbx, calls),
        )  # fmt: skip

        assert failing.errors[0].error == "pbx went away mid-fetch; will retry."
        assert (stored_after_failure, watermark_after_failure) == (2, None)  # one batch committed
        assert (retried.inserted, retried.scopes[0].duplicates) == (3, 2)
        assert len(_stored(conn)) == 5
        assert get_watermark(conn, server, f"service:{service}") == NOW + HOUR

    def test_invalid_assignment_is_reported_and_others_continue(self, conn: Connection) -> None:
        """A service with a malformed Domain is reported by name; its neighbours are collected."""
        server = make_server(conn, module="vodia", hostname="vodia.example.net")
        product = make_product(conn, module="vodia")
        client = make_client(conn)
        bad = make_service(
            conn, client, product_id=product, server_id=server, domain="just-a-name", username="1"
        )
        make_service(
            conn, client, product_id=product, server_id=server,
            domain="rucken.example.com | 5484815577", username="8300",
        )  # fmt: skip
        calls = [_call("v1", "rucken.example.com", NOW - HOUR)]

        report = collect_cdrs(
            BoundDatabase(conn), key=None, now=NOW, adapters=lambda pbx: ScriptedPbx(pbx, calls)
        )

        assert report.inserted == 1
        (problem,) = report.errors
        assert problem.scope == f"service:{bad}"
        assert "Domain 'just-a-name'" in (problem.error or "")


class TestWholeServerCollection:
    def test_fusionpbx_calls_are_filed_by_tenant(self, conn: Connection) -> None:
        """A FusionPBX server is read once; each call goes to the service of its tenant."""
        server = make_server(conn, module="fusionpbx", hostname="pbx1.example.net")
        product = make_product(conn, module="fusionpbx")
        client = make_client(conn)
        alpha = make_service(
            conn, client, product_id=product, server_id=server,
            domain="alpha.example.com | 5195550100", username="2112",
        )  # fmt: skip
        beta = make_service(
            conn, client, product_id=product, server_id=server,
            domain="BETA.example.com | 5195550101", username="2113",
        )  # fmt: skip
        calls = [
            _call("f1", "alpha.example.com", NOW - 2 * HOUR),
            _call("f2", "beta.example.com", NOW - HOUR),
            _call("f3", "unknown.example.com", NOW - HOUR),
        ]
        fakes: list[ScriptedPbx] = []

        def adapters(pbx: PbxServer) -> ScriptedPbx:
            fakes.append(ScriptedPbx(pbx, calls))
            return fakes[-1]

        collect_cdrs(BoundDatabase(conn), key=None, now=NOW, adapters=adapters)

        assert _stored(conn) == [("f1", alpha), ("f2", beta), ("f3", None)]
        assert [assignment for assignment, _ in fakes[0].windows] == [None]
        assert get_watermark(conn, server, "server") == NOW

    def test_push_servers_are_not_polled(self, conn: Connection) -> None:
        """A server whose CDRs are pushed to the bridge is skipped by collection."""
        server = make_server(conn, module="vodia", hostname="vodia.example.net")
        product = make_product(conn, module="vodia")
        make_service(
            conn, make_client(conn), product_id=product, server_id=server,
            domain="rucken.example.com | 5484815577", username="8300",
        )  # fmt: skip
        save_server_settings(conn, server, key=None, now=NOW, cdr_source="push")

        def adapters(pbx: PbxServer) -> ScriptedPbx:
            pytest.fail("a push server must not be polled")

        assert collect_cdrs(BoundDatabase(conn), key=None, now=NOW, adapters=adapters).scopes == ()


def _fusionpbx_service(conn: Connection, server: int, tenant: str, **options: Any) -> int:
    product = make_product(conn, module="fusionpbx", settings={"VoIP Package": "Local"})
    return make_service(
        conn, make_client(conn), product_id=product, server_id=server,
        domain=f"{tenant} | 5195550100", username="2112", **options,
    )  # fmt: skip


class TestFilingByTenant:
    def test_a_call_collected_before_its_service_existed_is_rated_once_it_exists(
        self, conn: Connection
    ) -> None:
        """A tenant's call stored unassigned is filed when its service appears, and rated."""
        server = make_server(conn, module="fusionpbx", hostname="pbx1.example.net")
        _fusionpbx_service(conn, server, "alpha.example.com")
        calls = [_call("early", "gamma.example.com", NOW - 2 * HOUR)]
        database = BoundDatabase(conn)

        def adapters(pbx: PbxServer) -> ScriptedPbx:
            return ScriptedPbx(pbx, calls)

        first = collect_cdrs(database, key=None, now=NOW, adapters=adapters)
        waiting = list_unassigned_cdrs(conn, server)
        gamma = _fusionpbx_service(conn, server, "gamma.example.com", next_due=date(2026, 12, 1))
        second = collect_cdrs(database, key=None, now=NOW + HOUR, adapters=adapters)
        save_package(conn, Package(country_code="1", name="Local"), tariff=None, now=NOW)
        usage = rate_service_usage(
            conn,
            get_service(conn, gamma),
            BillingPeriod(date(2026, 11, 1), date(2026, 12, 1)),
            plans=RatePlans(),
            zone=ZoneInfo("UTC"),
        )

        assert (first.inserted, first.unassigned) == (1, 1)
        assert [(u.domain, u.calls) for u in waiting] == [("gamma.example.com", 1)]
        assert (second.inserted, second.reattributed) == (0, 1)
        assert _stored(conn) == [("early", gamma)]
        assert list_unassigned_cdrs(conn, server) == []
        assert [call.uuid for call in usage.result.calls] == ["early"]

    def test_two_services_on_one_tenant_leave_its_calls_unassigned_until_fixed(
        self, conn: Connection
    ) -> None:
        """Calls of a tenant two services claim go to neither, and to the one left once fixed."""
        server = make_server(conn, module="vodia", hostname="vodia.example.net")
        product = make_product(conn, module="vodia")
        client = make_client(conn)
        first, second = (
            make_service(
                conn,
                client,
                product_id=product,
                server_id=server,
                domain="rucken.example.com | 5484815577",
                username="8300",
            )
            for _ in range(2)
        )
        calls = [_call("v1", "rucken.example.com", NOW - HOUR)]

        def adapters(pbx: PbxServer) -> ScriptedPbx:
            return ScriptedPbx(pbx, calls)

        ambiguous = collect_cdrs(BoundDatabase(conn), key=None, now=NOW, adapters=adapters)
        conn.execute(
            hosting.update().where(hosting.c.id == second).values(domain="other.example.com | 1")
        )
        fixed = collect_cdrs(BoundDatabase(conn), key=None, now=NOW + HOUR, adapters=adapters)

        assert (ambiguous.inserted, ambiguous.unassigned) == (1, 1)
        assert ambiguous.scopes[0].unassigned == 1
        assert fixed.reattributed == 1
        assert _stored(conn) == [("v1", first)]

    def test_a_push_files_by_the_same_rule(self, conn: Connection) -> None:
        """A pushed call of a tenant no service has is stored unassigned and counted."""
        server = make_server(conn, module="vodia", hostname="vodia.example.net")
        product = make_product(conn, module="vodia")
        owner = make_service(
            conn, make_client(conn), product_id=product, server_id=server,
            domain="rucken.example.com | 5484815577", username="8300",
        )  # fmt: skip
        calls: list[Intake] = [
            _call("p1", "rucken.example.com", NOW - HOUR),
            _call("p2", "nobody.example.com", NOW - HOUR),
        ]

        report = store_pushed_cdrs(BoundDatabase(conn), server, "vodia", calls, now=NOW)

        assert (report.stored, report.unassigned) == (2, 1)
        assert _stored(conn) == [("p1", owner), ("p2", None)]


class TestLateRecordsOnFusionPbx:
    def test_long_and_late_calls_are_collected_by_when_they_were_recorded(
        self, conn: Connection, fusionpbx_db: FusionPbxDatabase
    ) -> None:
        """A 7-hour call and a call imported 9 hours late, both after a run, come in the next."""
        server = make_server(conn, module="fusionpbx", hostname="127.0.0.1")
        service = _fusionpbx_service(conn, server, TENANT)
        save_server_settings(
            conn, server, key=KEY, now=NOW, cdr_source="database",
            secret_values={"db_dsn": fusionpbx_db.dsn},
        )  # fmt: skip
        database = BoundDatabase(conn)
        fusionpbx_db.insert(_pg_row(1, start=NOW - 2 * HOUR, recorded=NOW - HOUR))
        first = collect_cdrs(database, key=KEY, now=NOW)
        fusionpbx_db.insert(
            # Started 7 hours before it ended, after the first run.
            _pg_row(2, start=NOW - 6 * HOUR, recorded=NOW + HOUR),
            # Ended 9 hours before FusionPBX's importer caught up with it.
            _pg_row(3, start=NOW - 9 * HOUR, recorded=NOW + HOUR),
        )
        second = collect_cdrs(database, key=KEY, now=NOW + 2 * HOUR)

        assert (first.inserted, second.inserted) == (1, 2)
        assert first.errors == second.errors == ()
        assert {uuid for uuid, owner in _stored(conn) if owner == service} == {
            str(UUID(int=n)) for n in (1, 2, 3)
        }


def _pg_row(number: int, *, start: datetime, recorded: datetime) -> dict[str, object]:
    return {
        "xml_cdr_uuid": UUID(int=number),
        "domain_name": TENANT,
        "direction": "outbound",
        "caller_id_number": "2112",
        "destination_number": "4165550100",
        "start_stamp": start,
        "insert_date": recorded,
        "billsec": 30,
        "leg": "a",
    }


class TestImport:
    def test_an_unreadable_secret_does_not_stop_an_import(self, conn: Connection) -> None:
        """Importing a CSV needs no PBX secret, so a secret under another key changes nothing."""
        server = make_server(conn, module="fusionpbx")
        save_server_settings(
            conn, server, key=OTHER_KEY, now=NOW, timezone="America/Toronto",
            secret_values={"api_password": "x"},
        )  # fmt: skip
        service = make_service(conn, make_client(conn), server_id=server, domain=TENANT)
        lines = [
            "xml_cdr_uuid,direction,destination_number,start_stamp,billsec\n",
            "imp-1,outbound,14165550100,2026-01-05 10:00:00,60\n",
        ]

        report = import_cdr_file(
            BoundDatabase(conn), service_id=service, lines=lines, source="cdrs.csv", zone=None,
            now=NOW,
        )  # fmt: skip

        assert (report.imported, report.quarantined, report.bad_lines) == (1, 0, ())
        (stored,) = conn.execute(select(cdrs.c.start_utc)).scalars()
        assert stored == datetime(2026, 1, 5, 15, 0)  # read in the server's zone, Toronto
