"""The WHMCS module actions on one service: create, suspend, unsuspend, terminate, change package.

WHMCS calls each of these from an admin's button, its cron or its Module Queue (which retries a
failed call), so each is idempotent: the adapters treat "already suspended" and the like as done,
and what the bridge records afterwards is the same however often it runs.

Each action reads what it needs in one transaction, asks the PBX outside any transaction, then
writes a WHMCS module-log entry (and, where it applies, the VoIP suspension state) in a second one
(docs/decisions.md, "Rule for an action that calls a PBX"). A PBX that refuses or cannot be
reached raises its :class:`~bridge.errors.ProviderError`, whose message WHMCS shows the admin; the
attempt is logged first. LesNet has no provisioning API, so its adapter answers every action
with what the admin must do in the LesNet portal (:class:`~bridge.errors.ProviderUnsupported`),
never with a success.

Only create needs a valid license (DESIGN.md §8): suspension, unsuspension and termination always
run, so an expired license never keeps a service running that should stop.

The VoIP suspension state stays as the autosuspend job keeps it
(:mod:`bridge.usecases.autosuspend`): when WHMCS unsuspends or terminates a service the job had
suspended (its suspend reason says so), the client's open suspension ends once no other service
is left suspended by the job, and "VoIP Suspended" goes from Yes back to None. A suspension made
through WHMCS is WHMCS's own (overdue invoice, an admin's reason), so it changes neither: the job
never unsuspends such a service.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy.engine import Connection

from bridge.clock import to_whmcs_time
from bridge.db import Database
from bridge.errors import BridgeError, NotConfigured
from bridge.modules.assignment import Assignment, parse_assignment
from bridge.modules.base import ActionResult, PbxServer
from bridge.modules.registry import AdapterFactory, make_adapter
from bridge.settings import Settings
from bridge.store.packages import load_package
from bridge.store.suspensions import end_suspension
from bridge.usecases.cdr_intake import TenantDirectory, reattribute_cdrs
from bridge.usecases.licenses import require_license
from bridge.usecases.pbx_servers import load_pbx_servers
from bridge.usecases.voip_state import NONE, VOIP_SUSPENDED, YES, suspended_by_the_bridge
from bridge.whmcs.customfields import get_client_fields, get_service_fields, set_client_field
from bridge.whmcs.logs import log_module_call
from bridge.whmcs.services import Service, ServiceStatus, get_service, list_voip_services


class PbxAction(StrEnum):
    """The service actions WHMCS forwards that change the PBX."""

    CREATE = "create"
    SUSPEND = "suspend"
    UNSUSPEND = "unsuspend"
    TERMINATE = "terminate"


@dataclass(frozen=True, slots=True)
class ServiceCall:
    """One module call about a service, as WHMCS made it.

    ``domain``, ``username`` and ``custom_fields`` are the values WHMCS sent with the call (an
    admin may press Create before saving the service page); ``None`` means "use the stored one".
    """

    module: str
    service_id: int
    domain: str | None = None
    username: str | None = None
    custom_fields: Mapping[str, str] | None = None
    license_key: str = ""
    server_ip: str = ""
    secrets: tuple[str, ...] = field(default=(), repr=False)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What an action did, in the PBX's words."""

    message: str
    changed: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class _Target:
    service: Service
    server: PbxServer
    assignment: Assignment


def run_pbx_action(
    database: Database,
    call: ServiceCall,
    action: PbxAction,
    *,
    settings: Settings,
    now: datetime,
    adapters: AdapterFactory = make_adapter,
) -> Outcome:
    """Do ``action`` for the service on its PBX, log it in WHMCS's module log and return it."""
    if action is PbxAction.CREATE:
        require_license(
            database, call.license_key, settings=settings, now=now, server_ip=call.server_ip
        )
    target = _load_target(database, call, settings)
    try:
        with adapters(target.server) as adapter:
            result = _ask(adapter, action, target.assignment)
    except BridgeError as exc:
        _log(database, call, action.value, target, f"Failed: {exc.message}", settings, now)
        raise
    with database.transaction() as conn:
        _log_in(conn, call, action.value, target, result.message, settings, now)
        if action in (PbxAction.UNSUSPEND, PbxAction.TERMINATE):
            _release_suspension(conn, target.service, settings, now)
        if action is PbxAction.CREATE:
            # Calls of the tenant collected before the service existed are filed under it now,
            # not only on the next collection run.
            server = target.server
            reattribute_cdrs(conn, TenantDirectory.build(conn, server.id, server.module))
    return Outcome(result.message, result.changed)


def change_package(
    database: Database, call: ServiceCall, *, package: str, settings: Settings, now: datetime
) -> Outcome:
    """Accept a product change: the PBX keeps the service, calls are rated by the new package."""
    with database.transaction() as conn:
        service = get_service(conn, call.service_id)
        if package:
            load_package(conn, package)  # raises NotFound with how to create it
        message = (
            f"Nothing to change on the PBX; calls of service #{service.id} are rated with "
            f"package {package!r} from now on."
            if package
            else f"Nothing to change on the PBX; product {service.product.name!r} names no "
            "VoIP Package, so its calls are not rated until one is set."
        )
        log_module_call(
            conn, call.module, "change-package", _request(call, service), message,
            at=to_whmcs_time(now, settings.timezone), secrets=call.secrets,
        )  # fmt: skip
    return Outcome(message)


def _ask(adapter: Any, action: PbxAction, assignment: Assignment) -> ActionResult:
    operations = {
        PbxAction.CREATE: adapter.create,
        PbxAction.SUSPEND: adapter.suspend,
        PbxAction.UNSUSPEND: adapter.unsuspend,
        PbxAction.TERMINATE: adapter.terminate,
    }
    result: ActionResult = operations[action](assignment)
    return result


def _load_target(database: Database, call: ServiceCall, settings: Settings) -> _Target:
    with database.transaction() as conn:
        service = get_service(conn, call.service_id)
        if service.server is None:
            raise NotConfigured(
                f"Service #{service.id} has no server; choose one on its WHMCS service page."
            )
        servers = load_pbx_servers(conn, key=settings.encryption_key, server_id=service.server.id)
        fields = (
            dict(call.custom_fields)
            if call.custom_fields is not None
            else get_service_fields(conn, service.id)
        )
    if not servers:
        raise NotConfigured(
            f"Server #{service.server.id} of service #{service.id} is disabled or not a "
            "fusionpbx, vodia or lesnet server."
        )
    assignment = parse_assignment(
        service.product.module or call.module,
        service.domain if call.domain is None else call.domain,
        service.username if call.username is None else call.username,
        fields,
    )
    return _Target(service, servers[0][0], assignment)


def _release_suspension(
    conn: Connection, service: Service, settings: Settings, now: datetime
) -> None:
    if service.status is not ServiceStatus.SUSPENDED or not suspended_by_the_bridge(
        service.suspend_reason
    ):
        return
    others = [
        other
        for other in list_voip_services(conn, service.client_id)
        if other.id != service.id
        and other.status is ServiceStatus.SUSPENDED
        and suspended_by_the_bridge(other.suspend_reason)
    ]
    if others:
        return
    end_suspension(conn, service.client_id, now=now)
    if get_client_fields(conn, service.client_id).get(VOIP_SUSPENDED) == YES:
        set_client_field(
            conn, service.client_id, VOIP_SUSPENDED, NONE,
            at=to_whmcs_time(now, settings.timezone),
        )  # fmt: skip


def _log(
    database: Database,
    call: ServiceCall,
    action: str,
    target: _Target,
    response: str,
    settings: Settings,
    now: datetime,
) -> None:
    with database.transaction() as conn:
        _log_in(conn, call, action, target, response, settings, now)


def _log_in(
    conn: Connection,
    call: ServiceCall,
    action: str,
    target: _Target,
    response: str,
    settings: Settings,
    now: datetime,
) -> None:
    request = {**_request(call, target.service), "server": target.server.name}
    log_module_call(
        conn, call.module, action, request, response,
        at=to_whmcs_time(now, settings.timezone),
        secrets=(*call.secrets, *target.server.secrets),
    )  # fmt: skip


def _request(call: ServiceCall, service: Service) -> dict[str, Any]:
    return {
        "serviceid": service.id,
        "domain": service.domain if call.domain is None else call.domain,
        "username": service.username if call.username is None else call.username,
    }
