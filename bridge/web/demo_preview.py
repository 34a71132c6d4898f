"""The demo's preview of the client area: ``/demo/client-area/…``, served by ``bridge demo`` only.

A newcomer without WHMCS sees each demo client's pages here: the index lists the demo clients'
VoIP services, and each service's page is rendered by the very code WHMCS's shim calls, acting
as the service's owner, with links that stay in the preview. The pages wrap the client area in a
bare document with a small stylesheet standing in for WHMCS's Bootstrap theme and a banner that
says it is a preview. There is no login, so :func:`preview_routes` is only mounted by
``bridge demo`` when it listens on a loopback address, and the license check is skipped (the
demo has no license server).
"""

from __future__ import annotations

import ipaddress
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Route

from bridge.errors import AccessDenied, ServiceNotFound
from bridge.web.client_links import preview_links
from bridge.web.client_pages import PageRequest, accept_page_request, render_page, stream_export
from bridge.web.client_templates import ENVIRONMENT
from bridge.web.shim import ShimCall, read_page_parameters
from bridge.web.state import app_state
from bridge.whmcs.catalog import get_module
from bridge.whmcs.clients import get_clients, list_client_ids
from bridge.whmcs.services import Service, get_service, list_voip_services

ROOT = "/demo/client-area"


def is_loopback(host: str) -> bool:
    """Tell whether ``host`` is a loopback address (or ``localhost``), where the preview may run."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def preview_routes() -> list[BaseRoute]:
    """Return the preview's routes, for ``create_app(extra_routes=...)``."""
    return [
        Route(ROOT, show_preview_index, methods=["GET"]),
        Route(ROOT + "/{service_id:int}", show_preview_page, methods=["GET"]),
        Route(ROOT + "/{service_id:int}/export", export_preview_calls, methods=["GET"]),
    ]


async def show_preview_index(request: Request) -> Response:
    """List the demo clients and links to their VoIP services' pages."""
    database = app_state(request).database

    def listing() -> list[dict[str, Any]]:
        with database.transaction() as conn:
            clients = get_clients(conn, list_client_ids(conn))
            return [
                {"client": client, "services": services}
                for client in clients.values()
                if (services := list_voip_services(conn, client.id))
            ]

    entries = await run_in_threadpool(listing)
    html = ENVIRONMENT.get_template("client_area/preview_index.html").render(
        entries=entries, root=ROOT
    )
    return HTMLResponse(html)


async def show_preview_page(request: Request) -> Response:
    """Render a demo service's client area as its owner would see it in WHMCS."""
    state = app_state(request)

    def render() -> tuple[Service, str]:
        page = _accept(request)
        return page.access.service, render_page(page, state.database, preview_links)

    service, body = await run_in_threadpool(render)
    html = ENVIRONMENT.get_template("client_area/preview.html").render(
        service=service, body=body, root=ROOT
    )
    return HTMLResponse(html)


async def export_preview_calls(request: Request) -> Response:
    """Stream a demo service's CSV export, as WHMCS's custom action would."""
    database = app_state(request).database
    return await run_in_threadpool(lambda: stream_export(_accept(request), database))


def _accept(request: Request) -> PageRequest:
    """Accept the page request as the service's owner; the demo has no license to check."""
    state = app_state(request)
    call = _preview_call(request)
    return accept_page_request(call, state.database, settings=state.settings, check_license=False)


def _preview_call(request: Request) -> ShimCall:
    """Return the shim call WHMCS would make for this page, with the service's owner logged in."""
    service_id = int(request.path_params["service_id"])
    with app_state(request).database.transaction() as conn:
        try:
            service = get_service(conn, service_id)
        except ServiceNotFound:
            raise AccessDenied(f"There is no demo service #{service_id}.") from None
    # A product on another module keeps its name; the access check then refuses it.
    module = get_module(service.product.module) or get_module("fusionpbx")
    assert module is not None  # the catalog always has fusionpbx
    return ShimCall(
        module=module,
        action="client-area",
        params={"serviceid": service.id, "userid": service.client_id},
        whmcs={"client_id": service.client_id},
        query=read_page_parameters(request.query_params),
    )
