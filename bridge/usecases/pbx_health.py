"""PBX health for ``/healthz?pbx=1``: ask each enabled VoIP server's adapter how it is.

Servers are asked in parallel, at most :data:`MAX_PARALLEL` at a time, on threads of this module's
own pool, so a health check never takes a thread the module calls need and lasts about as long as
the slowest server's own timeouts, not their sum. A server whose settings cannot be read (a
secret under another key) is reported as failing; the others are still asked.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from starlette.datastructures import Secret

from bridge.db import Database
from bridge.errors import BridgeError
from bridge.modules.base import PbxAdapter, PbxServer
from bridge.modules.registry import make_adapter
from bridge.usecases.pbx_servers import read_pbx_servers

MAX_PARALLEL = 8


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
        loaded, broken = read_pbx_servers(conn, key=key)
    servers = [pbx for pbx, _settings in loaded]
    results = [PbxHealth(b.server_id, b.name, b.module, False, 0.0, b.message) for b in broken]
    if servers:
        with ThreadPoolExecutor(min(MAX_PARALLEL, len(servers)), "pbx-health") as pool:
            results.extend(pool.map(lambda pbx: _check(pbx, adapters), servers))
    return sorted(results, key=lambda health: health.server_id)


def _check(pbx: PbxServer, adapters: Callable[[PbxServer], PbxAdapter]) -> PbxHealth:
    try:
        with adapters(pbx) as adapter:
            health = adapter.health()
    except BridgeError as exc:  # adapters report rather than raise; this is a backstop
        return PbxHealth(pbx.id, pbx.name, pbx.module, False, 0.0, exc.message)
    return PbxHealth(pbx.id, pbx.name, pbx.module, health.ok, health.latency_ms, health.message)
