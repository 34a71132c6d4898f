"""What the admin sees and presses on a VoIP server or service page besides the provisioning
actions: Test Connection, the services-tab facts, and "Collect CDRs now".

Each fact of the services tab is read on its own: one that cannot be had (no package, license
server unreachable) says why in its own line and never hides the others.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.engine import Connection

from bridge.db import Database
from bridge.errors import BridgeError
from bridge.modules.base import ConnectionCheck, PbxServer
from bridge.modules.registry import AdapterFactory, make_adapter, pbx_server
from bridge.rating.models import Status
from bridge.settings import Settings
from bridge.store.cdrs import get_watermark
from bridge.store.servers import get_server_settings
from bridge.store.suspensions import open_suspension
from bridge.usecases.cdr_intake import WHOLE_SERVER, collect_cdrs
from bridge.usecases.licenses import check_license
from bridge.usecases.usage import RatePlans, rate_service_usage
from bridge.usecases.voip_state import MANUAL_SUSPEND, VOIP_SUSPENDED
from bridge.whmcs.customfields import get_client_fields
from bridge.whmcs.cycles import period_containing
from bridge.whmcs.services import Service, ServiceStatus, get_service


@dataclass(frozen=True, slots=True)
class ButtonOutcome:
    """What an admin button did: whether it fully succeeded and the line that says so."""

    succeeded: bool
    message: str


@dataclass(frozen=True, slots=True)
class ServerForm:
    """The server as WHMCS's server page holds it (perhaps not saved yet) for Test Connection."""

    module: str
    server_id: int = 0
    name: str = ""
    hostname: str = ""
    ip_address: str = ""
    port: int | None = None
    secure: bool = True
    username: str = ""
    password: str = field(default="", repr=False)
    access_hash: str = field(default="", repr=False)


@dataclass(frozen=True, slots=True)
class ServiceOverview:
    """The services-tab facts of one VoIP service, each a line of plain text."""

    voip_status: str
    last_collection: str
    usage: str
    license: str


def check_server_connection(
    database: Database,
    form: ServerForm,
    *,
    settings: Settings,
    adapters: AdapterFactory = make_adapter,
) -> ConnectionCheck:
    """Test the server as the form holds it, with the bridge's stored options and secrets.

    What the admin typed wins: WHMCS sends the decrypted password of the form, so the test checks
    what will be saved; a blank one falls back to the bridge's own copy (``bridge server set``).
    """
    with database.transaction() as conn:
        stored = get_server_settings(conn, form.server_id, key=settings.encryption_key)
    credentials = {
        **stored.secrets,
        **{
            name: value
            for name, value in (("api_password", form.password), ("access_hash", form.access_hash))
            if value
        },
    }
    server = pbx_server(
        id=form.server_id,
        name=form.name or form.hostname or form.ip_address,
        module=form.module,
        hostname=form.hostname or form.ip_address,
        port=form.port,
        secure=form.secure,
        username=form.username,
        timezone=stored.timezone,
        options={"cdr_source": stored.cdr_source} if stored.cdr_source else {},
        credentials=credentials,
    )
    if not server.hostname:
        return ConnectionCheck(False, "Enter the server's hostname or IP address first.")
    return _test(server, adapters)


def collect_service_calls(
    database: Database,
    service_id: int,
    *,
    settings: Settings,
    now: datetime,
    adapters: AdapterFactory = make_adapter,
) -> ButtonOutcome:
    """Collect new calls from the service's server now; say what was stored, or raise."""
    with database.transaction() as conn:
        service = get_service(conn, service_id)
    if service.server is None:
        return ButtonOutcome(
            False, f"Service #{service.id} has no server, so there is nothing to collect from."
        )
    report = collect_cdrs(
        database, key=settings.encryption_key, now=now, server_id=service.server.id,
        adapters=adapters,
    )  # fmt: skip
    failed = [f"{scope.scope}: {scope.error}" for scope in report.errors]
    summary = (
        f"Collected from {service.server.name}: {report.inserted} new call(s) stored, "
        f"{report.unassigned} with no service."
    )
    if report.quarantined:
        summary += (
            f" {report.quarantined} record(s) could not be stored and were quarantined "
            "(bridge doctor lists them)."
        )
    if failed:
        return ButtonOutcome(False, f"{summary} Failed: {'; '.join(failed)}")
    return ButtonOutcome(True, summary)


def describe_service(
    database: Database,
    service_id: int,
    *,
    license_key: str,
    server_ip: str,
    settings: Settings,
    now: datetime,
) -> ServiceOverview:
    """Return the services-tab facts: VoIP status, last collection, usage so far, license."""
    with database.transaction() as conn:
        service = get_service(conn, service_id)
        status = _voip_status(conn, service)
        collected = _last_collection(conn, service)
        usage = _usage(conn, service, settings, now)
    report = check_license(database, license_key, settings=settings, now=now, server_ip=server_ip)
    return ServiceOverview(status, collected, usage, report.message)


def _test(server: PbxServer, adapters: AdapterFactory) -> ConnectionCheck:
    try:
        with adapters(server) as adapter:
            return adapter.test_connection()
    except BridgeError as exc:
        return ConnectionCheck(False, exc.message)


def _voip_status(conn: Connection, service: Service) -> str:
    text = service.status.value
    if service.status is ServiceStatus.SUSPENDED and service.suspend_reason:
        text += f" ({service.suspend_reason})"
    fields = get_client_fields(conn, service.client_id)
    marks = [f"{name}: {fields[name] or 'None'}" for name in (VOIP_SUSPENDED, MANUAL_SUSPEND)
             if name in fields]  # fmt: skip
    suspension = open_suspension(conn, service.client_id)
    if suspension is not None:
        marks.append(f"VoIP suspended since {suspension.started_at:%Y-%m-%d %H:%M} UTC")
    return "; ".join([text, *marks])


def _last_collection(conn: Connection, service: Service) -> str:
    if service.server is None:
        return "Never: the service has no server."
    marks = [
        mark
        for scope in (f"service:{service.id}", WHOLE_SERVER)
        if (mark := get_watermark(conn, service.server.id, scope)) is not None
    ]
    if not marks:
        return f"Never: no calls collected from {service.server.name} yet."
    return f"Calls collected up to {max(marks):%Y-%m-%d %H:%M} UTC from {service.server.name}."


def _usage(conn: Connection, service: Service, settings: Settings, now: datetime) -> str:
    today = now.astimezone(settings.timezone).date()
    if service.next_due_date is None:
        return "No billing period: the service has no next due date."
    period = period_containing(today, service.next_due_date, service.billing_cycle)
    if period is None:
        return f"No billing period: the {service.billing_cycle} cycle has none."
    try:
        usage = rate_service_usage(conn, service, period, plans=RatePlans(), zone=settings.timezone)
    except BridgeError as exc:
        return f"Cannot rate this period's calls: {exc.message}"
    billed = usage.result.billed()
    minutes = sum(call.billed_seconds for call in billed) / 60
    counts: Mapping[Status, int] = usage.result.by_status()
    leak = f", {counts[Status.NO_RATE]} call(s) with no rate" if counts[Status.NO_RATE] else ""
    return (
        f"{usage.currency.format_amount(usage.result.total())} for {len(billed)} billed "
        f"call(s), {minutes:.1f} min, {period.start:%Y-%m-%d} to {period.end:%Y-%m-%d} "
        f"(so far){leak}."
    )
