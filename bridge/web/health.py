"""Unauthenticated service endpoints: ``GET /healthz`` and the ``GET /`` index."""

from __future__ import annotations

import logging
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse

from bridge import __version__
from bridge.db import Database
from bridge.errors import BridgeError

log = logging.getLogger("bridge.web.health")


async def show_health(request: Request) -> JSONResponse:
    """Ping the database; 200 when every check passes, 503 otherwise."""
    database: Database = request.app.state.database
    check: dict[str, Any] = {"backend": database.backend}
    try:
        latency = await run_in_threadpool(database.ping)
    except BridgeError as exc:
        # The detail (host, driver message) goes to the log, not to an unauthenticated caller.
        log.warning("health.database_failed code=%s message=%s", exc.code, exc.message)
        check.update(ok=False, error=exc.code)
    else:
        check.update(ok=True, latency_ms=round(latency, 2))
    healthy = bool(check["ok"])
    body: dict[str, Any] = {"ok": healthy, "result": {"checks": {"database": check}}}
    if not healthy:
        body["error"] = {"code": "unhealthy", "message": "database check failed"}
    return JSONResponse(body, status_code=200 if healthy else 503)


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
