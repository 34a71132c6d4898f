"""Automatic suspension (DESIGN.md §6): who should be suspended, and making the PBX and WHMCS agree.

:func:`decide` is the truth table, for clients whose "Has VoIP Service" is Yes:

1. "Manual VoIP Suspend" is Yes → suspended (no mail: an admin asked for it);
2. else "VoIP Suspended" is No (an admin's override) → active;
3. else automatically: credit ≤ 0, or the due invoices balance above the credit → suspended;
   credit > 0 and nothing due → active; otherwise (credit > 0 and 0 < due ≤ credit: the band
   between) the client stays as it is, so a client is not switched back and forth by every
   small invoice.

:func:`enforce` then changes only what disagrees: an Active VoIP service of a client who should
be suspended is suspended on its PBX, and only once the PBX confirmed is its WHMCS status set to
Suspended with the bridge's suspend reason and the client's "VoIP Suspended" set to Yes; a service
the bridge suspended (its reason says so) is unsuspended the same way when the client should be
active, and "VoIP Suspended" goes back to None when none is left. A PBX that fails leaves that
service's WHMCS status as it was; it is reported and tried again next run. Services suspended for
any other reason (an overdue recurring invoice, an admin) are never touched. The PBX is called
outside any transaction (docs/decisions.md, "Rule for an action that calls a PBX"); each automatic
suspension opens a suspension record, and its one "VoIP Zero Balance" mail is keyed by it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Connection
from starlette.datastructures import Secret

from bridge.clock import to_whmcs_time
from bridge.db import Database
from bridge.errors import BridgeError, NotConfigured
from bridge.modules.assignment import parse_assignment
from bridge.modules.registry import AdapterFactory
from bridge.store.suspensions import end_suspension, open_suspension, start_suspension
from bridge.usecases.mail import queue_mail
from bridge.usecases.pbx_servers import load_pbx_servers
from bridge.usecases.voip_state import (
    MANUAL_REASON,
    MANUAL_SUSPEND,
    NO,
    NONE,
    VOIP_SUSPENDED,
    YES,
    ZERO_BALANCE_REASON,
    suspended_by_the_bridge,
)
from bridge.whmcs.customfields import get_service_fields, set_client_field
from bridge.whmcs.services import (
    Service,
    ServiceState,
    ServiceStatus,
    get_service,
    list_voip_services,
    set_service_status,
)
from bridge.whmcs.standings import Standing

ZERO_BALANCE_TEMPLATE = "VoIP Zero Balance"


class Target(StrEnum):
    """What a client's VoIP services should be."""

    SUSPENDED = "suspended"
    ACTIVE = "active"
    KEEP = "keep"


@dataclass(frozen=True, slots=True)
class Decision:
    """The truth table's verdict for one client, and which row decided it."""

    target: Target
    rule: str

    @property
    def automatic(self) -> bool:
        """Tell whether the balance decided (not an admin's field)."""
        return self.rule.startswith("balance")


def decide(standing: Standing) -> Decision:
    """Return what the client's VoIP services should be (the rules above, in order)."""
    if standing.fields.get(MANUAL_SUSPEND) == YES:
        return Decision(Target.SUSPENDED, "manual: Manual VoIP Suspend is Yes")
    if standing.fields.get(VOIP_SUSPENDED) == NO:
        return Decision(Target.ACTIVE, "override: VoIP Suspended is No")
    credit, due = standing.credit, standing.due
    if credit <= 0:
        return Decision(Target.SUSPENDED, f"balance: credit {credit} is not above zero")
    if due > credit:
        return Decision(Target.SUSPENDED, f"balance: {due} due is more than the {credit} credit")
    if due == 0:
        return Decision(Target.ACTIVE, "balance: credit and nothing due")
    return Decision(Target.KEEP, f"balance: {due} due within the {credit} credit; unchanged")


def needs_change(decision: Decision, service: Service | ServiceState) -> bool:
    """Tell whether ``service`` disagrees with the decision (and is the bridge's to change)."""
    if decision.target is Target.SUSPENDED:
        return service.status is ServiceStatus.ACTIVE
    if decision.target is Target.ACTIVE:
        return service.status is ServiceStatus.SUSPENDED and suspended_by_the_bridge(
            service.suspend_reason
        )
    return False


@dataclass(frozen=True, slots=True)
class Change:
    """What happened to one service: done, or failed (and left as it was in WHMCS)."""

    service_id: int
    action: str
    ok: bool
    message: str


@dataclass(frozen=True, slots=True)
class Enforcement:
    """What enforcing one client's decision did."""

    changes: tuple[Change, ...]
    mail_queued: bool = False


def enforce(
    database: Database,
    standing: Standing,
    decision: Decision,
    services: list[Service],
    *,
    adapters: AdapterFactory,
    key: Secret | None,
    now: datetime,
    zone: ZoneInfo,
    dry_run: bool = False,
) -> Enforcement:
    """Suspend or unsuspend the client's services that disagree with ``decision``."""
    changes: list[Change] = []
    mail_queued = False
    suspend = decision.target is Target.SUSPENDED
    for service in (s for s in services if needs_change(decision, s)):
        action = "suspend" if suspend else "unsuspend"
        try:
            message = (
                "dry run: the PBX was not asked"
                if dry_run
                else _ask_pbx(database, service, action, adapters=adapters, key=key)
            )
        except BridgeError as exc:
            changes.append(Change(service.id, action, False, exc.message))
            continue
        with database.transaction() as conn:
            current = get_service(conn, service.id)
            if not needs_change(decision, current):
                continue  # an admin or another run changed it meanwhile
            if suspend:
                mail_queued |= _record_suspension(conn, standing, decision, current, now, zone)
            else:
                _record_unsuspension(conn, standing, current, now, zone)
        changes.append(Change(service.id, action, True, message))
    return Enforcement(tuple(changes), mail_queued)


def _ask_pbx(
    database: Database,
    service: Service,
    action: str,
    *,
    adapters: AdapterFactory,
    key: Secret | None,
) -> str:
    if service.server is None:
        raise NotConfigured(f"Service #{service.id} has no server; assign one in WHMCS.")
    with database.transaction() as conn:
        servers = load_pbx_servers(conn, key=key, server_id=service.server.id)
        fields = get_service_fields(conn, service.id)
    if not servers:
        raise NotConfigured(
            f"Service #{service.id}'s server #{service.server.id} is disabled or not a VoIP server."
        )
    assignment = parse_assignment(service.product.module, service.domain, service.username, fields)
    with adapters(servers[0][0]) as adapter:
        result = (
            adapter.suspend(assignment) if action == "suspend" else adapter.unsuspend(assignment)
        )
    return result.message


def _record_suspension(
    conn: Connection,
    standing: Standing,
    decision: Decision,
    service: Service,
    now: datetime,
    zone: ZoneInfo,
) -> bool:
    reason = ZERO_BALANCE_REASON if decision.automatic else MANUAL_REASON
    set_service_status(conn, service.id, ServiceStatus.SUSPENDED, suspend_reason=reason)
    set_client_field(conn, standing.client_id, VOIP_SUSPENDED, YES, at=to_whmcs_time(now, zone))
    if open_suspension(conn, standing.client_id) is not None:
        return False
    suspension = start_suspension(
        conn, standing.client_id, "auto" if decision.automatic else "manual", now=now
    )
    if not decision.automatic:
        return False
    return queue_mail(
        conn,
        ZERO_BALANCE_TEMPLATE,
        standing.client_id,
        f"zero-balance:{standing.client_id}:{suspension.id}",
        now=now,
    )


def _record_unsuspension(
    conn: Connection, standing: Standing, service: Service, now: datetime, zone: ZoneInfo
) -> None:
    set_service_status(conn, service.id, ServiceStatus.ACTIVE)
    still = [
        other
        for other in list_voip_services(conn, standing.client_id)
        if other.status is ServiceStatus.SUSPENDED and suspended_by_the_bridge(other.suspend_reason)
    ]
    if still:
        return
    end_suspension(conn, standing.client_id, now=now)
    if standing.fields.get(VOIP_SUSPENDED) == YES:
        set_client_field(
            conn, standing.client_id, VOIP_SUSPENDED, NONE, at=to_whmcs_time(now, zone)
        )
