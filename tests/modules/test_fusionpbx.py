"""The FusionPBX adapter over real HTTP against both FusionPBX hosts: the fake and our PHP scripts.

Tests taking ``backend``/``adapter`` run twice: against the in-memory fake
(:mod:`tests.fakes.fusionpbx`) and against the bridge's FusionPBX-side scripts served by PHP's
built-in server on FusionPBX's tables in PostgreSQL (:mod:`tests.modules.fusionpbx_backends`), so
the scripts are proven to speak the adapter's contract. Tests taking ``fake``/``fake_adapter``
use the fake's failure switches (timeouts, 500s, garbage, careless scripts) and run on it alone.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import httpx
import pytest

from bridge.calls import CollectedCdr, Intake, RejectedCdr
from bridge.errors import (
    InvalidAssignment,
    NotConfigured,
    ProviderError,
    ProviderRejected,
    ProviderUnavailable,
    ProviderUnsupported,
)
from bridge.modules.assignment import FusionPbxAssignment, VodiaAssignment
from bridge.modules.base import PbxAdapter, PbxServer, TimeWindow
from bridge.modules.fusionpbx import FusionPbxAdapter, make_fusionpbx_adapter
from bridge.modules.http import PbxHttp
from bridge.rating.models import Direction
from tests.fakes import Served, Switchboard, free_port
from tests.fakes.fusionpbx import DENIED, GRANTED, FakeFusionPbx
from tests.fusionpbx_api.harness import PhpFusionPbx
from tests.modules.fusionpbx_backends import FakeBackend, FusionPbxBackend, PhpBackend

TENANT = "acme.pbx.example.com"
OTHER = "other.pbx.example.com"
EXTENSIONS = ("2112", "2113")
SERVICE = FusionPbxAssignment(TENANT, "5192229000", EXTENSIONS)
MARCH_8 = TimeWindow(datetime(2026, 3, 8, tzinfo=UTC), datetime(2026, 3, 9, tzinfo=UTC))
TORONTO = ZoneInfo("America/Toronto")


class _Credentials(Protocol):
    @property
    def username(self) -> str: ...

    @property
    def password(self) -> str: ...


def _server(port: int, fake: _Credentials, *, password: str | None = None) -> PbxServer:
    return PbxServer(
        id=7,
        name="FusionPBX Toronto",
        module="fusionpbx",
        hostname="127.0.0.1",
        port=port,
        secure=False,
        username=fake.username,
        password=fake.password if password is None else password,
        timezone=TORONTO,
    )


def _adapter(
    server: PbxServer,
    *,
    backend: FusionPbxBackend | None = None,
    **options: int,
) -> FusionPbxAdapter:
    # A short read timeout lets the fake's "slow" switch stand for a PBX that never answers.
    read = 0.5 if backend is None else backend.read_timeout
    transport = None if backend is None else backend.transport
    http = PbxHttp(server, timeout=httpx.Timeout(5.0, read=read), transport=transport)
    return FusionPbxAdapter(server, http=http, **options)


def _backend_adapter(
    backend: FusionPbxBackend, *, password: str | None = None, **options: int
) -> FusionPbxAdapter:
    return _adapter(_server(backend.port, backend, password=password), backend=backend, **options)


def _calls(records: Iterable[Intake]) -> list[CollectedCdr]:
    """Return fetched records, failing the test if any came rejected."""
    calls = list(records)
    assert all(isinstance(call, CollectedCdr) for call in calls), calls
    return [call for call in calls if isinstance(call, CollectedCdr)]


def _cdr(uuid: str, start: str, **values: Any) -> dict[str, Any]:
    return {
        "xml_cdr_uuid": uuid,
        "domain_name": TENANT,
        "direction": "outbound",
        "caller_id_number": "2112",
        "caller_destination": "",
        "destination_number": "4165550100",
        "start_stamp": start,
        "billsec": "30",
        "leg": "a",
        "hangup_cause": "NORMAL_CLEARING",
        "status": "answered",
        **values,
    }


@pytest.fixture(name="fake")
def _fake() -> FakeFusionPbx:
    fake = FakeFusionPbx()
    fake.add_tenant(TENANT, EXTENSIONS)
    fake.add_tenant(OTHER, ("3001",))
    return fake


@pytest.fixture(name="served")
def _served(fake: FakeFusionPbx, switchboard: Switchboard) -> Iterator[Served]:
    with switchboard.plug(fake.app) as served:
        yield served


@pytest.fixture(name="fake_adapter")
def _fake_adapter(served: Served, fake: FakeFusionPbx) -> Iterator[FusionPbxAdapter]:
    adapter = _adapter(_server(served.port, fake))
    yield adapter
    adapter.close()


@pytest.fixture(name="backend", params=["fake", "php"])
def _backend(request: pytest.FixtureRequest) -> Iterator[FusionPbxBackend]:
    backend: FusionPbxBackend
    if request.param == "fake":
        fake = FakeFusionPbx()
        switchboard: Switchboard = request.getfixturevalue("switchboard")
        with switchboard.plug(fake.app) as served:
            backend = FakeBackend(fake, served)
            backend.add_tenant(TENANT, EXTENSIONS)
            backend.add_tenant(OTHER, ("3001",))
            yield backend
    else:
        pbx: PhpFusionPbx = request.getfixturevalue("fusionpbx_api")
        backend = PhpBackend(pbx)
        backend.add_tenant(TENANT, EXTENSIONS)
        backend.add_tenant(OTHER, ("3001",))
        yield backend


@pytest.fixture(name="adapter")
def _adapter_fixture(backend: FusionPbxBackend) -> Iterator[FusionPbxAdapter]:
    adapter = _backend_adapter(backend)
    yield adapter
    adapter.close()


class TestConnection:
    def test_whitelisted_host_connects(self, adapter: FusionPbxAdapter) -> None:
        """A whitelisted WHMCS host sees success with chkcon.php's own message."""
        check = adapter.test_connection()

        assert check.ok
        assert check.message == f"Connection successful. {GRANTED}"

    def test_whitelist_refusal_is_shown_verbatim_with_a_hint(
        self, adapter: FusionPbxAdapter, backend: FusionPbxBackend
    ) -> None:
        """A host missing from the whitelist sees the PBX's refusal and what file to edit."""
        backend.deny_this_host()

        check = adapter.test_connection()

        assert not check.ok
        assert check.message.startswith(DENIED)
        assert "chkcon_whitelist.conf" in check.message

    def test_unreachable_pbx_is_reported_not_raised(self, fake: FakeFusionPbx) -> None:
        """A PBX refusing the TCP connection gives a failed check saying it cannot be reached."""
        adapter = _adapter(_server(free_port(), fake))

        check = adapter.test_connection()
        adapter.close()

        assert not check.ok
        assert check.message.startswith("Cannot reach the FusionPBX server")

    @pytest.mark.parametrize(
        ("failure", "expected"),
        [
            ("slow", "no answer in time"),
            ("error_500", "server error 500"),
            ("garbage", "did not answer JSON"),
            ("truncated", "cannot connect"),
        ],
    )
    def test_broken_answers_fail_the_check_with_a_reason(
        self, fake_adapter: FusionPbxAdapter, fake: FakeFusionPbx, failure: Any, expected: str
    ) -> None:
        """Timeouts, 500s, non-JSON and cut-off bodies each fail the check with their reason."""
        fake.failure = failure

        check = fake_adapter.test_connection()

        assert not check.ok
        assert expected in check.message


class TestHealth:
    def test_answering_pbx_is_healthy_with_a_latency(
        self, adapter: FusionPbxAdapter, backend: FusionPbxBackend
    ) -> None:
        """A PBX whose status script answers is healthy, with the time the call took."""
        health = adapter.health()

        assert health.ok
        assert health.latency_ms > 0
        assert health.message == backend.status_message

    def test_wrong_credentials_are_unhealthy(self, backend: FusionPbxBackend) -> None:
        """Credentials the status script refuses make the PBX unhealthy, with its message."""
        adapter = _backend_adapter(backend, password="not-the-password")

        health = adapter.health()
        adapter.close()

        assert not health.ok
        assert "Authentication failed" in health.message

    def test_failing_pbx_is_unhealthy_without_raising(
        self, fake_adapter: FusionPbxAdapter, fake: FakeFusionPbx
    ) -> None:
        """A status script that errors makes health report the failure instead of raising."""
        fake.failure = "error_500"

        health = fake_adapter.health()

        assert (health.ok, "500" in health.message) == (False, True)


class TestCheckRegistration:
    def test_registered_and_unregistered_extensions(
        self, adapter: FusionPbxAdapter, backend: FusionPbxBackend
    ) -> None:
        """An extension is registered only when the PBX has a device for it in that tenant."""
        backend.register(TENANT, "2112")

        assert adapter.check_registration("2112", TENANT)
        assert not adapter.check_registration("2113", TENANT)
        assert not adapter.check_registration("2112", OTHER)
        assert backend.requests[0].form["tenant_domain"] == TENANT

    def test_http_401_is_a_rejection(self, served: Served, fake: FakeFusionPbx) -> None:
        """A 401 answer to wrong credentials is a permanent rejection naming the status."""
        fake.auth_style = "401"
        adapter = _adapter(_server(served.port, fake, password="wrong-password"))

        with pytest.raises(ProviderRejected, match="401"):
            adapter.check_registration("2112", TENANT)
        adapter.close()


class TestSuspend:
    def test_suspend_disables_extensions_and_gateway(
        self, adapter: FusionPbxAdapter, backend: FusionPbxBackend
    ) -> None:
        """Suspending disables each extension and the tenant's gateway, and lists them."""
        result = adapter.suspend(SERVICE)

        assert set(backend.states(TENANT).values()) == {False}
        assert result.changed == (
            f"extension 2112@{TENANT}",
            f"extension 2113@{TENANT}",
            f"gateway {TENANT}",
        )
        assert backend.states(OTHER) == {"extension 3001": True, f"gateway {OTHER}": True}
        assert backend.requests[0].form["action"] == "disable"

    def test_suspending_twice_succeeds_and_changes_nothing(self, adapter: FusionPbxAdapter) -> None:
        """A repeated suspend (WHMCS retries) succeeds and reports nothing changed."""
        adapter.suspend(SERVICE)

        again = adapter.suspend(SERVICE)

        assert again.changed == ()
        assert "already disabled" in again.message

    def test_unsuspend_enables_them_again(
        self, adapter: FusionPbxAdapter, backend: FusionPbxBackend
    ) -> None:
        """Unsuspending re-enables what suspend disabled."""
        adapter.suspend(SERVICE)

        result = adapter.unsuspend(SERVICE)

        assert set(backend.states(TENANT).values()) == {True}
        assert len(result.changed) == 3

    def test_missing_extension_is_rejected_with_the_pbx_message(
        self, adapter: FusionPbxAdapter
    ) -> None:
        """An extension the PBX does not have fails with its message and what was already done."""
        service = FusionPbxAssignment(TENANT, "5192229000", ("2112", "2199"))

        with pytest.raises(ProviderRejected) as caught:
            adapter.suspend(service)

        assert f"Extension 2199 not found in domain {TENANT}" in caught.value.message
        assert f"(already disabled: extension 2112@{TENANT})" in caught.value.message

    def test_wrong_credentials_are_rejected(self, backend: FusionPbxBackend) -> None:
        """A script that refuses the credentials makes suspend fail with its message."""
        adapter = _backend_adapter(backend, password="not-the-password")

        with pytest.raises(ProviderRejected, match="Authentication failed"):
            adapter.suspend(SERVICE)
        adapter.close()

    @pytest.mark.parametrize(
        ("failure", "error"),
        [
            ("slow", ProviderUnavailable),
            ("error_500", ProviderUnavailable),
            ("truncated", ProviderUnavailable),
            ("garbage", ProviderRejected),
        ],
    )
    def test_broken_answers_raise_the_right_error(
        self,
        fake_adapter: FusionPbxAdapter,
        fake: FakeFusionPbx,
        failure: Any,
        error: type[ProviderError],
    ) -> None:
        """Timeouts, 500s and cut bodies are worth a retry; a non-JSON answer is not."""
        fake.failure = failure

        with pytest.raises(error) as caught:
            fake_adapter.suspend(SERVICE)

        assert type(caught.value) is error
        assert caught.value.message.startswith(f"extension 2112@{TENANT} was not disabled: ")

    def test_rate_limited_scripts_make_it_temporary(self, fusionpbx_api: PhpFusionPbx) -> None:
        """A suspend refused with 429 by the PHP scripts' rate limit is retried, not failed."""
        backend = PhpBackend(fusionpbx_api)
        backend.add_tenant(TENANT, EXTENSIONS)
        fusionpbx_api.write_settings(requests_per_minute="2")
        adapter = _backend_adapter(backend)

        with pytest.raises(ProviderUnavailable) as caught:
            adapter.suspend(SERVICE)
        adapter.close()

        assert caught.value.retryable
        assert "more than 2 requests per minute" in caught.value.message
        assert caught.value.message.startswith(f"gateway {TENANT} was not disabled: ")
        assert caught.value.message.endswith(
            f"(already disabled: extension 2112@{TENANT}, extension 2113@{TENANT})"
        )

    def test_another_module_assignment_is_refused(self, fake_adapter: FusionPbxAdapter) -> None:
        """A Vodia assignment on a FusionPBX server is an assignment error, not a PBX call."""
        vodia = VodiaAssignment(TENANT, ("5192229000",), "8300")

        with pytest.raises(InvalidAssignment, match="FusionPBX server"):
            fake_adapter.suspend(vodia)


class TestCreateAndTerminate:
    def test_create_enables_a_disabled_tenant(
        self, adapter: FusionPbxAdapter, backend: FusionPbxBackend
    ) -> None:
        """Create enables extensions and gateway that exist on the PBX but are disabled."""
        backend.add_tenant(TENANT, EXTENSIONS, enabled=False)

        result = adapter.create(SERVICE)

        assert set(backend.states(TENANT).values()) == {True}
        assert len(result.changed) == 3

    def test_terminate_disables_and_keeps_data(
        self, adapter: FusionPbxAdapter, backend: FusionPbxBackend
    ) -> None:
        """Terminate disables the service and says its data stays on the PBX."""
        result = adapter.terminate(SERVICE)

        assert set(backend.states(TENANT).values()) == {False}
        assert "kept on the PBX" in result.message
        assert backend.extension_exists(TENANT, "2112")


class TestExportCdrs:
    def test_rows_map_to_cdrs(self, adapter: FusionPbxAdapter, backend: FusionPbxBackend) -> None:
        """Outbound rates on destination_number, inbound on caller_destination, times in UTC."""
        backend.set_cdrs(
            [
                _cdr("u1", "2026-03-08 10:15:02-05", billsec="95.2"),
                _cdr(
                    "u2",
                    "2026-03-08T11:00:00-05:00",
                    direction="inbound",
                    caller_id_number="4165550199",
                    caller_destination="5192229000",
                    destination_number="2112",
                ),
                _cdr("u2-b", "2026-03-08 11:00:01-05", leg="b", direction=""),
            ]
        )

        out, inbound, b_leg = _calls(adapter.fetch_cdrs(SERVICE, MARCH_8))

        assert (backend.label(out.uuid), out.direction, out.billsec) == (
            "u1",
            Direction.OUTBOUND,
            96,
        )
        assert out.call.rated_number == "4165550100"
        assert out.start == datetime(2026, 3, 8, 15, 15, 2, tzinfo=UTC)
        assert (inbound.direction, inbound.call.rated_number) == (
            Direction.INBOUND,
            "5192229000",
        )
        assert (b_leg.leg, b_leg.direction) == ("b", Direction.LOCAL)
        assert backend.requests[0].form["domain"] == TENANT

    def test_naive_stamps_are_read_in_the_pbx_timezone(
        self, fake_adapter: FusionPbxAdapter, fake: FakeFusionPbx
    ) -> None:
        """A stamp without an offset is the PBX's local time, on both sides of a DST change."""
        fake.timezone = TORONTO
        fake.cdrs = [_cdr("u1", "2026-03-08 01:30:00"), _cdr("u2", "2026-03-08 03:30:00")]

        before, after = _calls(fake_adapter.fetch_cdrs(None, MARCH_8))

        assert before.start == datetime(2026, 3, 8, 6, 30, tzinfo=UTC)
        assert after.start == datetime(2026, 3, 8, 7, 30, tzinfo=UTC)

    def test_pages_bring_every_call_once_in_order(self, backend: FusionPbxBackend) -> None:
        """Ten calls in pages of three arrive once each, in start order, in four requests."""
        backend.set_cdrs([_cdr(f"u{n:02}", f"2026-03-08 12:00:{n // 2:02}+00") for n in range(10)])
        adapter = _backend_adapter(backend, export_page_size=3)

        uuids = [backend.label(cdr.uuid) for cdr in adapter.fetch_cdrs(SERVICE, MARCH_8)]
        adapter.close()

        assert uuids == [f"u{n:02}" for n in range(10)]
        assert len(backend.requests) == 4

    def test_a_call_repeated_across_pages_is_yielded_once(
        self, served: Served, fake: FakeFusionPbx
    ) -> None:
        """A script whose pages overlap by a row still gives each call once."""
        fake.cdrs = [_cdr(f"u{n:02}", f"2026-03-08 12:00:{n:02}+00") for n in range(7)]
        fake.overlap_pages = True
        adapter = _adapter(_server(served.port, fake), export_page_size=3)

        uuids = [cdr.uuid for cdr in adapter.fetch_cdrs(SERVICE, MARCH_8)]
        adapter.close()

        assert uuids == [f"u{n:02}" for n in range(7)]

    def test_a_script_ignoring_the_cursor_is_rejected(
        self, served: Served, fake: FakeFusionPbx
    ) -> None:
        """A script that serves the first page forever is refused instead of looping."""
        fake.cdrs = [_cdr(f"u{n:02}", f"2026-03-08 12:00:{n:02}+00") for n in range(5)]
        fake.ignore_cursor = True
        adapter = _adapter(_server(served.port, fake), export_page_size=2)

        with pytest.raises(ProviderRejected, match="after_recorded/after_uuid"):
            list(adapter.fetch_cdrs(SERVICE, MARCH_8))
        adapter.close()

    def test_window_edges_and_other_tenants_are_dropped(
        self, fake_adapter: FusionPbxAdapter, fake: FakeFusionPbx
    ) -> None:
        """Calls at the window's start count, calls at its end or of other tenants do not."""
        fake.sloppy_filters = True
        window = TimeWindow(
            datetime(2026, 3, 8, 10, tzinfo=UTC), datetime(2026, 3, 8, 11, tzinfo=UTC)
        )
        fake.cdrs = [
            _cdr("before", "2026-03-08 09:59:59+00"),
            _cdr("first", "2026-03-08 10:00:00+00"),
            _cdr("other-tenant", "2026-03-08 10:30:00+00", domain_name=OTHER),
            _cdr("last", "2026-03-08 10:59:59.999+00"),
            _cdr("at-end", "2026-03-08 11:00:00+00"),
        ]

        uuids = [cdr.uuid for cdr in fake_adapter.fetch_cdrs(SERVICE, window)]

        assert uuids == ["first", "last"]

    def test_long_calls_and_late_imports_are_read_by_when_they_were_recorded(
        self, adapter: FusionPbxAdapter, backend: FusionPbxBackend
    ) -> None:
        """A 7-hour call and a row imported 9 hours late are read in the window of their writing."""
        window = TimeWindow(
            datetime(2026, 3, 8, 10, tzinfo=UTC), datetime(2026, 3, 8, 11, tzinfo=UTC)
        )
        backend.set_cdrs(
            [
                _cdr("long", "2026-03-08 03:00:00+00", insert_date="2026-03-08 10:05:00+00"),
                _cdr("late", "2026-03-08 01:00:00+00", insert_date="2026-03-08 10:30:00+00"),
                _cdr(
                    "started-here",
                    "2026-03-08 10:50:00+00",
                    insert_date="2026-03-08 11:10:00+00",
                ),
                _cdr("no-insert-date", "2026-03-08 10:40:00+00"),
            ]
        )

        uuids = [backend.label(cdr.uuid) for cdr in adapter.fetch_cdrs(SERVICE, window)]

        assert uuids == ["long", "late", "no-insert-date"]
        assert backend.requests[-1].form["window"] == "recorded"
        assert adapter.collection_plan().recorded

    def test_the_export_serves_the_window_and_tenant_only(
        self, adapter: FusionPbxAdapter, backend: FusionPbxBackend
    ) -> None:
        """The PBX side filters: [start, end) to the microsecond, and the tenant's calls only."""
        window = TimeWindow(
            datetime(2026, 3, 8, 10, tzinfo=UTC), datetime(2026, 3, 8, 11, tzinfo=UTC)
        )
        backend.set_cdrs(
            [
                _cdr("before", "2026-03-08 09:59:59.999999+00"),
                _cdr("first", "2026-03-08 05:00:00-05"),
                _cdr("other-tenant", "2026-03-08 10:30:00+00", domain_name=OTHER),
                _cdr("last", "2026-03-08 10:59:59.999999+00"),
                _cdr("at-end", "2026-03-08 11:00:00+00"),
            ]
        )

        uuids = [backend.label(cdr.uuid) for cdr in adapter.fetch_cdrs(SERVICE, window)]

        assert uuids == ["first", "last"]

    def test_refusal_is_shown_with_the_pbx_message(self, backend: FusionPbxBackend) -> None:
        """An export refused with success 0 fails with the script's message."""
        adapter = _backend_adapter(backend, password="not-the-password")

        with pytest.raises(ProviderRejected, match="Authentication failed"):
            list(adapter.fetch_cdrs(SERVICE, MARCH_8))
        adapter.close()

    def test_unreadable_row_is_handed_on_rejected(
        self, adapter: FusionPbxAdapter, backend: FusionPbxBackend
    ) -> None:
        """A row with a negative billsec comes rejected, with the reason; the rest come too."""
        backend.set_cdrs(
            [
                _cdr("bad-row", "2026-03-08 10:00:00+00", billsec="-3"),
                _cdr("good-row", "2026-03-08 10:05:00+00"),
            ]
        )

        bad, good = adapter.fetch_cdrs(SERVICE, MARCH_8)

        assert isinstance(bad, RejectedCdr)
        assert (bad.uuid, bad.domain) == (backend.uuid("bad-row"), TENANT)
        assert "billsec '-3'" in bad.reason
        assert isinstance(good, CollectedCdr)
        assert backend.label(good.uuid) == "good-row"

    @pytest.mark.parametrize(
        ("failure", "error"),
        [("slow", ProviderUnavailable), ("truncated", ProviderUnavailable)],
    )
    def test_transport_failures_are_retryable(
        self,
        fake_adapter: FusionPbxAdapter,
        fake: FakeFusionPbx,
        failure: Any,
        error: type[ProviderError],
    ) -> None:
        """A slow or cut-off export fails the fetch as temporary, so the window is retried."""
        fake.cdrs = [_cdr("u1", "2026-03-08 10:00:00+00")]
        fake.failure = failure

        with pytest.raises(error) as caught:
            list(fake_adapter.fetch_cdrs(SERVICE, MARCH_8))

        assert caught.value.retryable


class TestCdrSource:
    def test_unknown_source_is_unsupported(self, fake: FakeFusionPbx) -> None:
        """A CDR source FusionPBX cannot offer is an action item naming the valid ones."""
        server = PbxServer(7, "pbx", "fusionpbx", "127.0.0.1", options={"cdr_source": "push"})

        with pytest.raises(ProviderUnsupported, match=r"'database'.*'export'"):
            make_fusionpbx_adapter(server).fetch_cdrs(SERVICE, MARCH_8)

    def test_database_source_without_dsn_is_not_configured(self) -> None:
        """Choosing the database source without storing a DSN says what is missing."""
        server = PbxServer(7, "pbx", "fusionpbx", "127.0.0.1", options={"cdr_source": "database"})

        with pytest.raises(NotConfigured, match="db_dsn"):
            make_fusionpbx_adapter(server).fetch_cdrs(SERVICE, MARCH_8)


class TestFactory:
    def test_the_factory_builds_an_adapter_for_the_server(self) -> None:
        """make_fusionpbx_adapter returns an adapter bound to the server (a PbxAdapter to mypy)."""
        server = PbxServer(id=1, name="FusionPBX", module="fusionpbx", hostname="pbx.example.com")

        adapter: PbxAdapter = make_fusionpbx_adapter(server)

        assert isinstance(adapter, FusionPbxAdapter)
        assert adapter.server is server
        adapter.close()


class TestSecrets:
    def test_password_never_reaches_logs_or_errors(
        self, served: Served, fake: FakeFusionPbx, caplog: pytest.LogCaptureFixture
    ) -> None:
        """Neither debug logs nor error messages show the password, even when the PBX echoes it."""
        caplog.set_level(logging.DEBUG)
        good = _adapter(_server(served.port, fake))
        good.test_connection()
        good.suspend(SERVICE)
        list(good.fetch_cdrs(SERVICE, MARCH_8))
        good.close()
        fake.auth_style = "echo"
        wrong = "Wrong-Password-99"
        bad = _adapter(_server(served.port, fake, password=wrong))

        with pytest.raises(ProviderRejected) as caught:
            bad.suspend(SERVICE)
        health = bad.health()
        bad.close()

        assert "Authentication failed for whmcs-api/********" in caught.value.message
        assert wrong not in caught.value.message + health.message
        assert caplog.records
        assert fake.password not in caplog.text
        assert wrong not in caplog.text
        assert fake.requests[-1].form["password"] == wrong
