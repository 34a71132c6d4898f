"""The LesNet adapter against a fake portal over real HTTP: fetching, failures, no provisioning."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import httpx
import pytest

from bridge.calls import CollectedCdr, Intake, RejectedCdr
from bridge.errors import (
    InvalidAssignment,
    ProviderError,
    ProviderRejected,
    ProviderUnavailable,
    ProviderUnsupported,
)
from bridge.modules.assignment import FusionPbxAssignment, LesNetAssignment
from bridge.modules.base import PbxAdapter, PbxServer, TimeWindow
from bridge.modules.http import PbxHttp
from bridge.modules.lesnet import LesNetAdapter, make_lesnet_adapter
from tests.fakes import Served, Switchboard, free_port, serve
from tests.fakes.lesnet import FakeLesNet, Fault

PEER = "D4E3CD2BFC791"
DID = "12046664021"
PATH = "/cdr/11330_0000.txt"
PASSWORD = "s3cret-Portal-pw"
HEADER = "Date|Time|Peer ID|Source|Destination|Billsec|Rate|Cost\n"
YESTERDAY = (
    "2025-12-29|09:59:59|D4E3CD2BFC791|12046664021|14165550100|11|0.01|0.01\n"
    "2025-12-29|10:00:00|D4E3CD2BFC791|12046664021|14165550101|22|0.01|0.01\n"
    "2025-12-29|10:30:00|D4E3CD2BFC791|4165550199|12046664021|33|0.00|0.00\n"
    "2025-12-29|10:30:00|A1B2C3D4E5F60|4165550199|12045550000|99|0.00|0.00\n"
    "2025-12-29|11:00:00|D4E3CD2BFC791|12046664021|14165550102|44|0.01|0.01\n"
)
TODAY = (
    "2025-12-30|08:00:00|D4E3CD2BFC791|12046664021|18005550100|55|0.00|0.00\n"
    "2025-12-30|09:00:00|D4E3CD2BFC791|6135550123|12046664021|66|0.00|0.00\n"
)
# Winnipeg is UTC-6 in December: 10:00 local is 16:00 UTC.
MORNING = TimeWindow(
    datetime(2025, 12, 29, 16, 0, tzinfo=UTC), datetime(2025, 12, 29, 17, 0, tzinfo=UTC)
)
EVER = TimeWindow(datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC))

MakeAdapter = Callable[..., LesNetAdapter]


@pytest.fixture(name="fake")
def _fake() -> FakeLesNet:
    fake = FakeLesNet(delay=1.0)
    fake.publish(PATH, HEADER + YESTERDAY)
    return fake


@pytest.fixture(name="portal")
def _portal(fake: FakeLesNet, switchboard: Switchboard) -> Iterator[Served]:
    with switchboard.plug(fake.app()) as served:
        yield served


@pytest.fixture(name="make_adapter")
def _make_adapter(portal: Served) -> Iterator[MakeAdapter]:
    adapters: list[LesNetAdapter] = []

    def make(
        *, port: int | None = None, password: str = "", options: dict[str, str] | None = None
    ) -> LesNetAdapter:
        server = PbxServer(
            id=7,
            name="LesNet",
            module="lesnet",
            hostname=portal.host,
            port=port or portal.port,
            secure=False,
            username="11330" if password else "",
            password=password,
            timezone=ZoneInfo("America/Winnipeg"),
            options=options or {},
        )
        adapter = LesNetAdapter(server, http=PbxHttp(server, timeout=httpx.Timeout(0.3)))
        adapters.append(adapter)
        return adapter

    yield make
    for adapter in adapters:
        adapter.close()


@pytest.fixture(name="adapter")
def _adapter(make_adapter: MakeAdapter) -> LesNetAdapter:
    return make_adapter()


def _assignment(link: str) -> LesNetAssignment:
    return LesNetAssignment(peer_id=PEER, did=DID, dids=(DID,), cdr_link=link)


@pytest.fixture(name="service")
def _service(portal: Served) -> LesNetAssignment:
    return _assignment(portal.url + PATH)


def _calls(records: Iterable[Intake]) -> list[CollectedCdr]:
    """Return the calls fetched, failing if any record came rejected."""
    fetched = list(records)
    calls = [record for record in fetched if isinstance(record, CollectedCdr)]
    assert len(calls) == len(fetched)
    return calls


class TestFetchCdrs:
    def test_only_the_peers_calls_inside_the_half_open_window_come_back(
        self, adapter: LesNetAdapter, service: LesNetAssignment
    ) -> None:
        """Calls at the window's start count, at its end do not; other peers' calls never."""
        window = TimeWindow(
            datetime(2025, 12, 29, 16, 0, tzinfo=UTC), datetime(2025, 12, 29, 17, 0, tzinfo=UTC)
        )

        cdrs = _calls(adapter.fetch_cdrs(service, window))

        assert [cdr.billsec for cdr in cdrs] == [22, 33]
        assert adapter.last_fetch is not None
        assert adapter.last_fetch.outside_window == 2  # 09:59:59 and 11:00 local
        assert adapter.last_fetch.file.other_peers == 1

    def test_a_token_in_the_cdr_link_never_reaches_the_log(
        self,
        adapter: LesNetAdapter,
        portal: Served,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        """At the default INFO level, no logger (httpx's included) writes the link's query."""
        caplog.set_level(logging.INFO)
        service = _assignment(portal.url + PATH + "?token=cdr-link-token-9f8e7d")

        list(adapter.fetch_cdrs(service, EVER))

        assert caplog.records, "the fetch logs something"
        assert "cdr-link-token-9f8e7d" not in caplog.text

    def test_the_cdr_link_may_live_on_another_host_than_the_server(
        self, make_adapter: MakeAdapter, service: LesNetAssignment
    ) -> None:
        """The absolute CDR Link is fetched even when the server entry's host answers nothing."""
        adapter = make_adapter(port=free_port())

        cdrs = list(adapter.fetch_cdrs(service, EVER))

        assert len(cdrs) == 4

    def test_the_refreshed_file_adds_only_the_new_calls(
        self, fake: FakeLesNet, adapter: LesNetAdapter, service: LesNetAssignment
    ) -> None:
        """Fetching the file after its daily refresh yields the old calls under the same ids."""
        fake.publish(PATH, HEADER + YESTERDAY, HEADER + YESTERDAY + TODAY)

        first = {cdr.uuid for cdr in adapter.fetch_cdrs(service, EVER)}
        second = {cdr.uuid: cdr for cdr in _calls(adapter.fetch_cdrs(service, EVER))}

        assert first < set(second)
        assert sorted(second[uuid].billsec for uuid in set(second) - first) == [55, 66]
        assert fake.requests == [PATH, PATH]

    def test_garbage_lines_are_reported_and_logged_without_losing_calls(
        self,
        fake: FakeLesNet,
        adapter: LesNetAdapter,
        service: LesNetAssignment,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        """Junk lines are listed by number, logged and handed on for the quarantine; calls stay."""
        fake.fail(PATH, Fault.GARBAGE_LINES)
        caplog.set_level(logging.INFO, logger="bridge.modules.lesnet")

        fetched = list(adapter.fetch_cdrs(service, EVER))

        cdrs = [record for record in fetched if isinstance(record, CollectedCdr)]
        rejected = [record for record in fetched if isinstance(record, RejectedCdr)]
        assert len(cdrs) == 4
        assert [(r.uuid, r.domain, r.reason.split(":")[0]) for r in rejected] == [
            ("", service.peer_id, f"line {n} of peer {service.peer_id}'s CDR file")
            for n in (3, 6, 9)
        ]
        assert all(r.record.strip() for r in rejected)
        assert adapter.last_fetch is not None
        assert [bad.line for bad in adapter.last_fetch.bad_lines] == [3, 6, 9]
        assert "lesnet.bad_lines peer=D4E3CD2BFC791 count=3 line 3:" in caplog.text

    def test_a_cut_last_line_is_a_bad_line_and_the_rest_is_kept(
        self, fake: FakeLesNet, adapter: LesNetAdapter, service: LesNetAssignment
    ) -> None:
        """A line the file was cut inside is a bad line, not quarantined; every whole call stays."""
        fake.fail(PATH, Fault.CUT_LAST_LINE)

        cdrs = list(adapter.fetch_cdrs(service, EVER))

        assert [cdr.billsec if isinstance(cdr, CollectedCdr) else cdr for cdr in cdrs] == [
            11, 22, 33,
        ]  # fmt: skip
        assert adapter.last_fetch is not None
        (bad,) = adapter.last_fetch.bad_lines
        assert (bad.line, "cut off" in bad.message) == (6, True)

    def test_a_server_wide_fetch_is_unsupported(self, adapter: LesNetAdapter) -> None:
        """Asking for every call of the server says LesNet files are per service."""
        with pytest.raises(ProviderUnsupported, match="collect the LesNet services one by one"):
            adapter.fetch_cdrs(None, EVER)

    def test_another_modules_assignment_is_refused(self, adapter: LesNetAdapter) -> None:
        """A FusionPBX assignment on a LesNet server is an assignment error naming the format."""
        wrong = FusionPbxAssignment("tenant.example.com", "5192229000", ("2112",))

        with pytest.raises(
            InvalidAssignment, match=re.escape("needs a LesNet assignment ('PEER_ID | DID'")
        ):
            adapter.fetch_cdrs(wrong, EVER)


class TestFetchFailures:
    @pytest.mark.parametrize(
        ("fault", "error", "message"),
        [
            (Fault.NOT_FOUND, ProviderRejected, "refused with 404: File not found"),
            (Fault.SERVER_ERROR, ProviderUnavailable, "server error 500"),
            (Fault.TIMEOUT, ProviderUnavailable, "no answer in time; will retry"),
            (Fault.SHORT_BODY, ProviderUnavailable, "without sending complete message body"),
            (Fault.LOGIN_PAGE, ProviderRejected, "answered a web page, not a CDR text file"),
        ],
    )
    def test_each_failure_raises_its_error_and_returns_nothing(
        self,
        fake: FakeLesNet,
        adapter: LesNetAdapter,
        service: LesNetAssignment,
        fault: Fault,
        error: type[ProviderError],
        message: str,
    ) -> None:
        """Each broken answer is the right provider error, naming the peer, and yields no call."""
        fake.fail(PATH, fault)

        with pytest.raises(error) as caught:
            adapter.fetch_cdrs(service, EVER)

        assert type(caught.value) is error
        assert message in caught.value.message
        assert caught.value.message.startswith(f"peer {PEER}: ")
        assert adapter.last_fetch is None

    def test_a_file_that_was_cut_in_transfer_is_read_whole_on_the_next_run(
        self, fake: FakeLesNet, adapter: LesNetAdapter, service: LesNetAssignment
    ) -> None:
        """After a broken transfer the next fetch gets every call: nothing is lost."""
        list(adapter.fetch_cdrs(service, EVER))
        fake.fail(PATH, Fault.SHORT_BODY)
        with pytest.raises(ProviderUnavailable):
            adapter.fetch_cdrs(service, EVER)
        assert adapter.last_fetch is None  # no stale report from the fetch before
        fake.heal(PATH)

        assert len(list(adapter.fetch_cdrs(service, EVER))) == 4

    def test_an_unreachable_portal_is_unavailable(
        self, adapter: LesNetAdapter, portal: Served
    ) -> None:
        """A refused connection is temporary: ProviderUnavailable, retried next run."""
        closed = _assignment(f"http://127.0.0.1:{free_port()}{PATH}")

        with pytest.raises(ProviderUnavailable, match="cannot connect"):
            adapter.fetch_cdrs(closed, EVER)

    def test_text_that_is_not_a_cdr_file_is_rejected_with_what_was_expected(
        self, fake: FakeLesNet, adapter: LesNetAdapter, service: LesNetAssignment
    ) -> None:
        """A link answering text without a CDR header asks the admin to check the CDR Link."""
        fake.publish(PATH, "Service notice: CDR downloads are moving.\nThank you.\n")

        with pytest.raises(ProviderRejected, match="no header row") as caught:
            adapter.fetch_cdrs(service, EVER)

        assert "Check the service's 'CDR Link' custom field" in caught.value.message

    def test_a_link_with_a_password_in_it_is_refused_before_any_request(
        self, fake: FakeLesNet, adapter: LesNetAdapter, portal: Served
    ) -> None:
        """A CDR Link with user info is an assignment error, and the portal is never asked."""
        leaky = _assignment(f"http://11330:{PASSWORD}@{portal.host}:{portal.port}{PATH}")

        with pytest.raises(InvalidAssignment) as caught:
            adapter.fetch_cdrs(leaky, EVER)

        assert PASSWORD not in caught.value.message
        assert fake.requests == []


class TestCredentials:
    def test_credentials_go_only_to_the_servers_own_origin(
        self, fake: FakeLesNet, make_adapter: MakeAdapter, service: LesNetAssignment
    ) -> None:
        """The server's login is sent to its own host, never to a CDR Link on another host."""
        with serve(fake.app()) as elsewhere:
            adapter = make_adapter(password=PASSWORD)
            list(adapter.fetch_cdrs(service, EVER))
            list(adapter.fetch_cdrs(_assignment(f"http://localhost:{elsewhere.port}{PATH}"), EVER))

        own, other = fake.authorizations
        assert own.startswith("Basic ")
        assert other == ""

    def test_wrong_credentials_are_rejected_with_the_password_masked_everywhere(
        self,
        fake: FakeLesNet,
        make_adapter: MakeAdapter,
        service: LesNetAssignment,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        """A 401 echoing the password shows the portal's message with the password masked."""
        fake.credentials = ("11330", "the-right-one")
        adapter = make_adapter(password=PASSWORD, options={"test_url": PATH})
        caplog.set_level(logging.DEBUG)

        with pytest.raises(ProviderRejected) as caught:
            adapter.fetch_cdrs(service, EVER)
        check = adapter.test_connection()

        assert "refused with 401: Login failed for '11330' with password" in caught.value.message
        assert "********" in caught.value.message
        assert not check.ok
        assert "401" in check.message
        for text in (caught.value.message, check.message, caplog.text):
            assert PASSWORD not in text


class TestNoProvisioningApi:
    @pytest.mark.parametrize(
        ("action", "todo"),
        [
            ("create", "create it in the LesNet portal"),
            ("suspend", "disable it in the LesNet portal"),
            ("unsuspend", "enable it again in the LesNet portal"),
            ("terminate", "delete it in the LesNet portal"),
        ],
    )
    def test_each_action_is_an_action_item_for_the_admin(
        self,
        fake: FakeLesNet,
        adapter: LesNetAdapter,
        service: LesNetAssignment,
        action: str,
        todo: str,
    ) -> None:
        """Every provisioning action says what to do by hand, every time, and touches nothing."""
        act = getattr(adapter, action)

        for _ in range(2):  # WHMCS retries: the answer is the same, never a silent success
            with pytest.raises(ProviderUnsupported) as caught:
                act(service)
            message = caught.value.message
            assert message.startswith(f"LesNet has no API to {action} peer {PEER}: ")
            assert todo in message
            assert DID in message
            assert "Nothing was changed by the bridge." in message
        assert fake.requests == []

    def test_an_action_on_another_modules_assignment_is_an_assignment_error(
        self, adapter: LesNetAdapter
    ) -> None:
        """Suspending with a FusionPBX assignment on a LesNet server names the expected format."""
        wrong = FusionPbxAssignment("tenant.example.com", "5192229000", ("2112",))

        with pytest.raises(InvalidAssignment, match="LesNet assignment"):
            adapter.suspend(wrong)


class TestConnectionAndHealth:
    def test_without_a_test_file_the_host_is_checked_for_an_http_answer(
        self, adapter: LesNetAdapter
    ) -> None:
        """Test Connection reports the host answers HTTP and that only reachability is checked."""
        check = adapter.test_connection()

        assert check.ok
        assert "answers with HTTP 200" in check.message
        assert "only reachability is checked" in check.message

    def test_a_configured_test_file_is_fetched_and_its_header_described(
        self, make_adapter: MakeAdapter
    ) -> None:
        """With a test_url option, Test Connection reads that file and describes its header."""
        adapter = make_adapter(options={"test_url": PATH})

        check = adapter.test_connection()

        assert check.ok
        assert "header on line 1 (pipe-delimited: Date, Time, Peer ID" in check.message

    @pytest.mark.parametrize(
        ("fault", "message"),
        [
            (Fault.NOT_FOUND, "refused with 404"),
            (Fault.TIMEOUT, "no answer in time"),
            (Fault.LOGIN_PAGE, "answered a web page"),
        ],
    )
    def test_a_failing_test_file_is_reported_not_raised(
        self, fake: FakeLesNet, make_adapter: MakeAdapter, fault: Fault, message: str
    ) -> None:
        """Test Connection and health turn a broken test file into ok=False with the reason."""
        fake.fail(PATH, fault)
        adapter = make_adapter(options={"test_url": PATH})

        check = adapter.test_connection()
        health = adapter.health()

        assert (check.ok, health.ok) == (False, False)
        assert message in check.message
        assert message in health.message

    def test_an_unreachable_host_is_unhealthy_with_the_reason(
        self, make_adapter: MakeAdapter
    ) -> None:
        """A host that refuses connections gives ok=False from both checks, never an exception."""
        adapter = make_adapter(port=free_port())

        check = adapter.test_connection()
        health = adapter.health()

        assert not check.ok
        assert "cannot connect" in check.message
        assert (health.ok, "cannot connect" in health.message) == (False, True)

    def test_a_healthy_portal_reports_its_latency(self, adapter: LesNetAdapter) -> None:
        """Health is ok with a measured, positive latency when the portal answers."""
        health = adapter.health()

        assert health.ok
        assert health.latency_ms > 0


class TestFactory:
    def test_the_factory_builds_an_adapter_satisfying_the_protocol(self) -> None:
        """make_lesnet_adapter returns a LesNetAdapter for the server (a PbxAdapter to mypy)."""
        server = PbxServer(id=1, name="LesNet", module="lesnet", hostname="portal.les.net")

        built = make_lesnet_adapter(server)
        adapter: PbxAdapter = built

        assert isinstance(adapter, LesNetAdapter)
        assert adapter.server is server
        built.close()
