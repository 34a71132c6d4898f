"""``rerate --service ID --period START..END``: a billed period rated again, the difference posted.

After a tariff or package fix, the service's billed calls of the period are rated with today's
plan; more than was posted becomes one billable item, less one credit, each saying what it
adjusts (:func:`bridge.usecases.billing.rerate_period`). A second run posts nothing more.
"""

from __future__ import annotations

from datetime import date

from bridge.clock import require_plausible
from bridge.errors import BridgeError, InvalidRequest
from bridge.jobs.autobill import INVOICE_ACTIONS
from bridge.jobs.base import JobContext, JobReport, JobSpec, ReportBuilder
from bridge.usecases.billing import rerate_period
from bridge.usecases.usage import RatePlans
from bridge.whmcs.cycles import BillingPeriod
from bridge.whmcs.services import get_service


def parse_period(text: str) -> BillingPeriod:
    """Return ``START..END`` (ISO dates, end exclusive) as a billing period."""
    start, sep, end = text.partition("..")
    try:
        if not sep:
            raise ValueError(text)
        first, last = date.fromisoformat(start.strip()), date.fromisoformat(end.strip())
    except ValueError:
        raise InvalidRequest(
            f"--period {text!r} is not START..END in ISO dates, e.g. 2026-11-14..2026-12-14"
        ) from None
    for day in (first, last):
        require_plausible(day, what="--period")
    return BillingPeriod(first, last)


def run(context: JobContext) -> JobReport:
    """Re-rate one service's billed period and post the difference."""
    if context.service_id is None or "period" not in context.options:
        raise InvalidRequest("rerate needs --service ID and --period START..END.")
    period = parse_period(context.options["period"])
    report = ReportBuilder()
    try:
        with context.database.transaction() as conn:
            result = rerate_period(
                conn,
                get_service(conn, context.service_id),
                period,
                plans=RatePlans(),
                today=context.today,
                now=context.now,
                invoice_action=INVOICE_ACTIONS[context.settings.invoice_action],
                debug=context.debug,
            )
    except BridgeError as exc:
        report.error(f"service #{context.service_id}", exc.message)
        return report.build("rerate", context, f"service #{context.service_id}: not re-rated")
    bill = result.bill
    report.count("calls_rerated", bill.calls)
    report.count("calls_changed", result.changed_calls)
    report.add_money(bill.currency, result.difference)
    report.details.extend(line.text for line in bill.lines)
    report.debug.extend(bill.traces)
    verdict = (
        "nothing to post"
        if result.difference == 0
        else f"{'billed' if result.difference > 0 else 'credited'} {abs(result.difference)}"
    )
    summary = (
        f"service #{bill.service_id} {bill.period}: posted {result.previously}, worth "
        f"{result.now_worth} now; {verdict} {bill.currency}"
    )
    return report.build("rerate", context, summary)


JOB = JobSpec(
    "rerate",
    "re-rate a billed period after a rate fix and post the difference (on demand)",
    "on demand",
    run,
)
