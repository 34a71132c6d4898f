"""What every job shares: its context, its report, and the one way to run it.

A job is a function ``run(context) -> JobReport`` (one module per job in ``bridge/jobs/``). It
loops over its services or clients, calls a use case for each in its own transaction, and
records what happened in a :class:`ReportBuilder`: a failing service is an error in the report
(retried next run), never the end of the run. :func:`run_job` is the only way in, from the CLI
(``bridge run``), the cron endpoint (``POST /v1/cron/JOB``) and tests alike: it takes the job's
lock (:mod:`bridge.store.locks`; an overlapping run is skipped, with a message) and, for
``dry_run``, hands the job a database whose every transaction is rolled back.
"""

from __future__ import annotations

import dataclasses
import os
import socket
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from bridge.clock import whmcs_today
from bridge.db import Database, DryRunDatabase
from bridge.modules.registry import AdapterFactory, make_adapter
from bridge.settings import Settings
from bridge.store.locks import job_lock
from bridge.usecases.mail import deliver_mail

Progress = Callable[[str, int, int | None], None]


@dataclass(frozen=True, slots=True)
class JobContext:
    """Everything a job run needs: the database, settings, the clock reading and the options."""

    database: Database
    settings: Settings
    now: datetime
    dry_run: bool = False
    debug: bool = False
    service_id: int | None = None
    options: Mapping[str, str] = field(default_factory=dict)
    adapters: AdapterFactory = make_adapter
    # Called with (what, done, total) as the job works through its services or clients.
    progress: Progress | None = None

    @property
    def today(self) -> date:
        """Return WHMCS's calendar date at ``now`` (``BRIDGE_TIMEZONE``)."""
        return whmcs_today(self.now, self.settings.timezone)

    def advance(self, what: str, done: int, total: int | None) -> None:
        """Report progress, when someone listens."""
        if self.progress is not None:
            self.progress(what, done, total)


@dataclass(frozen=True, slots=True)
class JobError:
    """One service, client or server the job could not finish; it is retried next run."""

    subject: str
    message: str


@dataclass(frozen=True, slots=True)
class JobReport:
    """What a job run did, JSON-able: counts, money per currency, mail queued, errors."""

    job: str
    now: datetime
    dry_run: bool
    summary: str
    counts: Mapping[str, int] = field(default_factory=dict)
    money: Mapping[str, Decimal] = field(default_factory=dict)
    emails_queued: int = 0
    errors: tuple[JobError, ...] = ()
    details: tuple[str, ...] = ()
    debug: tuple[str, ...] = ()
    skipped: str = ""

    @property
    def ok(self) -> bool:
        """Tell whether every service or client was dealt with."""
        return not self.errors

    def to_json(self) -> dict[str, Any]:
        """Return the report as JSON types (amounts as strings, times in ISO 8601)."""
        return {
            "job": self.job,
            "now": self.now.isoformat(),
            "dry_run": self.dry_run,
            "ok": self.ok,
            "summary": self.summary,
            "skipped": self.skipped,
            "counts": dict(self.counts),
            "money": {code: str(amount) for code, amount in sorted(self.money.items())},
            "emails_queued": self.emails_queued,
            "errors": [{"subject": e.subject, "message": e.message} for e in self.errors],
            "details": list(self.details),
            "debug": list(self.debug),
        }


@dataclass
class ReportBuilder:
    """Collects what a job does as it goes; :meth:`build` freezes it into a :class:`JobReport`."""

    counts: Counter[str] = field(default_factory=Counter)
    money: dict[str, Decimal] = field(default_factory=dict)
    emails_queued: int = 0
    errors: list[JobError] = field(default_factory=list)
    details: list[str] = field(default_factory=list)
    debug: list[str] = field(default_factory=list)

    def count(self, name: str, by: int = 1) -> None:
        """Add ``by`` to the counter ``name``."""
        self.counts[name] += by

    def add_money(self, currency: str, amount: Decimal) -> None:
        """Add an amount moved, in one currency (never summed across currencies)."""
        self.money[currency] = self.money.get(currency, Decimal(0)) + amount

    def error(self, subject: str, message: str) -> None:
        """Record a service, client or server the run could not finish."""
        self.errors.append(JobError(subject, message))

    def build(self, job: str, context: JobContext, summary: str) -> JobReport:
        """Return the finished report."""
        return JobReport(
            job=job,
            now=context.now,
            dry_run=context.dry_run,
            summary=("dry run, nothing written: " if context.dry_run else "") + summary,
            counts=dict(self.counts),
            money=dict(self.money),
            emails_queued=self.emails_queued,
            errors=tuple(self.errors),
            details=tuple(self.details),
            debug=tuple(self.debug),
        )


JobRun = Callable[[JobContext], JobReport]


@dataclass(frozen=True, slots=True)
class JobSpec:
    """A job as the CLI and the cron endpoint list it."""

    name: str
    description: str
    schedule: str
    run: JobRun


def run_job(spec: JobSpec, context: JobContext) -> JobReport:
    """Run ``spec`` under its lock (skipped when another run holds it), or as a dry run."""
    if context.dry_run:
        # A dry run writes nothing, so it needs no lock and does not hold up a real run.
        return spec.run(dataclasses.replace(context, database=DryRunDatabase(context.database)))
    holder = f"{socket.gethostname()}:{os.getpid()}"
    with job_lock(context.database, spec.name, holder=holder, now=context.now) as held:
        if not held:
            return JobReport(
                job=spec.name,
                now=context.now,
                dry_run=False,
                summary=f"skipped: another {spec.name} run is in progress",
                skipped="locked",
            )
        return spec.run(context)


def deliver_queued_mail(context: JobContext, report: ReportBuilder) -> None:
    """Send the mail the run queued (after its transactions committed), and say how it went.

    A message that cannot go out now stays queued for the next run; that is not the run's
    failure, so it is reported as a count and a line, not as an error.
    """
    if context.dry_run:
        return
    delivery = deliver_mail(context.database, context.settings, now=context.now)
    report.count("emails_sent", len(delivery.sent))
    if delivery.error:
        report.details.append(f"mail not delivered, it stays queued: {delivery.error}")
    for failure in delivery.failures:
        state = "stays queued" if failure.will_retry else "given up"
        report.details.append(
            f"mail {failure.template_name!r} to client #{failure.client_id} {state}: "
            f"{failure.error}"
        )
