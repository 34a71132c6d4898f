"""The billing part of the demo: the jobs run on the demo data, and what they did.

:func:`run_demo_jobs` runs the billing jobs through the same runner as cron, in the order a day
runs them: ``realtime`` takes the prepaid (Vodia) client's calls from his credit, ``autosuspend``
suspends whoever owes more than they hold, ``daily`` queues the Low Balance Alerts, and
``autobill`` — run as of the services' next due date, as the cron line before WHMCS's daily run
would — adds the metered usage as billable items. Mail goes to a folder beside the demo
database (the file transport), never to the network. The demo's PBXes exist only on paper, so
suspensions are answered by :class:`PaperPbx`, which changes nothing anywhere and says so.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from pathlib import Path

from sqlalchemy.engine import Connection

from bridge.calls import CollectedCdr
from bridge.db import Database
from bridge.jobs import JOBS
from bridge.jobs.base import JobContext, JobReport, run_job
from bridge.modules.assignment import Assignment
from bridge.modules.base import (
    ActionResult,
    CollectionPlan,
    ConnectionCheck,
    Health,
    PbxAdapter,
    PbxServer,
    TimeWindow,
)
from bridge.settings import MailSettings, Settings
from bridge.usecases.mail import list_outbox, render_entry
from bridge.whmcs.money import list_billable_items, list_credit_movements

NOT_CONTACTED = "demo PBX {name}: nothing contacted (a real server would {action} the service)"


class PaperPbx(PbxAdapter):
    """The demo's stand-in for its fictional PBX hosts: answers every action, changes nothing."""

    def __init__(self, server: PbxServer) -> None:
        self.server = server

    def collection_plan(self) -> CollectionPlan:
        """Collect per service, like Vodia (the demo never collects)."""
        return CollectionPlan(per_service=True, recorded=False, lookback=timedelta(hours=6))

    def test_connection(self) -> ConnectionCheck:
        """Say that there is no real PBX behind the demo."""
        return ConnectionCheck(False, f"{self.server.name} is a demo server; nothing to reach")

    def fetch_cdrs(
        self, assignment: Assignment | None, window: TimeWindow
    ) -> Iterator[CollectedCdr]:
        """Deliver no calls: the demo's calls are stored by the demo itself."""
        return iter(())

    def create(self, assignment: Assignment) -> ActionResult:
        """Answer as the PBX would, without contacting anything."""
        return self._answer("create")

    def suspend(self, assignment: Assignment) -> ActionResult:
        """Answer as the PBX would, without contacting anything."""
        return self._answer("suspend")

    def unsuspend(self, assignment: Assignment) -> ActionResult:
        """Answer as the PBX would, without contacting anything."""
        return self._answer("unsuspend")

    def terminate(self, assignment: Assignment) -> ActionResult:
        """Answer as the PBX would, without contacting anything."""
        return self._answer("terminate")

    def health(self) -> Health:
        """Report the demo server as not there."""
        return Health(False, 0.0, "demo server")

    def close(self) -> None:
        """Nothing to release."""

    def _answer(self, action: str) -> ActionResult:
        return ActionResult(NOT_CONTACTED.format(name=self.server.name, action=action))


def run_demo_jobs(
    database: Database, settings: Settings, *, now: datetime, due: date, outbox: Path
) -> tuple[JobReport, ...]:
    """Run realtime, autosuspend and daily now, and autobill as of ``due``; mail to ``outbox``."""
    demo = dataclasses.replace(settings, mail=MailSettings(transport="file", outbox_dir=outbox))
    on_due = datetime.combine(due, time(0, 55), tzinfo=settings.timezone)
    runs = (("realtime", now), ("autosuspend", now), ("daily", now), ("autobill", on_due))
    return tuple(
        run_job(JOBS[job], JobContext(database, demo, at, adapters=PaperPbx)) for job, at in runs
    )


def describe_billing(conn: Connection, reports: tuple[JobReport, ...]) -> str:
    """Return what the jobs did: their summaries, the items and credit posted, the mail queued."""
    lines = []
    for report in reports:
        lines.append(f"{report.job} ({report.now:%Y-%m-%d %H:%M}): {report.summary}")
        lines.extend(f"  {detail}" for detail in report.details)
        lines.extend(f"  FAILED {e.subject}: {e.message}" for e in report.errors)
    lines.append("\nBillable items added (WHMCS invoices them on its next cron run):")
    for item in list_billable_items(conn):
        lines.append(f"  client #{item.client_id}, {item.amount}: {_one_line(item.description)}")
    lines.append("\nCredit movements:")
    for movement in list_credit_movements(conn):
        lines.append(f"  client #{movement.client_id}, {movement.amount}: {movement.description}")
    lines.append("\nEmails (written to the demo's mail folder, never sent):")
    for entry in list_outbox(conn):
        mail = render_entry(conn, entry)
        lines.append(f"  [{entry.status}] to {mail.to_email}: {mail.subject}")
        lines.extend(f"    {line}" for line in mail.body.splitlines())
    return "\n".join(lines)


def _one_line(text: str) -> str:
    return " / ".join(part.strip() for part in text.splitlines() if part.strip())
