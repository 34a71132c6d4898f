"""Real processes on a committed MariaDB database: jobs killed by SIGKILL mid-run and run again,
and a second run started while the first is mid-run, bill exactly what one clean run bills.

The processes run `bridge` under :mod:`tests.jobs.statement_runner`, which counts the job's
database statements and dies (or holds) before the k-th: every kill lands mid-run, whatever the
machine's load, and an overlap is certain rather than likely.
"""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, Engine

from bridge.store.tariffs import import_tariff
from tests.bridge_cli import BRIDGE, bridge_env, run_bridge
from tests.conftest import throwaway_whmcs_database
from tests.jobs.billing_data import RATE_CARD, SEEDED_AT, billing_state, seed_billing_data

ROOT = Path(__file__).resolve().parents[2]
NOW = "2026-12-01T00:55:00+00:00"
# Eight kills for each of three jobs: 24 statements in all, one in each eighth of a run.
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
    # Statements of one clean run of each job from the state before it, once counted.
    statements: dict[str, int] = field(default_factory=dict)

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


def _start(bench: Workbench, *args: str, hook: tuple[str, ...] = ()) -> subprocess.Popen[str]:
    """Start `bridge run ARGS` as cron would, under the statement hook when ``hook`` is given."""
    command = (
        [sys.executable, "-m", "tests.jobs.statement_runner", *hook, "--", "run"]
        if hook
        else [BRIDGE, "run"]
    )
    return subprocess.Popen(  # noqa: S603 - our own console script and test runner
        [*command, *args, "--now", NOW, "--json"],
        env=bench.env(),
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _clean_run(bench: Workbench, *args: str) -> dict[str, Any]:
    ran = run_bridge("run", *args, "--now", NOW, env=bench.env())
    assert ran.returncode == 0, ran.stdout + ran.stderr
    return bench.state()


def _count_statements(bench: Workbench, job: str) -> int:
    """Run ``job`` once from the restored state in a process that counts its statements."""
    if job not in bench.statements:
        bench.restore()
        counted = _start(bench, *JOB_ARGS[job], hook=("count",))
        _out, err = counted.communicate(timeout=120)
        assert counted.returncode == 0, err
        bench.statements[job] = int(err.rsplit("statements=", 1)[1])
    return bench.statements[job]


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
def test_killed_mid_run_then_run_again_bills_once(bench: Workbench, job: str) -> None:
    """SIGKILL a job before a random statement of each eighth of its run; each rerun bills once."""
    rnd = random.Random(f"kill-{job}")
    _prepare(bench, job)
    base = dict(bench.saved)
    bench.save()
    reference = _clean_run(bench, *JOB_ARGS[job])
    assert reference["postings"], "the clean run must post something for this test to mean much"
    statements = _count_statements(bench, job)
    assert bench.state() == reference, "a counted run must bill as a clean run does"
    assert statements >= 2 * KILLS
    for eighth in range(KILLS):
        at = rnd.randint(eighth * statements // KILLS + 1, (eighth + 1) * statements // KILLS)
        bench.restore()
        process = _start(bench, *JOB_ARGS[job], hook=("kill", str(at)))
        out, err = process.communicate(timeout=120)

        assert process.returncode == -signal.SIGKILL, f"statement {at}: {out}{err}"
        _clean_run(bench, *JOB_ARGS[job])
        assert bench.state() == reference, f"after a SIGKILL before statement {at}"
    bench.saved = base


def _wait_for(path: Path, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 60
    while not path.exists():
        assert process.poll() is None, "the held run ended before it reached its statement"
        assert time.monotonic() < deadline, f"no {path.name} after 60 s"
        time.sleep(0.02)


@pytest.mark.parametrize("job", ["autobill", "realtime"])
def test_a_run_started_while_another_is_mid_run_skips(
    bench: Workbench, job: str, tmp_path: Path
) -> None:
    """The first run holds mid-run; a second starts, reports the skip; each call billed once."""
    bench.restore()
    reference = _clean_run(bench, job)
    assert reference["billed_calls"]
    middle = _count_statements(bench, job) // 2
    bench.restore()

    first = _start(bench, job, hook=("hold", str(middle), str(tmp_path)))
    _wait_for(tmp_path / "held", first)
    second = _start(bench, job)
    second_out, second_err = second.communicate(timeout=120)
    still_running = first.poll() is None
    (tmp_path / "go").touch()
    first_out, first_err = first.communicate(timeout=120)

    assert still_running, "the first run must still be mid-run when the second ends"
    assert (first.returncode, second.returncode) == (0, 0), first_err + second_err
    skipped, billed = json.loads(second_out), json.loads(first_out)
    assert (skipped["skipped"], skipped["counts"]) == ("locked", {})
    assert skipped["summary"] == f"skipped: another {job} run is in progress"
    assert billed["skipped"] == ""
    assert bench.state() == reference
    keys = [(row[0], row[1]) for row in bench.state()["billed_calls"]]
    assert len(keys) == len(set(keys)), "a call billed twice"
