"""The services tab's facts, Collect CDRs now, and Test Connection of a server form."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy.engine import Connection
from starlette.datastructures import Secret

from bridge.calls import CollectedCdr
from bridge.db import BoundDatabase
from bridge.rating.models import Cdr, CustomRate
from bridge.rating.plan import Package
from bridge.settings import Settings
from bridge.store.cdrs import store_cdrs
from bridge.store.packages import save_package
from bridge.store.suspensions import start_suspension
from bridge.usecases.service_admin import (
    ButtonOutcome,
    ServerForm,
    check_server_connection,
    collect_service_calls,
    describe_service,
)
from bridge.usecases.voip_state import ZERO_BALANCE_REASON
from bridge.whmcs.services import ServiceStatus, set_service_status
from bridge.whmcs.tables import hosting, products
from tests.conftest import TEST_SECRET
from tests.factories.pbx_service import KEY, TENANT, World, fusionpbx_world
from tests.fakes import Switchboard

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
SETTINGS = Settings(secret=Secret(TEST_SECRET), encryption_key=KEY)


@pytest.fixture(name="world")
def _world(conn: Connection, switchboard: Switchboard) -> Iterator[World]:
    with fusionpbx_world(conn, switchboard, "") as world:
        conn.execute(hosting.update().values(nextduedate=date(2026, 12, 1)))
        yield world


def _describe(world: World) -> list[str]:
    overview = describe_service(
        BoundDatabase(world.conn), world.service_id, license_key="", server_ip="",
        settings=SETTINGS, now=NOW,
    )  # fmt: skip
    return [overview.voip_status, overview.last_collection, overview.usage, overview.license]


def _call(uuid: str, start: datetime, number: str = "4165550100") -> CollectedCdr:
    cdr = Cdr(uuid, "outbound", "2112", "", number, start, 60)  # type: ignore[arg-type]
    return CollectedCdr(cdr, domain=TENANT)


class TestDescribeService:
    def test_a_rated_period_so_far(self, world: World) -> None:
        """Usage sums this period's billed calls at the package's rate, and names a rate leak."""
        package = Package("1", name="Gold", custom_rates=(CustomRate("416", Decimal("0.10")),))
        save_package(world.conn, package, tariff=None, now=NOW)
        world.conn.execute(products.update().values(configoption2="Gold"))
        calls = [_call("a", NOW - timedelta(days=1)), _call("b", NOW - timedelta(days=2)),
                 _call("c", NOW - timedelta(days=3), number="4475550100")]  # fmt: skip
        store_cdrs(world.conn, world.server_id, calls, now=NOW, service_id=world.service_id)

        usage = _describe(world)[2]

        assert usage == (
            "$0.20 USD for 2 billed call(s), 2.0 min, 2026-11-01 to 2026-12-01 (so far), "
            "1 call(s) with no rate."
        )

    def test_a_service_the_job_suspended(self, world: World) -> None:
        """The status names the job's reason and the suspension's start."""
        set_service_status(
            world.conn, world.service_id, ServiceStatus.SUSPENDED,
            suspend_reason=ZERO_BALANCE_REASON,
        )  # fmt: skip
        start_suspension(world.conn, world.client_id, "auto", now=NOW)

        assert _describe(world)[0] == (
            f"Suspended ({ZERO_BALANCE_REASON}); VoIP Suspended: None; Manual VoIP Suspend: "
            "None; VoIP suspended since 2026-11-20 12:00 UTC"
        )

    def test_no_package_no_due_date_no_cycle(self, world: World) -> None:
        """Each missing piece is named in its own line; the others still show."""
        facts = _describe(world)
        world.conn.execute(hosting.update().values(billingcycle="One Time"))
        one_time = _describe(world)[2]
        world.conn.execute(hosting.update().values(nextduedate=None))
        no_due = _describe(world)[2]

        assert facts[2].startswith("Cannot rate this period's calls:")
        assert one_time == "No billing period: the One Time cycle has none."
        assert no_due == "No billing period: the service has no next due date."
        assert facts[3].startswith("Invalid License")

    def test_no_server(self, world: World) -> None:
        """A service without a server has never been collected."""
        world.conn.execute(hosting.update().values(server=0))

        assert _describe(world)[1] == "Never: the service has no server."


class TestCollectServiceCalls:
    def test_a_failing_pbx_is_named(self, world: World) -> None:
        """A PBX answering 500: the summary says which scope failed and why."""
        world.pbx.failure = "error_500"

        outcome = collect_service_calls(
            BoundDatabase(world.conn), world.service_id, settings=SETTINGS, now=NOW
        )

        assert outcome.succeeded is False
        assert outcome.message.startswith(
            "Collected from PBX One: 0 new call(s) stored, 0 with no service."
        )
        assert " Failed: server: " in outcome.message

    def test_no_server(self, world: World) -> None:
        """A service without a server has nothing to collect from."""
        world.conn.execute(hosting.update().values(server=0))

        outcome = collect_service_calls(
            BoundDatabase(world.conn), world.service_id, settings=SETTINGS, now=NOW
        )

        message = f"Service #{world.service_id} has no server, so there is nothing to collect from."
        assert outcome == ButtonOutcome(succeeded=False, message=message)


class TestCheckServerConnection:
    def test_a_form_without_a_host(self, world: World) -> None:
        """An empty form is answered without asking anything."""
        check = check_server_connection(
            BoundDatabase(world.conn), ServerForm("fusionpbx"), settings=SETTINGS
        )

        assert (check.ok, check.message) == (
            False,
            "Enter the server's hostname or IP address first.",
        )

    def test_an_unknown_module(self, world: World) -> None:
        """A module with no adapter is an answer, not an exception."""
        check = check_server_connection(
            BoundDatabase(world.conn), ServerForm("asterisk", hostname="pbx.test"),
            settings=SETTINGS,
        )  # fmt: skip

        assert check.ok is False
        assert "No adapter for module 'asterisk'" in check.message
