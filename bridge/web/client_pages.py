"""The client area behind the shim: ``client-area`` (the page's HTML) and ``client-area/export``.

Both check, before anything is read for the page, that the service belongs to the client WHMCS
has logged in (:func:`~bridge.usecases.client_access.open_client_service`) and that the
product's license is valid here (DESIGN.md §8); a refusal is a 403 JSON error and nothing is
rendered. The work is in the use cases (calls, rates, export) and the templates; the demo
preview (:mod:`bridge.web.demo_preview`) renders the same pages with its own links.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from starlette.responses import Response, StreamingResponse

from bridge.clock import utc_now, whmcs_today
from bridge.db import Database
from bridge.errors import NotConfigured, NotFound
from bridge.settings import Settings, load_settings
from bridge.usecases.call_export import export_filename, stream_call_csv
from bridge.usecases.call_history import (
    CallHistory,
    PageQuery,
    choose_period,
    list_service_periods,
    read_page_query,
    show_call_history,
)
from bridge.usecases.call_rates import CallRates, show_call_rates
from bridge.usecases.client_access import ClientService, open_client_service
from bridge.usecases.licenses import require_license
from bridge.usecases.usage import RatePlans, SharedTariffs
from bridge.web.client_links import ClientAreaLinks, whmcs_links
from bridge.web.client_templates import render_client_area, render_unavailable
from bridge.web.license_buttons import server_ip

if TYPE_CHECKING:
    from bridge.web.shim import ShimCall

log = logging.getLogger("bridge.web.client_pages")

LinkMaker = Callable[[int], ClientAreaLinks]
# Tariffs stay loaded between pages (checked against the database on every use).
TARIFFS = SharedTariffs()


@dataclass(frozen=True, slots=True)
class PageRequest:
    """A client-area request the bridge has accepted: whose service, which page, which settings."""

    access: ClientService
    query: PageQuery
    settings: Settings


def show_client_area(call: ShimCall, database: Database) -> dict[str, str]:
    """Return ``{"html": ...}``: the client-area page of the service WHMCS names."""
    request = accept_page_request(call, database, settings=load_settings())
    return {"html": render_page(request, database, whmcs_links)}


def export_calls(call: ShimCall, database: Database) -> Response:
    """Stream the selected period's calls as a CSV download."""
    request = accept_page_request(call, database, settings=load_settings())
    return stream_export(request, database)


def accept_page_request(
    call: ShimCall, database: Database, *, settings: Settings, check_license: bool = True
) -> PageRequest:
    """Return the request once the caller may see the service; refuse it otherwise."""
    client_id = call.whmcs.get("client_id") or call.params.get("userid")
    with database.transaction() as conn:
        access = open_client_service(
            conn,
            service_id=call.params.get("serviceid"),
            client_id=client_id,
            module=call.module.name,
        )
    if check_license:
        key = access.service.product.billing.license_key
        require_license(database, key, settings=settings, now=utc_now(), server_ip=server_ip(call))
    return PageRequest(access, read_page_query(call.query), settings)


def render_page(request: PageRequest, database: Database, make_links: LinkMaker) -> str:
    """Return the HTML of the page the request asks for."""
    access, query, zone = request.access, request.query, request.settings.timezone
    service = access.service
    plans = RatePlans(shared=TARIFFS)
    page: CallHistory | CallRates
    try:
        with database.transaction() as conn:
            if query.tab == "rates":
                page = show_call_rates(conn, service.product, query.rate_search, plans=plans)
            else:
                page = show_call_history(
                    conn, service, query, today=whmcs_today(utc_now(), zone), zone=zone,
                    currency=access.client.currency, balance=access.client.credit, plans=plans,
                )  # fmt: skip
    except (NotConfigured, NotFound) as exc:
        # What the admin must set (a package, a tariff) goes to the log; the client reads that
        # the page is not available rather than advice about module settings.
        log.warning("client_area.unavailable service=%s reason=%s", service.id, exc.message)
        return render_unavailable(service)
    return render_client_area(
        service=service,
        services=access.services,
        page=page,
        links=make_links(service.id),
        currency=access.client.currency,
        zone=zone.key,
    )


def stream_export(request: PageRequest, database: Database) -> StreamingResponse:
    """Return the CSV download of the request's period, streamed as it is read."""
    service, zone = request.access.service, request.settings.timezone
    periods = list_service_periods(service, whmcs_today(utc_now(), zone))
    period = choose_period(periods, request.query.period_start)
    plans = RatePlans(shared=TARIFFS)
    with database.transaction() as conn:
        # Loaded before the first byte is sent: a product that cannot be rated is a JSON
        # error, not a download that breaks off.
        plans.plan_for(conn, service.product)
    chunks = stream_call_csv(
        database, service, period, request.query, zone=zone,
        currency_code=request.access.client.currency.code, plans=plans,
    )  # fmt: skip
    disposition = f'attachment; filename="{export_filename(service, period)}"'
    return StreamingResponse(
        chunks,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": disposition, "Cache-Control": "no-store"},
    )
