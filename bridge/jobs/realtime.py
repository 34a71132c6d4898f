"""``realtime`` (every 5 minutes): the cost of new calls taken from the client's credit.

For every live service whose package bills in real time, the calls not billed yet are rated
(free minutes per billing period) and their cost deducted from the client's credit in whole
cents, one WHMCS credit-ledger row per service per run, each call once
(:func:`bridge.usecases.billing.take_realtime_usage`).
"""

from __future__ import annotations

from bridge.errors import BridgeError
from bridge.jobs.base import JobContext, JobReport, JobSpec, ReportBuilder
from bridge.store.ledger import list_services_with_unbilled_calls
from bridge.usecases.billing import service_label, take_realtime_usage
from bridge.usecases.usage import RatePlans
from bridge.whmcs.services import get_services


def run(context: JobContext) -> JobReport:
    """Take the usage of every real-time service (or only ``--service``) from credit."""
    report = ReportBuilder()
    plans = RatePlans()
    with context.database.transaction() as conn:
        waiting = list_services_with_unbilled_calls(conn, before=context.now)
        services = [
            service
            for service in get_services(conn, waiting)
            if service.live and context.service_id in (None, service.id)
        ]
    for done, service in enumerate(services, start=1):
        context.advance("charging services", done, len(services))
        try:
            with context.database.transaction() as conn:
                if not plans.plan_for(conn, service.product).realtime_billing:
                    continue
                bills = take_realtime_usage(
                    conn,
                    service,
                    plans=plans,
                    zone=context.settings.timezone,
                    today=context.today,
                    now=context.now,
                    debug=context.debug,
                )
        except BridgeError as exc:
            report.error(f"service #{service.id}", exc.message)
            continue
        report.count("services_charged")
        for bill in bills:
            report.count("calls_billed", bill.calls)
            report.add_money(bill.currency, bill.amount)
            report.details.append(
                f"service #{service.id} {service_label(service)}, {bill.period}: {bill.calls} "
                f"call(s), {bill.amount} {bill.currency} taken from credit"
            )
            report.debug.extend(bill.traces)
    summary = (
        f"{report.counts['services_charged']} service(s) charged for "
        f"{report.counts['calls_billed']} call(s); {len(report.errors)} failed"
    )
    return report.build("realtime", context, summary)


JOB = JobSpec(
    "realtime",
    "take new calls' cost from real-time clients' credit (every 5 minutes)",
    "*/5 * * * *",
    run,
)
