"""Unauthenticated service endpoints: ``GET /healthz`` and the ``GET /`` index."""

from __future__ import annotations

import logging
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse

from bridge import __version__
from bridge.errors import BridgeError
from bridge.web.state import app_state

log = logging.getLogger("bridge.web.health")


async def show_health(request: Request) -> JSONResponse:
    """Ping the database (and, with ``?pbx=1``, each VoIP server); 503 when a check fails."""
    state = app_state(request)
    database = state.database
    check: dict[str, Any] = {"backend": database.backend}
    try:
        latency = await run_in_threadpool(database.ping)
    except BridgeError as exc:
        # The detail (host, driver message) goes to the log, not to an unauthenticated caller.
        log.warning("health.database_failed code=%s message=%s", exc.code, exc.message)
        check.update(ok=False, error=exc.code)
    else:
        check.update(ok=True, latency_ms=round(latency, 2))
    checks: dict[str, Any] = {"database": check}
    failed = [] if check["ok"] else ["database"]
    if check["ok"] and request.query_params.get("pbx") in ("1", "true", "yes"):
        # PBX checks call out to every server, so they run only when asked for, once per
        # PBX_HEALTH_TTL for all callers, on threads of their own (bridge/web/shared_check.py).
        pbxes, age = await state.pbx_health.get()
        checks["pbx"] = {
            str(pbx.server_id): {
                "name": pbx.name,
                "module": pbx.module,
                "ok": pbx.ok,
                "latency_ms": round(pbx.latency_ms, 1),
            }
            for pbx in pbxes
        }
        for pbx in pbxes:
            if not pbx.ok:
                log.warning("health.pbx_failed server=%s message=%s", pbx.server_id, pbx.message)
                failed.append(f"pbx {pbx.server_id}")
    result: dict[str, Any] = {"checks": checks}
    if "pbx" in checks:
        result["pbx_checked_seconds_ago"] = round(age, 1)
    body: dict[str, Any] = {"ok": not failed, "result": result}
    if failed:
        body["error"] = {"code": "unhealthy", "message": f"failed: {', '.join(failed)}"}
    return JSONResponse(body, status_code=503 if failed else 200)


async def show_index(request: Request) -> JSONResponse:
    """Say what this service is and where its endpoints are."""
    return JSONResponse(
        {
            "ok": True,
            "result": {
                "service": "voipbridge",
                "version": __version__,
                "endpoints": {
                    "health": "GET /healthz",
                    "module calls": "POST /v1/whmcs/{module}/{action} (signed)",
                },
            },
        }
    )
