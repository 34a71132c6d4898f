"""The VoIP servers: WHMCS's server entries joined with the bridge's own settings, for adapters.

One server whose settings cannot be read (a secret stored under another encryption key) must not
stop work on the others: :func:`read_pbx_servers` returns it apart, as a :class:`BrokenServer`
with the reason, and collection and health checks report it as failing and carry on.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Connection
from starlette.datastructures import Secret

from bridge.errors import BridgeError, ConfigError
from bridge.modules.base import PbxServer
from bridge.modules.registry import pbx_server
from bridge.store.servers import ServerSettings, get_server_settings
from bridge.whmcs.services import list_voip_servers


@dataclass(frozen=True, slots=True)
class BrokenServer:
    """An enabled VoIP server whose bridge settings cannot be read, and why."""

    server_id: int
    name: str
    module: str
    message: str


def read_pbx_servers(
    conn: Connection, *, key: Secret | None, server_id: int | None = None
) -> tuple[list[tuple[PbxServer, ServerSettings]], list[BrokenServer]]:
    """Return every enabled VoIP server (or only ``server_id``), and apart those not readable."""
    loaded, broken = [], []
    for server in list_voip_servers(conn):
        if server_id is not None and server.id != server_id:
            continue
        try:
            settings = get_server_settings(conn, server.id, key=key)
        except BridgeError as exc:
            broken.append(BrokenServer(server.id, server.name, server.module, exc.message))
            continue
        pbx = pbx_server(
            id=server.id,
            name=server.name,
            module=server.module,
            hostname=server.hostname or server.ip_address,
            port=server.port,
            secure=server.secure,
            username=server.username,
            timezone=settings.timezone,
            options={"cdr_source": settings.cdr_source} if settings.cdr_source else {},
            credentials=settings.secrets,
        )
        loaded.append((pbx, settings))
    return loaded, broken


def load_pbx_servers(
    conn: Connection, *, key: Secret | None, server_id: int | None = None
) -> list[tuple[PbxServer, ServerSettings]]:
    """Return every enabled VoIP server (or only ``server_id``); raise if one cannot be read."""
    loaded, broken = read_pbx_servers(conn, key=key, server_id=server_id)
    if broken:
        raise _error_of(broken[0])
    return loaded


def _error_of(server: BrokenServer) -> BridgeError:
    return ConfigError(f"Server #{server.server_id} ({server.name}): {server.message}")
