"""Services with product, module settings and server; zero dates; status changes."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Connection

from bridge.errors import InvalidRequest, ServiceNotFound
from bridge.whmcs.seeding import insert_service
from bridge.whmcs.services import (
    ServiceStatus,
    get_service,
    list_server_services,
    list_voip_servers,
    list_voip_services,
    set_service_status,
)
from bridge.whmcs.tables import hosting, products
from tests.factories.whmcs import make_client, make_product, make_server, make_service


class TestGetService:
    def test_module_settings_are_named(self, conn: Connection) -> None:
        """configoptionN values come back under the module's own setting names."""
        product = make_product(
            conn,
            module="fusionpbx",
            settings={"VoIP Package": "Canada Metered", "Special Number Billing": "on"},
        )
        service_id = make_service(conn, make_client(conn), product_id=product)

        settings = get_service(conn, service_id).product.settings

        assert settings["VoIP Package"] == "Canada Metered"
        assert settings["Special Number Billing"] == "on"
        assert settings["License Key"] == ""

    def test_server_is_attached_without_exposing_secrets_in_repr(self, conn: Connection) -> None:
        """The service's server comes along; its encrypted password never shows in repr."""
        server = make_server(conn, module="vodia", hostname="vodia.example.net")
        service_id = make_service(conn, make_client(conn), module="vodia", server_id=server)

        service = get_service(conn, service_id)

        assert service.server is not None
        assert service.server.hostname == "vodia.example.net"
        assert service.server.secure is True
        assert service.server.module == "vodia"
        assert "password" not in repr(service.server)

    def test_zero_dates_read_as_none(self, conn: Connection) -> None:
        """WHMCS's 0000-00-00 dates come back as None, real dates as dates."""
        service_id = make_service(conn, make_client(conn), next_due=None)

        service = get_service(conn, service_id)

        assert service.next_due_date is None
        assert service.termination_date is None
        assert service.override_suspend_until is None
        assert service.registered_on == date(2025, 1, 1)

    def test_html_entities_are_decoded(self, conn: Connection) -> None:
        """Domain and product name stored HTML-encoded reach the PBX decoded."""
        product = make_product(conn, name="PBX &amp; Trunk")
        service_id = make_service(
            conn, make_client(conn), product_id=product, domain="a&amp;b.example | 5195550100"
        )

        service = get_service(conn, service_id)

        assert service.product.name == "PBX & Trunk"
        assert service.domain == "a&b.example | 5195550100"

    def test_service_without_server(self, conn: Connection) -> None:
        """A service not assigned to a server has no server, rather than failing."""
        service_id = make_service(conn, make_client(conn), server_id=0)

        assert get_service(conn, service_id).server is None

    def test_missing_service(self, conn: Connection) -> None:
        """A service id that does not exist is a clear not-found."""
        with pytest.raises(ServiceNotFound, match="#424242"):
            get_service(conn, 424242)


class TestListVoipServices:
    def test_only_voip_modules_of_that_client(self, conn: Connection) -> None:
        """Only the client's services on fusionpbx, vodia or lesnet products are listed."""
        client_id = make_client(conn)
        voip = [
            make_service(conn, client_id, module="fusionpbx"),
            make_service(conn, client_id, module="vodia"),
            make_service(conn, client_id, module="lesnet"),
        ]
        cpanel = make_product(conn, module="cpanel", name="Web Hosting")
        make_service(conn, client_id, product_id=cpanel, server_id=0)
        make_service(conn, make_client(conn), module="fusionpbx")

        listed = list_voip_services(conn, client_id)

        assert [service.id for service in listed] == voip
        assert [service.product.module for service in listed] == ["fusionpbx", "vodia", "lesnet"]

    def test_module_name_case_is_ignored(self, conn: Connection) -> None:
        """A product whose servertype WHMCS stored as 'FusionPBX' still counts as VoIP."""
        client_id = make_client(conn)
        product = make_product(conn, module="fusionpbx")
        conn.execute(
            products.update().where(products.c.id == product).values(servertype="FusionPBX")
        )
        service_id = insert_service(conn, client_id=client_id, product_id=product)

        assert [service.id for service in list_voip_services(conn, client_id)] == [service_id]


class TestSetServiceStatus:
    def test_suspend_then_unsuspend(self, conn: Connection) -> None:
        """Suspending records the reason; unsuspending clears it."""
        service_id = make_service(conn, make_client(conn))

        set_service_status(
            conn, service_id, ServiceStatus.SUSPENDED, suspend_reason="VoIP zero balance"
        )
        suspended = get_service(conn, service_id)
        set_service_status(conn, service_id, ServiceStatus.ACTIVE)
        active = get_service(conn, service_id)

        assert (suspended.status, suspended.suspend_reason) == ("Suspended", "VoIP zero balance")
        assert (active.status, active.suspend_reason) == ("Active", "")

    def test_reason_without_suspension_is_refused(self, conn: Connection) -> None:
        """A suspend reason on an Active status is a caller error and changes nothing."""
        service_id = make_service(conn, make_client(conn))

        with pytest.raises(InvalidRequest):
            set_service_status(conn, service_id, ServiceStatus.ACTIVE, suspend_reason="oops")
        status = conn.execute(
            select(hosting.c.domainstatus).where(hosting.c.id == service_id)
        ).scalar_one()
        assert status == "Active"

    def test_missing_service(self, conn: Connection) -> None:
        """Changing the status of a service that does not exist is a clear not-found."""
        with pytest.raises(ServiceNotFound):
            set_service_status(conn, 424242, ServiceStatus.SUSPENDED)


class TestServersAndTheirServices:
    def test_voip_servers_and_their_live_services(self, conn: Connection) -> None:
        """Only enabled VoIP servers are listed, each with its Active and Suspended services."""
        pbx = make_server(conn, module="fusionpbx", hostname="pbx1.example.net")
        make_server(conn, module="cpanel", hostname="web1.example.net")
        client_id = make_client(conn)
        live = [
            make_service(conn, client_id, server_id=pbx, status="Active"),
            make_service(conn, client_id, server_id=pbx, status="Suspended"),
        ]
        make_service(conn, client_id, server_id=pbx, status="Terminated")

        servers = list_voip_servers(conn)

        assert [server.hostname for server in servers] == ["pbx1.example.net"]
        assert [service.id for service in list_server_services(conn, pbx)] == live
