"""Which adapter serves which module, and how a WHMCS server becomes a :class:`PbxServer`."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from zoneinfo import ZoneInfo

from bridge.errors import UnknownAction
from bridge.modules.base import PbxAdapter, PbxServer
from bridge.modules.fusionpbx import make_fusionpbx_adapter
from bridge.modules.lesnet import make_lesnet_adapter
from bridge.modules.vodia import make_vodia_adapter

AdapterFactory = Callable[[PbxServer], PbxAdapter]


def pbx_server(
    *,
    id: int,
    name: str,
    module: str,
    hostname: str,
    port: int | None,
    secure: bool,
    username: str,
    timezone: ZoneInfo,
    options: Mapping[str, str],
    credentials: Mapping[str, str],
) -> PbxServer:
    """Return the adapter's view of a server; the API password comes from the bridge's secrets.

    WHMCS encrypts a server's password with a key only WHMCS holds, so the bridge keeps its own
    encrypted copy (``api_password``), set with ``bridge server set``.
    """
    return PbxServer(
        id=id,
        name=name,
        module=module,
        hostname=hostname,
        port=port,
        secure=secure,
        username=username,
        password=credentials.get("api_password", ""),
        access_hash=credentials.get("access_hash", ""),
        timezone=timezone,
        options=options,
        credentials=credentials,
    )


def make_adapter(
    server: PbxServer, factories: Mapping[str, AdapterFactory] | None = None
) -> PbxAdapter:
    """Return the adapter for ``server.module``."""
    factory = (factories or ADAPTERS).get(server.module)
    if factory is None:
        raise UnknownAction(f"No adapter for module {server.module!r} (server {server.name}).")
    return factory(server)


ADAPTERS: dict[str, AdapterFactory] = {
    "fusionpbx": make_fusionpbx_adapter,
    "vodia": make_vodia_adapter,
    "lesnet": make_lesnet_adapter,
}
