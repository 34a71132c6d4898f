"""``autobill`` (daily, before WHMCS's daily cron): usage of due services into billable items.

A service is due when its next due date is today or has passed: its calls not billed yet that
started before that date are billed, period by period, one billable item per invoice line
(:func:`bridge.usecases.billing.bill_service_usage`). A missed day is caught up by the next run
and nothing is billed twice, whatever ``--now`` says: the ledger's unique key sees to it. Services
whose package bills in real time are skipped (their usage was taken from credit already).
"""

from __future__ import annotations

from datetime import timedelta

from bridge.errors import BridgeError
from bridge.jobs.base import JobContext, JobReport, JobSpec, ReportBuilder
from bridge.store.ledger import list_services_with_unbilled_calls
from bridge.usecases.billing import bill_service_usage, midnight, service_label
from bridge.usecases.usage import RatePlans
from bridge.whmcs.money import InvoiceAction
from bridge.whmcs.services import Service, get_services

INVOICE_ACTIONS = {
    "next-cron": InvoiceAction.NEXT_CRON,
    "next-invoice": InvoiceAction.NEXT_INVOICE,
    "due-date": InvoiceAction.DUE_DATE,
    "no-invoice": InvoiceAction.NO_INVOICE,
}


def run(context: JobContext) -> JobReport:
    """Bill the usage of every due service (or only ``--service``)."""
    report = ReportBuilder()
    plans = RatePlans()
    zone = context.settings.timezone
    today = context.today
    action = INVOICE_ACTIONS[context.settings.invoice_action]
    with context.database.transaction() as conn:
        waiting = list_services_with_unbilled_calls(
            conn, before=midnight(today + timedelta(days=1), zone)
        )
        services = [s for s in get_services(conn, waiting) if _due(s, context)]
    for done, service in enumerate(services, start=1):
        context.advance("billing services", done, len(services))
        try:
            with context.database.transaction() as conn:
                if plans.plan_for(conn, service.product).realtime_billing:
                    report.count("skipped_realtime_services")
                    continue
                bills = bill_service_usage(
                    conn,
                    service,
                    plans=plans,
                    zone=zone,
                    today=today,
                    now=context.now,
                    invoice_action=action,
                    debug=context.debug,
                )
        except BridgeError as exc:
            report.error(f"service #{service.id}", exc.message)
            continue
        report.count("services_billed")
        for bill in bills:
            posted = [line for line in bill.lines if line.posted]
            report.count("calls_billed", bill.calls)
            report.count("billable_items", len(posted))
            report.count("zero_lines_not_posted", len(bill.lines) - len(posted))
            report.add_money(bill.currency, bill.amount)
            report.details.append(
                f"service #{service.id} {service_label(service)}, {bill.period}: {bill.calls} "
                f"call(s), {len(posted)} billable item(s), {bill.amount} {bill.currency}"
            )
            report.debug.extend(line.text for line in bill.lines)
            report.debug.extend(bill.traces)
    summary = (
        f"{report.counts['services_billed']} service(s) billed: "
        f"{report.counts['billable_items']} billable item(s) for "
        f"{report.counts['calls_billed']} call(s); {len(report.errors)} failed"
    )
    return report.build("autobill", context, summary)


def _due(service: Service, context: JobContext) -> bool:
    if context.service_id is not None and service.id != context.service_id:
        return False
    return (
        service.live
        and service.next_due_date is not None
        and service.next_due_date <= context.today
    )


JOB = JobSpec(
    "autobill",
    "bill due services' usage as WHMCS billable items (daily, before WHMCS's cron)",
    "55 0 * * *",
    run,
)
