"""Fixtures for the billing jobs: the data set, and a way to run a job as cron would."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from sqlalchemy.engine import Connection

from bridge.db import BoundDatabase
from bridge.jobs import JOBS
from bridge.jobs.base import JobContext, JobReport, run_job
from bridge.settings import Settings
from tests.jobs.billing_data import BillingData, seed_billing_data

RunJob = Callable[..., JobReport]


@pytest.fixture(name="data")
def _data(conn: Connection, sql_mode: str) -> BillingData:
    """The billing data set, in the test's rolled-back transaction, under each SQL mode."""
    return seed_billing_data(conn)


@pytest.fixture(name="run")
def _run(conn: Connection, settings: Settings) -> RunJob:
    """Run a job by name at a given time on the test's connection (transactions are savepoints)."""

    def run(name: str, now: datetime, **options: object) -> JobReport:
        context = JobContext(
            database=BoundDatabase(conn), settings=settings, now=now.astimezone(UTC)
        )
        return run_job(JOBS[name], dataclasses.replace(context, **options))  # type: ignore[arg-type]

    return run
