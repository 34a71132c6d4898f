"""``bridge run [JOB]``: run a billing job from the command line, or list them.

Progress bars and debug traces go to stderr, the summary (or with ``--json`` one JSON object) to
stdout. Exit status: 0 when everything succeeded (or the run was skipped because another holds
the job's lock), 1 when some services or clients failed (listed; retried next run), 2 for a usage
or configuration error (DESIGN.md §6).
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime
from typing import Any

from rich import progress
from rich.console import Console
from rich.table import Table

from bridge.clock import require_plausible, utc_now
from bridge.commands import record_id
from bridge.db import open_database
from bridge.errors import InvalidRequest
from bridge.jobs import JOBS
from bridge.jobs.base import JobContext, JobReport, run_job
from bridge.jobs.rerate import parse_period
from bridge.settings import Settings

EXIT_FAILURES = 1


def run_jobs(args: argparse.Namespace, settings: Settings) -> int:
    """List the jobs, or run one and print its report."""
    if args.job is None:
        _list_jobs()
        return 0
    spec = JOBS.get(args.job)
    if spec is None:
        raise InvalidRequest(f"No job {args.job!r}; `bridge run` lists them: {', '.join(JOBS)}.")
    now = _parse_now(args.now, settings) if args.now else utc_now()
    if args.period:
        parse_period(args.period)  # refused here, before anything is opened or locked
    options = {"period": args.period} if args.period else {}
    console = Console(stderr=True)
    with (
        open_database(settings) as database,
        progress.Progress(
            progress.TextColumn("{task.description}"),
            progress.BarColumn(),
            progress.MofNCompleteColumn(),
            console=console,
            transient=True,
        ) as bar,
    ):
        task = bar.add_task(args.job, total=None)

        def advance(what: str, done: int, total: int | None) -> None:
            bar.update(task, description=what, completed=done, total=total)

        context = JobContext(
            database=database,
            settings=settings,
            now=now,
            dry_run=args.dry_run,
            debug=args.debug,
            service_id=args.service,
            options=options,
            progress=advance,
        )
        report = run_job(spec, context)
    if args.debug:
        for line in report.debug:
            print(line, file=sys.stderr)
    if args.json:
        print(json.dumps(report.to_json()))
    else:
        _print_report(report)
    return 0 if report.ok else EXIT_FAILURES


def _list_jobs() -> None:
    table = Table(title="Jobs (bridge run JOB, or POST /v1/cron/JOB)")
    for heading in ("Job", "When", "What"):
        table.add_column(heading)
    for spec in JOBS.values():
        table.add_row(spec.name, spec.schedule, spec.description)
    Console().print(table)


def _print_report(report: JobReport) -> None:
    for line in report.details:
        print(line)
    for error in report.errors:
        print(f"FAILED {error.subject}: {error.message} (retried next run)")
    money = ", ".join(f"{amount} {code}" for code, amount in sorted(report.money.items()))
    print(f"{report.job}: {report.summary}" + (f"; money: {money}" if money else ""))


def _parse_now(text: str, settings: Settings) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidRequest(
            f"--now {text!r} is not an ISO date and time (e.g. 2026-12-14T00:55)"
        ) from None
    require_plausible(value, what="--now")
    # A time without an offset is WHMCS's wall clock, as a cron line in BRIDGE_TIMEZONE means it.
    return value if value.tzinfo else value.replace(tzinfo=settings.timezone)


def add_commands(commands: Any) -> None:
    """Register ``bridge run`` on the ``bridge`` argument parser."""
    run = commands.add_parser("run", help="run a billing job (or list them)")
    run.add_argument("job", nargs="?", help=f"one of: {', '.join(JOBS)}")
    run.add_argument("--dry-run", action="store_true", help="compute and report; write nothing")
    run.add_argument("--debug", action="store_true", help="print rating traces to stderr")
    run.add_argument("--json", action="store_true", help="print the report as one JSON object")
    run.add_argument("--now", help="run as if it were this time (ISO; WHMCS's zone if no offset)")
    run.add_argument("--service", type=record_id, help="only this WHMCS service id")
    run.add_argument("--period", help="rerate: the billed period, START..END (ISO dates)")
    run.set_defaults(run=run_jobs)
