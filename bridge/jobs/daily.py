"""``daily`` (once a day): "Low Balance Alert" for clients at or below their threshold.

A client whose "Low Balance Threshold" custom field is a number (blank switches the alert off)
and whose credit is at or below it gets the alert at most once per calendar day in
``BRIDGE_TIMEZONE`` (the outbox key holds the day), and again each later day while the credit
stays there. A threshold that is not a number is reported for that client; the others go on.
"""

from __future__ import annotations

import re
from decimal import Decimal

from bridge.errors import BridgeError, EmailTemplateDisabled, EmailTemplateNotFound
from bridge.jobs.base import JobContext, JobReport, JobSpec, ReportBuilder, deliver_queued_mail
from bridge.usecases.mail import queue_mail
from bridge.usecases.voip_state import LOW_BALANCE_THRESHOLD
from bridge.whmcs.standings import list_standings

LOW_BALANCE_TEMPLATE = "Low Balance Alert"
# What admins type: 10, 10.00, $10, 1,000.50 — a plain amount, optionally with a currency sign.
_AMOUNT = re.compile(r"[$£€]?\s*(\d{1,9}(?:,\d{3})*(?:\.\d{1,2})?|\d{1,12}(?:\.\d{1,2})?)")


def parse_threshold(text: str) -> Decimal | None:
    """Return a threshold such as ``10`` or ``$10.00`` as an amount, or ``None`` if not one."""
    found = _AMOUNT.fullmatch(text.strip())
    return Decimal(found.group(1).replace(",", "")) if found else None


def run(context: JobContext) -> JobReport:
    """Queue today's Low Balance Alert for every client at or below their threshold."""
    report = ReportBuilder()
    today = context.today
    with context.database.transaction() as conn:
        standings = [
            s
            for s in list_standings(conn, (LOW_BALANCE_THRESHOLD,))
            if s.fields[LOW_BALANCE_THRESHOLD]
        ]
    report.count("clients_with_a_threshold", len(standings))
    for done, standing in enumerate(standings, start=1):
        context.advance("checking balances", done, len(standings))
        text = standing.fields[LOW_BALANCE_THRESHOLD]
        threshold = parse_threshold(text)
        if threshold is None:
            report.error(
                f"client #{standing.client_id}",
                f"Low Balance Threshold {text[:40]!r} is not an amount; fix it in the client's "
                "custom fields (e.g. 10 or 10.00), or leave it blank for no alert",
            )
            continue
        if standing.credit > threshold:
            continue
        report.count("clients_at_or_below")
        key = f"low-balance:{standing.client_id}:{today.isoformat()}"
        try:
            with context.database.transaction() as conn:
                queued = queue_mail(
                    conn, LOW_BALANCE_TEMPLATE, standing.client_id, key, now=context.now
                )
        except (EmailTemplateNotFound, EmailTemplateDisabled) as exc:
            # Every client would fail the same way: say it once, not once per client.
            report.error(f"template {LOW_BALANCE_TEMPLATE!r}", exc.message)
            break
        except BridgeError as exc:
            report.error(f"client #{standing.client_id}", exc.message)
            continue
        report.emails_queued += int(queued)
        if queued:
            report.details.append(
                f"client #{standing.client_id}: credit {standing.credit} {standing.currency_code} "
                f"at or below {threshold}: {LOW_BALANCE_TEMPLATE} queued"
            )
    deliver_queued_mail(context, report)
    summary = (
        f"{report.counts['clients_at_or_below']} client(s) at or below their threshold, "
        f"{report.emails_queued} alert(s) queued; {len(report.errors)} failed"
    )
    return report.build("daily", context, summary)


JOB = JobSpec(
    "daily", "Low Balance Alert for clients at or below their threshold (daily)", "0 8 * * *", run
)
