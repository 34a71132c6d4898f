"""Service actions on the PBX (create, suspend, unsuspend, terminate, change package)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Connection
from starlette.datastructures import Secret

from bridge.db import BoundDatabase
from bridge.errors import LicenseRefused, NotConfigured, NotFound, ProviderUnavailable
from bridge.rating.plan import Package
from bridge.settings import Settings
from bridge.store.packages import save_package
from bridge.store.suspensions import open_suspension, start_suspension
from bridge.usecases.provisioning import PbxAction, ServiceCall, change_package, run_pbx_action
from bridge.usecases.voip_state import VOIP_SUSPENDED, ZERO_BALANCE_REASON
from bridge.whmcs import seeding
from bridge.whmcs.customfields import get_client_field, set_client_field
from bridge.whmcs.services import ServiceStatus, set_service_status
from bridge.whmcs.tables import hosting, module_log, servers
from tests.conftest import TEST_SECRET
from tests.factories.pbx_service import KEY, TENANT, World, fusionpbx_world
from tests.fakes import Switchboard

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
SETTINGS = Settings(secret=Secret(TEST_SECRET), encryption_key=KEY)


@pytest.fixture(name="world")
def _world(conn: Connection, switchboard: Switchboard) -> Iterator[World]:
    with fusionpbx_world(conn, switchboard, "VB-UNUSED-KEY") as world:
        yield world


def _call(world: World, **changes: object) -> ServiceCall:
    values: dict[str, object] = {"module": "fusionpbx", "service_id": world.service_id}
    return ServiceCall(**{**values, **changes})  # type: ignore[arg-type]


def _responses(conn: Connection) -> list[tuple[str, str]]:
    rows = conn.execute(
        select(module_log.c.action, module_log.c.response).order_by(module_log.c.id)
    )
    return [(row.action, row.response) for row in rows]


def _suspend_by_the_job(conn: Connection, service_id: int) -> None:
    set_service_status(
        conn, service_id, ServiceStatus.SUSPENDED, suspend_reason=ZERO_BALANCE_REASON
    )


class TestRunPbxAction:
    def test_create_needs_a_license_and_asks_no_pbx_without_one(self, world: World) -> None:
        """An unconfigured license check refuses create before the PBX or the log is touched."""
        with pytest.raises(LicenseRefused, match=r"^Invalid License"):
            run_pbx_action(
                BoundDatabase(world.conn), _call(world, license_key="VB-X"), PbxAction.CREATE,
                settings=SETTINGS, now=NOW,
            )  # fmt: skip

        assert (world.pbx.requests, _responses(world.conn)) == ([], [])

    def test_suspend_uses_the_stored_assignment_when_whmcs_sends_none(self, world: World) -> None:
        """Without domain/username in the call, the service's stored ones are used."""
        world.pbx.add_tenant(TENANT, ("2112", "2113"), enabled=True)

        outcome = run_pbx_action(
            BoundDatabase(world.conn), _call(world), PbxAction.SUSPEND, settings=SETTINGS, now=NOW
        )

        assert outcome.message.startswith("Suspended")
        assert world.pbx.extensions[(TENANT, "2112")] is False
        assert _responses(world.conn) == [("suspend", outcome.message)]

    def test_a_pbx_down_is_logged_and_raised(self, world: World) -> None:
        """A PBX answering 500: the attempt is in the module log, the error goes to WHMCS."""
        world.pbx.failure = "error_500"

        with pytest.raises(ProviderUnavailable) as raised:
            run_pbx_action(
                BoundDatabase(world.conn), _call(world), PbxAction.SUSPEND,
                settings=SETTINGS, now=NOW,
            )  # fmt: skip

        assert _responses(world.conn) == [("suspend", f"Failed: {raised.value.message}")]

    def test_terminating_one_of_two_job_suspended_services_keeps_the_suspension(
        self, world: World
    ) -> None:
        """The client's suspension ends only with its last service the job suspended."""
        conn = world.conn
        other = seeding.insert_service(
            conn, client_id=world.client_id, product_id=world.product_id,
            server_id=world.server_id, domain=f"{TENANT} | 5195550101", username="2112",
        )  # fmt: skip
        for service in (world.service_id, other):
            _suspend_by_the_job(conn, service)
        set_client_field(conn, world.client_id, VOIP_SUSPENDED, "Yes", at=datetime(2026, 11, 1))
        start_suspension(conn, world.client_id, "auto", now=NOW)

        run_pbx_action(
            BoundDatabase(conn), _call(world), PbxAction.TERMINATE, settings=SETTINGS, now=NOW
        )

        assert get_client_field(conn, world.client_id, VOIP_SUSPENDED) == "Yes"
        assert open_suspension(conn, world.client_id) is not None

    def test_a_service_without_a_server(self, world: World) -> None:
        """No server on the service: the admin is told to choose one."""
        world.conn.execute(hosting.update().values(server=0))

        with pytest.raises(NotConfigured, match="has no server; choose one"):
            run_pbx_action(
                BoundDatabase(world.conn), _call(world), PbxAction.SUSPEND,
                settings=SETTINGS, now=NOW,
            )  # fmt: skip

    def test_a_disabled_server(self, world: World) -> None:
        """A disabled server is named, and nothing is sent."""
        world.conn.execute(servers.update().values(disabled=1))

        with pytest.raises(NotConfigured, match="is disabled or not a"):
            run_pbx_action(
                BoundDatabase(world.conn), _call(world), PbxAction.UNSUSPEND,
                settings=SETTINGS, now=NOW,
            )  # fmt: skip
        assert world.pbx.requests == []


class TestChangePackage:
    def test_a_stored_package(self, world: World) -> None:
        """A stored package is accepted and logged; the PBX is not asked."""
        package = Package("1", name="Gold", inbound_rate=Decimal("0.01"))
        save_package(world.conn, package, tariff=None, now=NOW)

        outcome = change_package(
            BoundDatabase(world.conn), _call(world), package="Gold", settings=SETTINGS, now=NOW
        )

        assert "rated with package 'Gold' from now on" in outcome.message
        assert _responses(world.conn) == [("change-package", outcome.message)]
        assert world.pbx.requests == []

    def test_no_package(self, world: World) -> None:
        """A product without a package is accepted, saying its calls are not rated yet."""
        outcome = change_package(
            BoundDatabase(world.conn), _call(world), package="", settings=SETTINGS, now=NOW
        )

        assert outcome.message.endswith("names no VoIP Package, so its calls are not rated until "
                                        "one is set.")  # fmt: skip

    def test_an_unknown_package(self, world: World) -> None:
        """An unknown package is refused with how to create it."""
        with pytest.raises(NotFound, match="bridge package import Nope FILE"):
            change_package(
                BoundDatabase(world.conn), _call(world), package="Nope", settings=SETTINGS, now=NOW
            )
