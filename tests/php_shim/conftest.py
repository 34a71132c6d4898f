"""Fixtures for the PHP shim tests: the installed modules, one bridge per test module, a PBX.

The bridge is the real app under uvicorn on 127.0.0.1, started once per test module as a
:class:`~tests.fakes.Switchboard`; each test plugs in an app bound to its own rolled-back
connection, so what the PHP call changed is visible to the test and gone afterwards. The fake
FusionPBX answers on the session's switchboard; the reference license server runs per module.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy.engine import Connection
from starlette.datastructures import Secret

from bridge.app import create_app
from bridge.db import BoundDatabase
from bridge.settings import Settings
from bridge.store.servers import save_server_settings
from bridge.whmcs import seeding
from bridge.whmcs.tables import servers
from tests.conftest import TEST_SECRET
from tests.factories.whmcs import make_client, make_product, make_voip_client_fields
from tests.fakes import Served, Switchboard, serve
from tests.fakes.fusionpbx import FakeFusionPbx
from tests.licensing.harness import LicenseServer, running_license_server
from tests.php_shim.harness import PhpShim, install_shim

KEY = Secret(base64.urlsafe_b64encode(b"k" * 32).decode())
TENANT = "tenant.example.net"
EXTENSIONS = ("2112", "2113")
SERVICE_PASSWORD = "Svc-Pass-7731"


@dataclass(frozen=True, slots=True)
class World:
    """A client with one FusionPBX service on a fake PBX, and the $params WHMCS sends for it."""

    conn: Connection
    pbx: FakeFusionPbx
    license_key: str
    client_id: int
    product_id: int
    server_id: int
    service_id: int
    params: dict[str, Any]
    server_params: dict[str, Any]


@pytest.fixture(scope="module", name="php")
def _php(tmp_path_factory: pytest.TempPathFactory) -> PhpShim:
    """The three modules and the library, installed into a WHMCS folder by install.sh."""
    return install_shim(tmp_path_factory.mktemp("whmcs"))


@pytest.fixture(scope="module", name="bridge_board")
def _bridge_board() -> Iterator[Switchboard]:
    board = Switchboard()
    with serve(board) as served:
        board.served = served
        yield board


@pytest.fixture(scope="module", name="license_server")
def _license_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LicenseServer]:
    with running_license_server(tmp_path_factory.mktemp("license")) as server:
        yield server


@pytest.fixture(name="bridge_settings")
def _bridge_settings(
    settings: Settings, license_server: LicenseServer, monkeypatch: pytest.MonkeyPatch
) -> Settings:
    """The bridge's settings; the license buttons read theirs from the environment."""
    monkeypatch.setenv("BRIDGE_LICENSE_URL", license_server.url)
    monkeypatch.setenv("BRIDGE_LICENSE_PUBLIC_KEY", license_server.public_key)
    return Settings(
        database_url=settings.database_url,
        secret=Secret(TEST_SECRET),
        encryption_key=KEY,
        database_configured=True,
        license_url=license_server.url,
        license_public_key=license_server.public_key,
    )


@pytest.fixture(name="bridge")
def _bridge(
    bridge_board: Switchboard, bridge_settings: Settings, conn: Connection, php: PhpShim
) -> Iterator[Served]:
    """The bridge on this test's connection, and the shim configured to call it."""
    app = create_app(bridge_settings, database=BoundDatabase(conn))
    with bridge_board.plug(app) as served:
        php.configure(served.url, cache_dir=str(php.home / "cache"))
        yield served


@pytest.fixture(name="world")
def _world(
    conn: Connection, switchboard: Switchboard, license_server: LicenseServer
) -> Iterator[World]:
    """A WHMCS with one client, a fusionpbx product, server and service on a fake PBX."""
    seeding.insert_setting(conn, "SystemURL", "https://billing.example.net/")
    make_voip_client_fields(conn)
    pbx = FakeFusionPbx()
    pbx.add_tenant(TENANT, EXTENSIONS, enabled=False)
    key = license_server.create_key()
    client = make_client(conn)
    product = make_product(conn, settings={"License Key": key})
    with switchboard.plug(pbx.app) as served:
        server = seeding.insert_server(
            conn, name="PBX One", module="fusionpbx", hostname=served.host, port=served.port
        )
        conn.execute(
            servers.update().where(servers.c.id == server).values(secure="", username=pbx.username)
        )
        save_server_settings(
            conn, server, key=KEY, now=datetime.now(UTC), cdr_source="export",
            secret_values={"api_password": pbx.password},
        )  # fmt: skip
        service = seeding.insert_service(
            conn, client_id=client, product_id=product, server_id=server,
            domain=f"{TENANT} | 5195550100", username=" | ".join(EXTENSIONS), status="Active",
            next_due=datetime.now(UTC).date().replace(day=28),
        )  # fmt: skip
        server_params = {
            "serverid": server,
            "serverhostname": served.host,
            "serverip": served.host,
            "serverport": str(served.port),
            "serversecure": False,
            "serverusername": pbx.username,
            "serverpassword": pbx.password,
            "serveraccesshash": "",
        }
        params = {
            "serviceid": service,
            "userid": client,
            "pid": product,
            "domain": f"{TENANT} | 5195550100",
            "username": " | ".join(EXTENSIONS),
            "password": SERVICE_PASSWORD,
            "producttype": "other",
            "moduletype": "fusionpbx",
            "configoption1": key,
            "configoption2": "",
            "configoption3": "",
            "customfields": {},
            "configoptions": {},
            "clientsdetails": {"userid": client, "firstname": "Alex", "email": "alex@example.com"},
            **server_params,
        }
        yield World(conn, pbx, key, client, product, server, service, params, server_params)
