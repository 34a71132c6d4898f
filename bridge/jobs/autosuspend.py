"""``autosuspend`` (every 5 minutes): VoIP clients suspended and unsuspended on their balance.

For every client whose "Has VoIP Service" is Yes, the truth table of
:mod:`bridge.usecases.autosuspend` decides; services that disagree are changed on their PBX
first and in WHMCS only once the PBX confirmed; an automatic suspension queues its one
"VoIP Zero Balance" mail, sent after the changes are committed. A PBX that fails is reported
for that service and tried again next run.
"""

from __future__ import annotations

from bridge.errors import BridgeError
from bridge.jobs.base import JobContext, JobReport, JobSpec, ReportBuilder, deliver_queued_mail
from bridge.usecases.autosuspend import Target, decide, enforce, needs_change
from bridge.usecases.voip_state import (
    HAS_VOIP,
    LOW_BALANCE_THRESHOLD,
    MANUAL_SUSPEND,
    VOIP_SUSPENDED,
    YES,
)
from bridge.whmcs.services import get_services, list_voip_service_states
from bridge.whmcs.standings import list_standings

FIELDS = (HAS_VOIP, MANUAL_SUSPEND, VOIP_SUSPENDED, LOW_BALANCE_THRESHOLD)


def run(context: JobContext) -> JobReport:
    """Suspend or unsuspend every VoIP client's services as their standing says."""
    report = ReportBuilder()
    with context.database.transaction() as conn:
        standings = list_standings(conn, FIELDS, where=(HAS_VOIP, YES))
        states = list_voip_service_states(conn)
    report.count("clients_checked", len(standings))
    for done, standing in enumerate(standings, start=1):
        context.advance("checking clients", done, len(standings))
        decision = decide(standing)
        report.count(f"clients_{decision.target.value}")
        mine = [
            state
            for state in states.get(standing.client_id, [])
            if context.service_id in (None, state.id)
        ]
        if not any(needs_change(decision, state) for state in mine):
            continue
        try:
            with context.database.transaction() as conn:
                own = get_services(conn, [state.id for state in mine])
            result = enforce(
                context.database,
                standing,
                decision,
                own,
                adapters=context.adapters,
                key=context.settings.encryption_key,
                now=context.now,
                zone=context.settings.timezone,
                dry_run=context.dry_run,
            )
        except BridgeError as exc:
            report.error(f"client #{standing.client_id}", exc.message)
            continue
        report.emails_queued += int(result.mail_queued)
        for change in result.changes:
            subject = f"service #{change.service_id} (client #{standing.client_id})"
            if not change.ok:
                report.error(subject, f"not {change.action}ed: {change.message}")
                continue
            verb = "suspended" if decision.target is Target.SUSPENDED else "unsuspended"
            report.count(f"services_{verb}")
            report.details.append(f"{subject} {verb} ({decision.rule}): {change.message}")
    deliver_queued_mail(context, report)
    summary = (
        f"{report.counts['clients_checked']} VoIP client(s) checked: "
        f"{report.counts['services_suspended']} service(s) suspended, "
        f"{report.counts['services_unsuspended']} unsuspended, "
        f"{report.emails_queued} mail(s) queued; {len(report.errors)} failed"
    )
    return report.build("autosuspend", context, summary)


JOB = JobSpec(
    "autosuspend",
    "suspend and unsuspend VoIP clients on their balance (every 5 minutes)",
    "*/5 * * * *",
    run,
)
