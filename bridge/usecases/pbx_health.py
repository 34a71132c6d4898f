"""PBX health for ``/healthz?pbx=1``: ask each enabled VoIP server's adapter how it is."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from starlette.datastructures import Secret

from bridge.db import Database
from bridge.errors import BridgeError
from bridge.modules.base import PbxAdapter, PbxServer
from bridge.modules.registry import make_adapter
from bridge.usecases.pbx_servers import load_pbx_servers


@dataclass(frozen=True, slots=True)
class PbxHealth:
    """One server's health as /healthz shows it."""

    server_id: int
    name: str
    module: str
    ok: bool
    latency_ms: float
    message: str


def check_pbxes(
    database: Database,
    *,
    key: Secret | None,
    adapters: Callable[[PbxServer], PbxAdapter] = make_adapter,
) -> list[PbxHealth]:
    """Return the health of every enabled VoIP server; a failing one never stops the others."""
    with database.transaction() as conn:
        servers = [pbx for pbx, _settings in load_pbx_servers(conn, key=key)]
    results = []
    for pbx in servers:
        try:
            with adapters(pbx) as adapter:
                health = adapter.health()
        except BridgeError as exc:  # adapters report rather than raise; this is a backstop
            results.append(PbxHealth(pbx.id, pbx.name, pbx.module, False, 0.0, exc.message))
            continue
        results.append(
            PbxHealth(pbx.id, pbx.name, pbx.module, health.ok, health.latency_ms, health.message)
        )
    return results
