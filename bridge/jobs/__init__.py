"""Thin orchestrators run by cron or the command line: read, compute, write, report.

Each job module defines ``JOB`` (a :class:`~bridge.jobs.base.JobSpec`); :data:`JOBS` lists them in
the order a day runs them. ``bridge run JOB`` and ``POST /v1/cron/JOB`` both go through
:func:`~bridge.jobs.base.run_job`.
"""

from __future__ import annotations

from collections.abc import Mapping

from bridge.jobs import autobill, autosuspend, collect, daily, realtime, rerate
from bridge.jobs.base import JobSpec

JOBS: Mapping[str, JobSpec] = {
    job.name: job
    for job in (collect.JOB, realtime.JOB, autosuspend.JOB, autobill.JOB, daily.JOB, rerate.JOB)
}
