"""The Starlette application: routes, the one error handler, and the database seam.

``create_app(settings)`` builds the app; tests pass ``database=BoundDatabase(conn)`` so every
request runs inside the test's rolled-back transaction. ``uvicorn --factory bridge.app:create_app``
works too, reading settings from the environment.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from bridge.db import Database, EngineDatabase, make_engine
from bridge.errors import BridgeError, ConfigError, DatabaseError
from bridge.settings import Settings, load_settings
from bridge.web.access_log import AccessLog
from bridge.web.cron import run_cron_job
from bridge.web.health import show_health, show_index
from bridge.web.push import receive_vodia_cdrs
from bridge.web.shim import handle_module_call
from bridge.web.state import AppState

log = logging.getLogger("bridge.app")


def create_app(
    settings: Settings | None = None,
    *,
    database: Database | None = None,
    extra_routes: Sequence[BaseRoute] = (),
) -> Starlette:
    """Build the bridge's ASGI app from ``settings`` (the environment by default).

    ``extra_routes`` are mounted beside the bridge's own (``bridge demo``'s client-area preview).
    """
    settings = settings or load_settings()
    engine = None
    if database is None:
        engine = make_engine(settings)
        database = EngineDatabase(engine)

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        yield
        if engine is not None:
            engine.dispose()

    state = AppState(settings, database)
    app = Starlette(
        routes=[
            Route("/", show_index, methods=["GET"]),
            Route("/healthz", show_health, methods=["GET"]),
            Route("/v1/whmcs/{module}/{action:path}", handle_module_call, methods=["POST"]),
            Route("/v1/cdr/vodia/{server_id:int}", receive_vodia_cdrs, methods=["POST"]),
            Route("/v1/cron/{job}", run_cron_job, methods=["POST"]),
            *extra_routes,
        ],
        exception_handlers={
            BridgeError: render_bridge_error,
            HTTPException: render_http_error,
            Exception: render_unexpected_error,
        },
        middleware=[Middleware(AccessLog)],
        lifespan=lifespan,
    )
    app.state.bridge = state
    return app


async def render_bridge_error(request: Request, exc: Exception) -> Response:
    """Render any :class:`BridgeError` as the JSON error envelope with its status code."""
    assert isinstance(exc, BridgeError)
    level = logging.ERROR if exc.status_code >= 500 else logging.WARNING
    log.log(level, "request.rejected path=%s code=%s", request.url.path, exc.code)
    payload = exc.to_payload()
    if isinstance(exc, DatabaseError | ConfigError) and not _authenticated(request):
        # Database and configuration messages name hosts, ports and driver errors: they are for
        # the WHMCS admin (signed calls) and the log, not for whoever reached a public endpoint.
        log.log(level, "request.detail path=%s message=%s", request.url.path, exc.message)
        payload["error"]["message"] = _HIDDEN
    return JSONResponse(payload, status_code=exc.status_code)


_HIDDEN = "The bridge cannot serve this request right now; its log says why."


def _authenticated(request: Request) -> bool:
    """Tell whether the request passed signing (:func:`bridge.web.signing.accept_signed`)."""
    return bool(getattr(request.state, "authenticated", False))


async def render_http_error(request: Request, exc: Exception) -> Response:
    """Render routing errors (404, 405) in the same envelope."""
    assert isinstance(exc, HTTPException)
    code = "not_found" if exc.status_code == 404 else "http_error"
    body = {"ok": False, "error": {"code": code, "message": str(exc.detail)}}
    return JSONResponse(body, status_code=exc.status_code, headers=exc.headers)


async def render_unexpected_error(request: Request, exc: Exception) -> Response:
    """Answer a bug with a generic 500 in the envelope; the traceback goes to the log only."""
    log.exception("request.failed path=%s", request.url.path, exc_info=exc)
    body = {"ok": False, "error": {"code": "internal", "message": "Internal error; see the log."}}
    return JSONResponse(body, status_code=500)
