"""``collect`` (every 5 minutes): new calls from every VoIP server into the CDR store."""

from __future__ import annotations

from bridge.jobs.base import JobContext, JobReport, JobSpec, ReportBuilder
from bridge.usecases.cdr_intake import collect_cdrs


def run(context: JobContext) -> JobReport:
    """Collect new CDRs (:func:`bridge.usecases.cdr_intake.collect_cdrs`) and report them."""
    report = ReportBuilder()
    collected = collect_cdrs(
        context.database,
        key=context.settings.encryption_key,
        now=context.now,
        adapters=context.adapters,
        progress=lambda scope, count: context.advance(f"collecting {scope}", count, None),
    )
    for scope in collected.scopes:
        where = f"server #{scope.server_id} {scope.scope}"
        if scope.error:
            report.error(where, scope.error)
            continue
        report.details.append(
            f"{where}: {scope.inserted} new, {scope.duplicates} already stored, "
            f"{scope.unassigned} with no service, {scope.quarantined} quarantined"
        )
    report.count("calls_stored", collected.inserted)
    report.count("calls_unassigned", collected.unassigned)
    report.count("calls_filed_late", collected.reattributed)
    report.count("records_quarantined", collected.quarantined)
    summary = (
        f"{collected.inserted} new call(s) stored, {collected.unassigned} with no service, "
        f"{collected.reattributed} earlier call(s) filed; {len(report.errors)} scope(s) failed"
    )
    if collected.quarantined:
        summary += f"; {collected.quarantined} record(s) quarantined (bridge doctor lists them)"
    return report.build("collect", context, summary)


JOB = JobSpec(
    "collect", "pull new CDRs from every VoIP server (every 5 minutes)", "*/5 * * * *", run
)
