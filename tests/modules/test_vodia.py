"""The Vodia adapter against a fake Vodia PBX over real HTTP, and Vodia's three CDR shapes."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from bridge.calls import CollectedCdr, RejectedCdr
from bridge.errors import InvalidAssignment, InvalidRequest, ProviderRejected, ProviderUnavailable
from bridge.modules.assignment import FusionPbxAssignment, parse_vodia
from bridge.modules.base import PbxAdapter, PbxServer, TimeWindow
from bridge.modules.http import PbxHttp
from bridge.modules.vodia import VodiaAdapter, make_vodia_adapter
from bridge.modules.vodia_cdr import parse_vodia_cdr
from bridge.rating.models import Direction
from bridge.redact import MASK
from tests.fakes import Served, Switchboard, free_port
from tests.fakes.vodia import FakeVodia

TENANT = "acme.example.net"
OTHER = "beta.example.net"
PASSWORD = "Vodia-s3cret-pass"
DIGEST = hashlib.md5(PASSWORD.encode()).hexdigest()  # noqa: S324
ACME = parse_vodia(f"{TENANT} | 5195550100", "100", {})
# Toronto is at UTC-5 in November: local 2026-11-20 runs from 05:00Z to 05:00Z next day.
NOON = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
AFTERNOON = TimeWindow(NOON, NOON + timedelta(hours=6))

AdapterMaker = Callable[..., VodiaAdapter]


@pytest.fixture(name="fake")
def _fake() -> FakeVodia:
    fake = FakeVodia(password=PASSWORD, zone="America/Toronto")
    fake.add_tenant(TENANT, {"100": False, "101": False, "102": True})
    fake.add_tenant(OTHER, {"200": False})
    return fake


@pytest.fixture(name="served")
def _served(fake: FakeVodia, switchboard: Switchboard) -> Iterator[Served]:
    with switchboard.plug(fake.app) as served:
        yield served


@pytest.fixture(name="make_adapter")
def _make_adapter_factory() -> Iterator[AdapterMaker]:
    made: list[VodiaAdapter] = []

    def make(port: int, *, password: str = PASSWORD) -> VodiaAdapter:
        server = PbxServer(
            id=1,
            name="Vodia Lab",
            module="vodia",
            hostname="127.0.0.1",
            port=port,
            secure=False,
            username="admin",
            password=password,
            timezone=ZoneInfo("America/Toronto"),
        )
        adapter = VodiaAdapter(
            server, http=PbxHttp(server, timeout=httpx.Timeout(0.5)), page_size=3
        )
        made.append(adapter)
        return adapter

    yield make
    for adapter in made:
        adapter.http.close()


@pytest.fixture(name="adapter")
def _adapter(served: Served, make_adapter: AdapterMaker) -> VodiaAdapter:
    return make_adapter(served.port)


def _outbound(fake: FakeVodia, call_id: str, start: datetime, *, tenant: str = TENANT) -> None:
    fake.add_call(
        tenant, call_id, caller="100", callee="14165550199", start=start, extensions=[100]
    )


def _leg(**fields: Any) -> dict[str, Any]:
    leg: dict[str, Any] = {
        "action": "call-data-record",
        "System": "739654e15108d9e7477d10a2e474ff",
        "PrimaryCallID": "PRA93Tta2CzVcV73Yvs8tQ..",
        "CallID": "mte7y70@pbx",
        "From": '"Tom Jones" <sip:504@acme.example.net>',
        "To": "<sip:132221@acme.example.net>",
        "Direction": "O",
        "Type": "extcall",
        "Extension": "",
        "TrunkName": "SIP Trunk Vodia",
        "TrunkID": "10",
        "RemoteParty": "+61132221",
        "LocalParty": '"Tom Jones" <sip:504@acme.example.net>',
        "Domain": TENANT,
        "TimeStart": "2026-11-20 12:18:02",
        "TimeConnected": "2026-11-20 12:18:05",
        "TimeEnd": "2026-11-20 12:18:07",
        "Duration": "2",
    }
    leg.update(fields)
    return leg


def _webcdr(**fields: Any) -> dict[str, Any]:
    webcdr: dict[str, Any] = {
        "version": "69.5.2",
        "system": "739654e15108d9e7477d10a2e474ff",
        "domain": TENANT,
        "callid": "1490779371@10.254.43.9",
        "from": '"099652200" <sip:099652200@acme.example.net>',
        "to": '"6499655250" <sip:6499655250@acme.example.net>',
        "start": 1595572559.444,
        "connect": 1595572559.445,
        "end": 1595572656.860,
        "trunks": [106],
        "extensions": [],
    }
    webcdr.update(fields)
    return {key: value for key, value in webcdr.items() if value is not None}


class TestParseVodiaCdr:
    def test_outbound_trunk_leg_is_the_billable_call(self) -> None:
        """A JSON CDR trunk leg going out is the outbound a-leg, dialled number from RemoteParty."""
        cdr = parse_vodia_cdr(_leg())

        assert (cdr.uuid, cdr.direction, cdr.leg) == ("mte7y70@pbx", Direction.OUTBOUND, "a")
        assert (cdr.call.caller_number, cdr.call.destination_number) == ("504", "+61132221")
        assert cdr.start == datetime(2026, 11, 20, 12, 18, 2, tzinfo=UTC)
        assert (cdr.billsec, cdr.domain) == (2, TENANT)

    def test_extension_leg_of_an_external_call_is_a_b_leg(self) -> None:
        """The extension's leg of an outbound call is kept as a b-leg, so it is never billed."""
        extension_leg = _leg(
            CallID="PRA93Tta2CzVcV73Yvs8tQ..",
            Direction="I",
            TrunkName="",
            TrunkID="",
            Extension="504",
            RemoteParty="504",
            LocalParty="132221",
        )

        cdr = parse_vodia_cdr(extension_leg)

        assert (cdr.direction, cdr.leg, cdr.call.caller_number) == (Direction.OUTBOUND, "b", "504")

    def test_inbound_trunk_leg_rates_on_the_did_dialled(self) -> None:
        """An incoming trunk leg is inbound: caller RemoteParty, caller destination the DID."""
        inbound = _leg(
            Direction="I",
            RemoteParty='"Caller" <sip:+14165550123@trunk.example.com>',
            LocalParty="<sip:5195550100@acme.example.net;user=phone>",
        )

        cdr = parse_vodia_cdr(inbound)

        assert cdr.direction == Direction.INBOUND
        assert (cdr.call.caller_number, cdr.call.caller_destination) == (
            "+14165550123",
            "5195550100",
        )
        assert cdr.caller_name == "Caller"

    def test_caller_names_come_from_the_callers_display_name(self) -> None:
        """The caller's quoted display name is kept; a bare URI or number has no name."""
        outbound = parse_vodia_cdr(_leg())
        webcdr = parse_vodia_cdr(_webcdr())
        anonymous = parse_vodia_cdr(_webcdr(**{"from": "<sip:099652200@acme.example.net>"}))

        assert (outbound.caller_name, webcdr.caller_name) == ("Tom Jones", "099652200")
        assert anonymous.caller_name == ""

    def test_internal_call_legs_are_local(self) -> None:
        """Without a trunk the primary leg is the local a-leg and the other legs are b-legs."""
        internal = {"Type": "extension", "TrunkName": "", "TrunkID": "", "RemoteParty": "101"}
        primary = parse_vodia_cdr(_leg(**internal, CallID="p1", PrimaryCallID="p1"))
        other = parse_vodia_cdr(_leg(**internal, CallID="p2", PrimaryCallID="p1"))

        assert (primary.direction, primary.leg) == (Direction.LOCAL, "a")
        assert (other.direction, other.leg) == (Direction.LOCAL, "b")

    def test_webcdr_with_a_trunk_from_an_outside_number_is_inbound(self) -> None:
        """A WebCDR whose caller is an outside number is an inbound call on the DID dialled."""
        cdr = parse_vodia_cdr(_webcdr(), domain="ignored.example.net")

        assert (cdr.uuid, cdr.direction, cdr.leg) == (
            "1490779371@10.254.43.9",
            Direction.INBOUND,
            "a",
        )
        assert (cdr.call.caller_number, cdr.call.caller_destination) == ("099652200", "6499655250")
        assert cdr.domain == TENANT

    def test_webcdr_from_an_extension_is_outbound(self) -> None:
        """A call from an extension to an outside number is outbound."""
        webcdr = _webcdr(**{"from": '"Ann" <sip:221@acme.example.net>', "to": "<sip:0272740320@x>"})

        cdr = parse_vodia_cdr(webcdr)

        assert (cdr.direction, cdr.call.caller_number, cdr.call.destination_number) == (
            Direction.OUTBOUND,
            "221",
            "0272740320",
        )

    def test_rest_record_without_trunks_is_local(self) -> None:
        """A listed call that used no trunk stays inside the PBX."""
        record = _webcdr(trunks=[], extensions=[221, 223], callid=None, call_id="c9")

        assert parse_vodia_cdr(record, domain=TENANT).direction == Direction.LOCAL

    def test_billsec_is_rounded_up_from_epoch_decimals(self) -> None:
        """97.415 answered seconds (epoch strings with decimals) bill as 98."""
        cdr = parse_vodia_cdr(_webcdr(connect="1595572559.445", end="1595572656.860"))

        assert cdr.billsec == 98

    def test_whole_seconds_are_not_rounded_up(self) -> None:
        """Exactly two answered seconds bill as 2, not 3: only a started second is rounded up."""
        cdr = parse_vodia_cdr(_webcdr(connect=1595572559.1, end=1595572561.1))

        assert cdr.billsec == 2

    def test_unanswered_call_has_no_billable_seconds(self) -> None:
        """A call that never connected bills 0 seconds."""
        cdr = parse_vodia_cdr(_webcdr(connect=""))

        assert cdr.billsec == 0

    @pytest.mark.parametrize(
        ("record", "message"),
        [
            ({"event": "NewCdr"}, "Not a Vodia CDR"),
            (["not", "an", "object"], "JSON object"),
            (_leg(Direction="X"), "neither I nor O"),
            (_webcdr(connect="1595572659", end="1595572600"), "ends before it connects"),
            (_webcdr(start="yesterday"), "neither epoch seconds nor a date"),
            (_webcdr(start=""), "no start time"),
            (_leg(CallID=["a"]), "not text or a number"),
        ],
    )
    def test_malformed_records_are_explained(self, record: Any, message: str) -> None:
        """A record that is no Vodia CDR, or contradicts itself, is refused with the reason."""
        with pytest.raises(InvalidRequest, match=message):
            parse_vodia_cdr(record)


class TestConnection:
    def test_lists_tenants_after_logging_in(self, adapter: VodiaAdapter, fake: FakeVodia) -> None:
        """Test Connection logs in and reports how many tenants the PBX holds."""
        check = adapter.test_connection()

        assert (check.ok, check.message) == (
            True,
            "Connection successful. The PBX has 2 tenant(s).",
        )
        assert fake.logins == 1

    def test_wrong_password_is_reported_not_raised(
        self, served: Served, make_adapter: AdapterMaker
    ) -> None:
        """A refused login is shown with the PBX's words and what to check."""
        adapter = make_adapter(served.port, password="wrong-password")

        check = adapter.test_connection()

        assert check.ok is False
        assert "refused the API login for user 'admin'" in check.message
        assert "403: Login failed: wrong user name or password" in check.message

    def test_unreachable_pbx_is_reported(self, make_adapter: AdapterMaker) -> None:
        """Nothing listening on the port gives a failed check saying the bridge cannot connect."""
        check = make_adapter(free_port()).test_connection()

        assert check.ok is False
        assert "cannot connect" in check.message

    def test_health_times_the_round_trip(self, adapter: VodiaAdapter, fake: FakeVodia) -> None:
        """Health is ok with a latency when the PBX answers, and says why when it does not."""
        healthy = adapter.health()
        fake.failure = "500"
        sick = adapter.health()

        assert healthy.ok is True
        assert healthy.latency_ms > 0
        assert sick.ok is False
        assert "server error 500" in sick.message


class TestSession:
    def test_one_login_serves_many_calls(self, adapter: VodiaAdapter, fake: FakeVodia) -> None:
        """The session id is reused: three operations, one login."""
        adapter.test_connection()
        adapter.suspend(ACME)
        list(adapter.fetch_cdrs(ACME, AFTERNOON))

        assert fake.logins == 1

    def test_logs_in_again_once_when_the_session_ends(
        self, adapter: VodiaAdapter, fake: FakeVodia
    ) -> None:
        """After a PBX restart drops the session, the next call logs in again and succeeds."""
        adapter.test_connection()
        fake.expire_sessions()

        check = adapter.test_connection()

        assert check.ok is True
        assert fake.logins == 2

    def test_gives_up_when_a_fresh_session_is_refused_too(
        self, adapter: VodiaAdapter, fake: FakeVodia
    ) -> None:
        """A PBX that refuses every session fails after one retry, not in a loop."""
        adapter.test_connection()
        fake.failure = "401"

        with pytest.raises(ProviderRejected, match="refused with 401"):
            adapter.suspend(ACME)
        assert fake.logins == 2


class TestFetchCdrs:
    def test_window_is_half_open_and_filters_what_the_pbx_lists(
        self, adapter: VodiaAdapter, fake: FakeVodia
    ) -> None:
        """Calls at the window's start are in, at its end out, even when the PBX lists them."""
        for call_id, offset in (
            ("early", -1),
            ("first", 0),
            ("last", 6 * 3600 - 1),
            ("end", 6 * 3600),
        ):
            _outbound(fake, call_id, NOON + timedelta(seconds=offset))

        uuids = [cdr.uuid for cdr in adapter.fetch_cdrs(ACME, AFTERNOON)]

        assert sorted(uuids) == ["first", "last"]

    def test_days_are_asked_in_the_pbx_timezone(
        self, adapter: VodiaAdapter, fake: FakeVodia
    ) -> None:
        """A UTC window across local midnight asks for both local days and gets calls from each."""
        window = TimeWindow(
            datetime(2026, 11, 21, 3, tzinfo=UTC), datetime(2026, 11, 21, 7, tzinfo=UTC)
        )
        _outbound(fake, "before-midnight", datetime(2026, 11, 21, 4, 30, tzinfo=UTC))
        _outbound(fake, "after-midnight", datetime(2026, 11, 21, 5, 30, tzinfo=UTC))

        uuids = {cdr.uuid for cdr in adapter.fetch_cdrs(ACME, window)}

        assert uuids == {"before-midnight", "after-midnight"}
        assert any("start=20261120&end=20261121" in line for line in fake.requests)

    def test_reads_every_page(self, adapter: VodiaAdapter, fake: FakeVodia) -> None:
        """Seven calls in pages of three are all collected, asking for pages 1 to 3."""
        for n in range(7):
            _outbound(fake, f"c{n}", NOON + timedelta(minutes=n))

        cdrs = list(adapter.fetch_cdrs(ACME, AFTERNOON))

        assert sorted(cdr.uuid for cdr in cdrs) == [f"c{n}" for n in range(7)]
        assert [line.count("page=") for line in fake.requests if "/cdrs" in line] == [1, 1, 1]

    def test_a_call_repeated_across_pages_is_yielded_once(
        self, adapter: VodiaAdapter, fake: FakeVodia
    ) -> None:
        """When pages overlap (new calls shift the listing), each call still comes out once."""
        fake.overlap_pages = True
        for n in range(7):
            _outbound(fake, f"c{n}", NOON + timedelta(minutes=n))

        uuids = [cdr.uuid for cdr in adapter.fetch_cdrs(ACME, AFTERNOON)]

        assert sorted(uuids) == [f"c{n}" for n in range(7)]

    def test_maps_the_listing_to_collected_calls(
        self, adapter: VodiaAdapter, fake: FakeVodia
    ) -> None:
        """A listed inbound call keeps its tenant, caller, DID and answered seconds rounded up."""
        fake.add_call(
            TENANT, "in1", caller="4165550123", callee="5195550100", start=NOON, talk=61.2
        )

        (cdr,) = adapter.fetch_cdrs(ACME, AFTERNOON)

        assert isinstance(cdr, CollectedCdr)
        assert (cdr.direction, cdr.call.caller_number, cdr.call.caller_destination) == (
            Direction.INBOUND,
            "4165550123",
            "5195550100",
        )
        assert (cdr.domain, cdr.leg, cdr.billsec, cdr.start) == (TENANT, "a", 62, NOON)

    def test_whole_server_covers_every_tenant(self, adapter: VodiaAdapter, fake: FakeVodia) -> None:
        """Without an assignment the calls of all tenants are collected, each with its domain."""
        _outbound(fake, "a1", NOON)
        _outbound(fake, "b1", NOON, tenant=OTHER)

        found = {(cdr.uuid, cdr.domain) for cdr in adapter.fetch_cdrs(None, AFTERNOON)}

        assert found == {("a1", TENANT), ("b1", OTHER)}

    def test_a_bad_record_is_handed_on_rejected(
        self, adapter: VodiaAdapter, fake: FakeVodia
    ) -> None:
        """One unreadable call does not block the others; it comes rejected, for the quarantine."""
        _outbound(fake, "good", NOON)
        _outbound(fake, "bad", NOON + timedelta(minutes=1))
        fake.calls[TENANT][-1]["end"] = "soon"

        records = list(adapter.fetch_cdrs(ACME, AFTERNOON))

        assert [r.uuid for r in records if isinstance(r, CollectedCdr)] == ["good"]
        (bad,) = [r for r in records if isinstance(r, RejectedCdr)]
        assert (bad.uuid, bad.domain) == ("bad", TENANT)
        assert bad.reason == "CDR bad: end 'soon' is neither epoch seconds nor a date and time."

    def test_another_module_assignment_is_refused(self, adapter: VodiaAdapter) -> None:
        """A FusionPBX assignment on a Vodia server is a clear assignment error."""
        wrong = FusionPbxAssignment(tenant=TENANT, main_did="5195550100", extensions=("100",))

        with pytest.raises(InvalidAssignment, match="needs a Vodia assignment"):
            list(adapter.fetch_cdrs(wrong, AFTERNOON))


class TestSuspend:
    def test_suspend_disables_every_extension(self, adapter: VodiaAdapter, fake: FakeVodia) -> None:
        """Suspending disables the tenant's extensions (not its hunt group) and names them."""
        result = adapter.suspend(ACME)

        assert fake.extensions[TENANT] == {"100": True, "101": True, "102": True}
        assert result.changed == ("100", "101")
        assert result.message == f"Tenant {TENANT} is suspended: disabled extension(s) 100, 101."
        assert fake.extensions[OTHER] == {"200": False}

    def test_suspending_twice_succeeds_and_changes_nothing(
        self, adapter: VodiaAdapter, fake: FakeVodia
    ) -> None:
        """A retried suspend succeeds without touching the PBX again."""
        adapter.suspend(ACME)
        puts = len([line for line in fake.requests if line.startswith("PUT /rest/domain")])

        again = adapter.suspend(ACME)

        assert again.changed == ()
        assert again.message == f"Tenant {TENANT} is suspended; no extension needed to be disabled."
        assert len([line for line in fake.requests if line.startswith("PUT /rest/domain")]) == puts

    def test_unsuspend_enables_them_again_idempotently(
        self, adapter: VodiaAdapter, fake: FakeVodia
    ) -> None:
        """Unsuspend enables every extension; a second unsuspend changes nothing."""
        adapter.suspend(ACME)

        first = adapter.unsuspend(ACME)
        second = adapter.unsuspend(ACME)

        assert fake.extensions[TENANT] == {"100": False, "101": False, "102": False}
        assert (first.changed, second.changed) == (("100", "101", "102"), ())

    def test_a_failed_suspend_is_finished_by_the_retry(
        self, adapter: VodiaAdapter, fake: FakeVodia
    ) -> None:
        """When the PBX errors half way, the retry WHMCS makes disables what is left."""
        fake.failure, fake.fail_path = "500", "/user_settings/101"

        with pytest.raises(ProviderUnavailable, match="server error 500"):
            adapter.suspend(ACME)
        fake.failure = ""
        retried = adapter.suspend(ACME)

        assert retried.changed == ("101",)
        assert set(fake.extensions[TENANT].values()) == {True}

    def test_unknown_tenant_is_refused_with_what_to_do(self, adapter: VodiaAdapter) -> None:
        """Suspending a tenant the PBX does not have says so instead of pretending success."""
        missing = parse_vodia("gone.example.net | 5195550100", "100", {})

        with pytest.raises(
            ProviderRejected, match=r"gone\.example\.net does not exist on Vodia Lab"
        ):
            adapter.suspend(missing)


class TestCreateTerminate:
    def test_create_needs_the_tenant_to_exist(self, adapter: VodiaAdapter) -> None:
        """Create does not invent tenants: the admin is told to create it in Vodia."""
        missing = parse_vodia("new.example.net | 5195550100", "100", {})

        with pytest.raises(ProviderRejected, match="Create it in Vodia"):
            adapter.create(missing)

    def test_create_enables_the_tenant(self, adapter: VodiaAdapter, fake: FakeVodia) -> None:
        """Create on an existing tenant enables its disabled extensions."""
        result = adapter.create(ACME)

        assert result.changed == ("102",)
        assert fake.extensions[TENANT]["102"] is False

    def test_terminate_disables_but_keeps_the_tenant(
        self, adapter: VodiaAdapter, fake: FakeVodia
    ) -> None:
        """Terminate disables every extension and says the tenant itself was kept."""
        result = adapter.terminate(ACME)

        assert set(fake.extensions[TENANT].values()) == {True}
        assert "tenant itself was kept" in result.message

    def test_terminating_a_missing_tenant_succeeds(self, adapter: VodiaAdapter) -> None:
        """A retried terminate after the tenant was deleted is not an error."""
        gone = parse_vodia("gone.example.net | 5195550100", "100", {})

        assert (
            adapter.terminate(gone).message
            == "Tenant gone.example.net is not on the PBX; nothing to terminate."
        )


class TestFailures:
    @pytest.mark.parametrize(
        ("failure", "error", "message"),
        [
            ("timeout", ProviderUnavailable, "no answer in time; will retry"),
            (
                "500",
                ProviderUnavailable,
                r"server error 500 \(Internal error: database is locked\)",
            ),
            ("garbage", ProviderRejected, "did not answer JSON .*Vodia is updating"),
            ("truncated", ProviderUnavailable, "cannot connect"),
        ],
    )
    def test_cdr_listing_failures(
        self,
        adapter: VodiaAdapter,
        fake: FakeVodia,
        failure: str,
        error: type[Exception],
        message: str,
    ) -> None:
        """Each way the listing can fail gives the error class that decides retry or fix."""
        _outbound(fake, "c1", NOON)
        fake.failure, fake.fail_path, fake.delay = failure, "/cdrs", 1.5

        with pytest.raises(error, match=message):
            list(adapter.fetch_cdrs(ACME, AFTERNOON))

    @pytest.mark.parametrize(
        ("failure", "error", "message"),
        [
            ("timeout", ProviderUnavailable, "no answer in time"),
            ("500", ProviderUnavailable, "login failed with server error 500"),
            ("garbage", ProviderRejected, "login answer carries no session id"),
        ],
    )
    def test_login_failures(
        self,
        adapter: VodiaAdapter,
        fake: FakeVodia,
        failure: str,
        error: type[Exception],
        message: str,
    ) -> None:
        """A login that times out, errors or answers nonsense is classified like any request."""
        fake.failure, fake.fail_path, fake.delay = failure, "/session", 1.5

        with pytest.raises(error, match=message):
            adapter.suspend(ACME)


class TestSecrets:
    def test_password_digest_and_session_stay_out_of_errors(
        self, adapter: VodiaAdapter, fake: FakeVodia
    ) -> None:
        """A PBX quoting the request back (MD5 login, session cookie) has them masked."""
        fake.failure, fake.fail_path = "echo", "/session"
        with pytest.raises(ProviderRejected) as login_error:
            adapter.suspend(ACME)
        fake.failure = ""
        adapter.test_connection()
        fake.failure, fake.fail_path = "echo", "/users"
        with pytest.raises(ProviderRejected) as call_error:
            adapter.suspend(ACME)

        for message in (login_error.value.message, call_error.value.message):
            assert MASK in message
            for secret in (PASSWORD, DIGEST, *fake.issued):
                assert secret not in message

    def test_logs_carry_no_credentials(
        self,
        served: Served,
        fake: FakeVodia,
        make_adapter: AdapterMaker,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        """Logging in, relogging, failing and suspending logs no password, digest or session id."""
        caplog.set_level(logging.DEBUG)
        adapter = make_adapter(served.port)
        adapter.test_connection()
        fake.expire_sessions()
        adapter.suspend(ACME)
        make_adapter(served.port, password=PASSWORD + "x").test_connection()

        logged = "\n".join(record.getMessage() for record in caplog.records)
        assert "vodia.relogin" in logged
        for secret in (PASSWORD, DIGEST, *fake.issued):
            assert secret not in logged


class TestFactory:
    def test_builds_an_adapter_that_satisfies_the_protocol(self) -> None:
        """The module's factory returns a VodiaAdapter the registry can hold as a PbxAdapter."""
        server = PbxServer(id=3, name="Vodia", module="vodia", hostname="pbx.example.net")

        adapter: PbxAdapter = make_vodia_adapter(server)

        assert isinstance(adapter, VodiaAdapter)
        assert adapter.http.server is server
        adapter.http.close()
