"""Real processes on a committed MariaDB database: jobs killed at random moments (SIGKILL) and
run again, and two runs of one job at once, bill exactly what one clean run bills.
"""

from __future__ import annotations

import random
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, Engine

from bridge.store.tariffs import import_tariff
from tests.bridge_cli import BRIDGE, bridge_env, run_bridge
from tests.conftest import throwaway_whmcs_database
from tests.jobs.billing_data import RATE_CARD, SEEDED_AT, billing_state, seed_billing_data

NOW = "2026-12-01T00:55:00+00:00"
# Eight kills for each of three jobs: 24 random moments in all.
KILLS = 8
# Everything the jobs write, restored between runs to the state before the job.
WRITTEN = (
    "mod_voipbridge_billed_calls",
    "mod_voipbridge_postings",
    "mod_voipbridge_realtime_totals",
    "mod_voipbridge_job_locks",
    "tblbillableitems",
    "tblcredit",
    "tblclients",
)


@dataclass
class Workbench:
    """A committed database with the data set, and a way back to its state before a job."""

    url: URL
    engine: Engine
    saved: dict[str, list[dict[str, Any]]]

    def env(self) -> dict[str, str]:
        """Return the environment `bridge` runs with against this database."""
        return bridge_env(BRIDGE_DATABASE_URL=self.url.render_as_string(hide_password=False))

    def save(self) -> None:
        """Remember the current rows of every table the jobs write."""
        with self.engine.connect() as conn:
            self.saved = {
                table: [
                    dict(row) for row in conn.execute(text(f"SELECT * FROM {table}")).mappings()
                ]
                for table in WRITTEN
            }

    def restore(self) -> None:
        """Put back the remembered rows."""
        with self.engine.begin() as conn:
            for table, rows in self.saved.items():
                conn.execute(text(f"DELETE FROM {table}"))
                if rows:
                    columns = ", ".join(f"`{name}`" for name in rows[0])
                    values = ", ".join(f":{name}" for name in rows[0])
                    conn.execute(text(f"INSERT INTO {table} ({columns}) VALUES ({values})"), rows)

    def state(self) -> dict[str, Any]:
        """Return what the billing jobs wrote."""
        with self.engine.connect() as conn:
            return billing_state(conn)


@pytest.fixture(name="bench", scope="module")
def _bench(mariadb_url: URL) -> Iterator[Workbench]:
    with throwaway_whmcs_database(mariadb_url, "jobs", migrate=True) as url:
        engine = create_engine(url)
        with engine.begin() as conn:
            seed_billing_data(conn, calls_per_service=30, more_clients=30)
        bench = Workbench(url, engine, {})
        bench.save()
        try:
            yield bench
        finally:
            engine.dispose()


def _start(bench: Workbench, *args: str, output: bool = True) -> subprocess.Popen[str]:
    pipe = subprocess.PIPE if output else subprocess.DEVNULL
    return subprocess.Popen(  # noqa: S603 - our own console script
        [BRIDGE, "run", *args, "--now", NOW, "--json"],
        env=bench.env(),
        stdout=pipe,
        stderr=pipe,
        text=True,
    )


def _clean_run(bench: Workbench, *args: str) -> dict[str, Any]:
    ran = run_bridge("run", *args, "--now", NOW, env=bench.env())
    assert ran.returncode == 0, ran.stdout + ran.stderr
    return bench.state()


JOB_ARGS = {
    "autobill": ("autobill",),
    "realtime": ("realtime",),
    "rerate": ("rerate", "--service", "1", "--period", "2026-11-01..2026-12-01"),
}


def _prepare(bench: Workbench, job: str) -> None:
    """Bring the database to where ``job`` starts: re-rating needs a billed, re-priced period."""
    bench.restore()
    if job != "rerate":
        return
    _clean_run(bench, "autobill")
    card = RATE_CARD.replace("USA/Canada,1,0.0100,6", "USA/Canada,1,0.0170,6")
    with bench.engine.begin() as conn:
        import_tariff(
            conn, "Test Tariff", card.splitlines(keepends=True), source="fix", now=SEEDED_AT
        )


@pytest.mark.parametrize("job", ["autobill", "realtime", "rerate"])
def test_killed_at_random_moments_then_run_again_bills_once(bench: Workbench, job: str) -> None:
    """SIGKILL a job at random moments; after each rerun the books equal one clean run's."""
    rnd = random.Random(f"kill-{job}")
    _prepare(bench, job)
    base = dict(bench.saved)
    bench.save()
    reference = _clean_run(bench, *JOB_ARGS[job])
    assert reference["postings"], "the clean run must post something for this test to mean much"
    # Aim across a real process's whole life, Python's start-up included, as measured here and
    # now: the machine's load changes how long that is far more than the job itself does.
    bench.restore()
    started = time.monotonic()
    timed = _start(bench, *JOB_ARGS[job], output=False)
    assert timed.wait(timeout=120) == 0
    lifetime = time.monotonic() - started
    killed_mid_run = 0
    for _ in range(KILLS):
        bench.restore()
        process = _start(bench, *JOB_ARGS[job], output=False)
        time.sleep(rnd.uniform(0.1, lifetime))
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=60)
        killed_mid_run += process.returncode == -signal.SIGKILL
        _clean_run(bench, *JOB_ARGS[job])
        assert bench.state() == reference
    bench.saved = base
    assert killed_mid_run >= KILLS // 2


@pytest.mark.parametrize("job", ["autobill", "realtime"])
def test_two_runs_at_once_bill_each_call_once(bench: Workbench, job: str) -> None:
    """Two processes started together: one bills, the other waits for nothing and skips."""
    bench.restore()
    reference = _clean_run(bench, job)
    bench.restore()

    first, second = _start(bench, job), _start(bench, job)
    outputs = [process.communicate(timeout=120) for process in (first, second)]

    assert [process.returncode for process in (first, second)] == [0, 0]
    assert bench.state() == reference
    assert sum('"skipped": "locked"' in out for out, _err in outputs) <= 1
