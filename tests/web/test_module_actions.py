"""The service and server actions through the signed shim endpoint (``/v1/whmcs/...``)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy.engine import Connection
from starlette.testclient import TestClient

from bridge.app import create_app
from bridge.db import BoundDatabase
from bridge.rating.plan import Package
from bridge.settings import Settings
from bridge.store.packages import save_package
from tests.factories.pbx_service import KEY, TENANT, World, fusionpbx_world
from tests.fakes import Switchboard
from tests.web.signing_helpers import call_module


@pytest.fixture(name="world")
def _world(conn: Connection, switchboard: Switchboard) -> Iterator[World]:
    with fusionpbx_world(conn, switchboard, "") as world:
        yield world


@pytest.fixture(name="keyed")
def _keyed(settings: Settings, conn: Connection) -> Iterator[TestClient]:
    """The app with the encryption key the PBX's password is stored under."""
    keyed = dataclasses.replace(settings, encryption_key=KEY)
    with TestClient(create_app(keyed, database=BoundDatabase(conn))) as http:
        yield http


def _result(response: Any) -> Any:
    assert response.status_code == 200, response.text
    return response.json()["result"]


class TestServiceActions:
    def test_suspend_and_unsuspend_answer_the_pbxs_message(
        self, keyed: TestClient, world: World
    ) -> None:
        """Suspend disables the tenant and answers what the PBX did; Unsuspend enables it."""
        world.pbx.add_tenant(TENANT, ("2112", "2113"), enabled=True)

        suspended = _result(call_module(keyed, "fusionpbx", "suspend", world.params))
        disabled = world.pbx.extensions[(TENANT, "2112")]
        unsuspended = _result(call_module(keyed, "fusionpbx", "unsuspend", world.params))

        assert suspended.startswith("Suspended")
        assert unsuspended.startswith("Unsuspended")
        assert (disabled, world.pbx.extensions[(TENANT, "2112")]) == (False, True)

    def test_a_call_without_a_service(self, keyed: TestClient, world: World) -> None:
        """A service action without serviceid is a 422 naming what is missing."""
        response = call_module(keyed, "fusionpbx", "terminate", {"serviceid": "abc"})

        assert response.status_code == 422
        assert "names no service (params.serviceid)" in response.json()["error"]["message"]

    def test_change_package_reads_the_products_package(
        self, keyed: TestClient, world: World
    ) -> None:
        """change-package takes the package from configoption2 (VoIP Package)."""
        save_package(world.conn, Package("1", name="Gold", inbound_rate=Decimal("0.01")),
                     tariff=None, now=datetime.now(UTC))  # fmt: skip

        result = _result(
            call_module(keyed, "fusionpbx", "change-package", {**world.params,
                                                              "configoption2": "Gold"})
        )  # fmt: skip

        assert result.endswith("are rated with package 'Gold' from now on.")


class TestServerAndProductActions:
    def test_test_connection_from_the_server_form(self, keyed: TestClient, world: World) -> None:
        """The server form's values are tested: success with the PBX's words."""
        result = _result(call_module(keyed, "fusionpbx", "test-connection", world.server_params))

        assert result["success"] is True
        assert result["error"] == ""
        assert result["message"].startswith("Connection successful.")

    def test_test_connection_with_odd_values(self, keyed: TestClient, world: World) -> None:
        """Non-numeric ids and ports, and booleans where text is due, read as absent."""
        params = {"serverid": True, "serverport": "x", "serverhostname": False, "serverip": ""}

        result = _result(call_module(keyed, "fusionpbx", "test-connection", params))

        assert result == {
            "success": False, "error": "Enter the server's hostname or IP address first.",
            "message": "Enter the server's hostname or IP address first.",
        }  # fmt: skip

    def test_buttons(self, http: TestClient) -> None:
        """The admin buttons, label to PHP function suffix."""
        assert _result(call_module(http, "lesnet", "buttons")) == {
            "Verify License": "verifyLicense",
            "Activate License": "activateLicense",
            "Collect CDRs now": "collectCdrs",
        }

    def test_config_options_without_packages_keep_a_text_field(self, http: TestClient) -> None:
        """With no package stored, VoIP Package is typed in (text)."""
        fields = _result(call_module(http, "lesnet", "config-options"))

        assert fields["VoIP Package"]["Type"] == "text"

    def test_services_tab_labels(self, keyed: TestClient, world: World) -> None:
        """The services tab answers its four labels in order."""
        tab = _result(call_module(keyed, "fusionpbx", "services-tab", world.params))

        assert list(tab) == ["VoIP status", "Last collection", "Usage this period", "License"]
