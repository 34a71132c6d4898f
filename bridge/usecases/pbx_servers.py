"""The VoIP servers: WHMCS's server entries joined with the bridge's own settings, for adapters."""

from __future__ import annotations

from sqlalchemy.engine import Connection
from starlette.datastructures import Secret

from bridge.modules.base import PbxServer
from bridge.modules.registry import pbx_server
from bridge.store.servers import ServerSettings, get_server_settings
from bridge.whmcs.services import list_voip_servers


def load_pbx_servers(
    conn: Connection, *, key: Secret | None, server_id: int | None = None
) -> list[tuple[PbxServer, ServerSettings]]:
    """Return every enabled VoIP server (or only ``server_id``) as adapters need it."""
    loaded = []
    for server in list_voip_servers(conn):
        if server_id is not None and server.id != server_id:
            continue
        settings = get_server_settings(conn, server.id, key=key)
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
    return loaded
