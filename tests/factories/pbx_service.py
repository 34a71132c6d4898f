"""A WHMCS with one client and one FusionPBX service on a fake PBX, and WHMCS's $params for it.

Used by the module-action tests at every level: the use cases, the signed endpoint, and the PHP
shim under the real ``php`` CLI.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.engine import Connection
from starlette.datastructures import Secret

from bridge.store.servers import save_server_settings
from bridge.whmcs import seeding
from bridge.whmcs.tables import servers
from tests.factories.whmcs import make_client, make_product, make_voip_client_fields
from tests.fakes import Switchboard
from tests.fakes.fusionpbx import FakeFusionPbx

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


@contextmanager
def fusionpbx_world(
    conn: Connection, switchboard: Switchboard, license_key: str
) -> Iterator[World]:
    """Build the world in ``conn`` with its PBX plugged into ``switchboard`` for the block."""
    seeding.insert_setting(conn, "SystemURL", "https://billing.example.net/")
    make_voip_client_fields(conn)
    pbx = FakeFusionPbx()
    pbx.add_tenant(TENANT, EXTENSIONS, enabled=False)
    key = license_key
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


def fusionpbx_cdr(uuid: str, start: datetime) -> dict[str, Any]:
    """Return one answered outbound call as FusionPBX's export script lists it."""
    return {
        "xml_cdr_uuid": uuid,
        "domain_name": TENANT,
        "direction": "outbound",
        "caller_id_number": "2112",
        "caller_destination": "",
        "destination_number": "4165550100",
        "start_stamp": start.strftime("%Y-%m-%d %H:%M:%S+00"),
        "billsec": "65",
        "leg": "a",
        "hangup_cause": "NORMAL_CLEARING",
        "status": "answered",
    }
