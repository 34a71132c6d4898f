"""`bridge run` as an operator runs it: the list, a readable summary, JSON, exit statuses."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, func, select
from sqlalchemy.engine import URL

from bridge.store.tables import cdrs
from tests.bridge_cli import bridge_env, run_bridge
from tests.conftest import throwaway_whmcs_database
from tests.factories.pbx_service import KEY, fusionpbx_cdr, fusionpbx_world
from tests.fakes import Switchboard
from tests.jobs.billing_data import billing_state, seed_billing_data


def _demo(tmp_path: Path) -> dict[str, str]:
    database = tmp_path / "demo.db"
    built = run_bridge("demo", "--no-serve", "--db", database, env=bridge_env())
    assert built.returncode == 0, built.stderr
    return bridge_env(BRIDGE_DATABASE_URL=f"sqlite:///{database}")


def _new_prepaid_calls(env: dict[str, str], tmp_path: Path) -> None:
    """Import two fresh calls for Dave's prepaid (real-time) service, #2, as collection would."""
    # The demo already took Dave's seeded calls from his credit, so realtime needs new ones.
    started = (datetime.now(UTC) - timedelta(hours=1)).strftime("%Y-%m-%d %H:%M:%S+00")
    csv = tmp_path / "new-calls.csv"
    csv.write_text(
        "xml_cdr_uuid,direction,destination_number,start_stamp,billsec\n"
        f"new-1,outbound,5145550111,{started},125\n"
        f"new-2,outbound,+33142685300,{started},240\n"
    )
    imported = run_bridge("cdr", "import", str(csv), "--service", "2", env=env)
    assert imported.returncode == 0, imported.stderr


class TestRun:
    def test_without_a_job_it_lists_them(self) -> None:
        """`bridge run` alone lists every job with its schedule."""
        listed = run_bridge("run", env=bridge_env())

        assert listed.returncode == 0
        for job in ("collect", "realtime", "autobill", "rerate"):
            assert job in listed.stdout

    def test_json_is_one_clean_object_on_stdout(self, tmp_path: Path) -> None:
        """--json prints one JSON object and nothing else on stdout; the run bills the demo."""
        env = _demo(tmp_path)
        _new_prepaid_calls(env, tmp_path)

        ran = run_bridge("run", "realtime", "--json", env=env)

        report = json.loads(ran.stdout)
        assert ran.returncode == 0
        assert report["job"] == "realtime"
        assert report["counts"]["calls_billed"] == 2
        assert report["money"] == {"CAD": "0.17"}

    def test_a_readable_summary_and_exit_one_when_a_service_fails(self, tmp_path: Path) -> None:
        """A failing service is listed and the exit status is 1."""
        env = _demo(tmp_path)
        _new_prepaid_calls(env, tmp_path)
        ok = run_bridge("run", "realtime", env=env)
        failing = run_bridge(
            "run", "rerate", "--service", "1", "--period", "2020-01-01..2020-02-01", env=env
        )

        assert ok.returncode == 0
        assert ok.stdout.strip().endswith("money: 0.17 CAD")
        assert failing.returncode == 1
        assert "FAILED service #1" in failing.stdout

    def test_usage_errors_exit_two(self, tmp_path: Path) -> None:
        """An unknown job, a bad --now or a bad --period is an error line and exit status 2."""
        env = bridge_env()
        unknown = run_bridge("run", "payroll", env=env, cwd=tmp_path)
        bad_now = run_bridge("run", "autobill", "--now", "tomorrow", env=env, cwd=tmp_path)
        bad_period = run_bridge(
            "run", "rerate", "--service", "1", "--period", "May", env=env, cwd=tmp_path
        )

        assert [r.returncode for r in (unknown, bad_now, bad_period)] == [2, 2, 2]
        assert unknown.stderr.startswith("error: No job 'payroll'")
        assert "--now 'tomorrow'" in bad_now.stderr
        assert "--period 'May'" in bad_period.stderr

    def test_collect_pulls_the_pbxs_new_calls(
        self, mariadb_url: URL, switchboard: Switchboard
    ) -> None:
        """`bridge run collect --json` stores a fake FusionPBX's calls once; a rerun adds none."""
        an_hour_ago = datetime.now(UTC) - timedelta(hours=1)
        with throwaway_whmcs_database(mariadb_url, "collect", migrate=True) as url:
            engine = create_engine(url)
            env = bridge_env(
                BRIDGE_DATABASE_URL=url.render_as_string(hide_password=False),
                BRIDGE_ENCRYPTION_KEY=str(KEY),
            )
            try:
                with engine.connect() as conn, fusionpbx_world(conn, switchboard, "") as world:
                    world.pbx.cdrs = [
                        fusionpbx_cdr(f"cli-{n}", an_hour_ago + timedelta(minutes=n))
                        for n in range(4)
                    ]
                    conn.commit()
                    first = run_bridge("run", "collect", "--json", env=env)
                    second = run_bridge("run", "collect", "--json", env=env)
                    stored = conn.execute(
                        select(func.count())
                        .select_from(cdrs)
                        .where(cdrs.c.service_id == world.service_id)
                    ).scalar_one()
            finally:
                engine.dispose()

        assert (first.returncode, second.returncode) == (0, 0), first.stderr + second.stderr
        report, rerun = json.loads(first.stdout), json.loads(second.stdout)
        assert (report["job"], report["ok"]) == ("collect", True)
        assert (report["counts"]["calls_stored"], rerun["counts"]["calls_stored"]) == (4, 0)
        assert stored == 4

    def test_debug_dry_run_prints_the_traces_and_writes_nothing(self, mariadb_url: URL) -> None:
        """--debug --dry-run prints each special rule's check and each service's bill; no write."""
        with throwaway_whmcs_database(mariadb_url, "debug", migrate=True) as url:
            engine = create_engine(url)
            try:
                with engine.begin() as conn:
                    data = seed_billing_data(conn)
                with engine.connect() as conn:
                    before = billing_state(conn)
                ran = run_bridge(
                    "run", "autobill", "--debug", "--dry-run", "--now", "2026-12-01T00:55:00+00:00",
                    env=bridge_env(BRIDGE_DATABASE_URL=url.render_as_string(hide_password=False)),
                )  # fmt: skip
                with engine.connect() as conn:
                    after = billing_state(conn)
            finally:
                engine.dispose()

        assert ran.returncode == 0, ran.stderr
        special = ran.stderr.split("=== SPECIAL RATE CHECK ===\n", 1)[1].split("=====", 1)[0]
        assert special.startswith("Destination: ")
        assert "Checking pattern: " in special
        assert "Billing Mode: " in special
        assert "Cost: " in special
        assert "RATE CHECK" not in ran.stdout, "traces go to stderr, never stdout"
        cleo = data.services["cleo"]
        assert "UK Special PBX (cleo.pbx.test | 519555" in ran.stderr
        billed = [line for line in ran.stdout.splitlines() if line.startswith("service #")]
        assert {int(line.split()[1][1:]) for line in billed} == {
            data.services[name] for name in ("anna", "cleo", "dev", "eve")
        }
        assert all("call(s)" in line and "billable item(s)" in line for line in billed)
        assert any(line.startswith(f"service #{cleo} UK Special PBX") for line in billed)
        assert ran.stdout.splitlines()[-1].startswith("autobill: dry run, nothing written: ")
        assert after == before
        assert not after["billed_calls"]
        assert not after["billable_items"]
