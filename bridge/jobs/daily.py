"""``daily`` (once a day): "Low Balance Alert" for clients at or below their threshold.

A client whose "Low Balance Threshold" custom field is a number (blank switches the alert off)
and whose credit is at or below it gets the alert at most once per calendar day in
``BRIDGE_TIMEZONE`` (the outbox key holds the day), and again each later day while the credit
stays there. A threshold that is not a number is reported for that client; the others go on.
"""

from __future__ import annotations

import re
from decimal import Decimal

from bridge.errors import EmailTemplateDisabled, EmailTemplateNotFound
from bridge.jobs.base import JobContext, JobReport, JobSpec, ReportBuilder, deliver_queued_mail
from bridge.usecases.mail import queue_mails
from bridge.usecases.voip_state import LOW_BALANCE_THRESHOLD
from bridge.whmcs.standings import list_standings

LOW_BALANCE_TEMPLATE = "Low Balance Alert"
# Alerts queued per transaction: a daily pass over 100,000 clients commits a few dozen times.
CHUNK = 1000
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
    due: list[tuple[int, str]] = []
    for standing in standings:
        text = standing.fields[LOW_BALANCE_THRESHOLD]
        threshold = parse_threshold(text)
        if threshold is None:
            report.error(
                f"client #{standing.client_id}",
                f"Low Balance Threshold {text[:40]!r} is not an amount; fix it in the client's "
                "custom fields (e.g. 10 or 10.00), or leave it blank for no alert",
            )
        elif standing.credit <= threshold:
            due.append((standing.client_id, f"low-balance:{standing.client_id}:{today}"))
    report.count("clients_at_or_below", len(due))
    for start in range(0, len(due), CHUNK):
        context.advance("queueing alerts", start, len(due))
        try:
            with context.database.transaction() as conn:
                queued = queue_mails(
                    conn, LOW_BALANCE_TEMPLATE, due[start : start + CHUNK], now=context.now
                )
        except (EmailTemplateNotFound, EmailTemplateDisabled) as exc:
            report.error(f"template {LOW_BALANCE_TEMPLATE!r}", exc.message)
            break
        report.emails_queued += queued
    deliver_queued_mail(context, report)
    summary = (
        f"{report.counts['clients_at_or_below']} client(s) at or below their threshold, "
        f"{report.emails_queued} alert(s) queued; {len(report.errors)} failed"
    )
    return report.build("daily", context, summary)


JOB = JobSpec(
    "daily", "Low Balance Alert for clients at or below their threshold (daily)", "0 8 * * *", run
)
