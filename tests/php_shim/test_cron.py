"""The cron files beside each module: they run the bridge's job, print its report, and exit 0, 1
(some services failed) or 2 (the job could not run), from the CLI and over HTTP."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from bridge.store.tables import billed_calls, cdrs
from bridge.usecases.mail import list_outbox
from bridge.whmcs import seeding
from bridge.whmcs.clients import get_credit
from bridge.whmcs.customfields import client_field_ids
from bridge.whmcs.services import ServiceStatus, get_service
from tests.factories.pbx_service import EXTENSIONS, TENANT, World, fusionpbx_cdr
from tests.factories.whmcs import make_field_value, make_voip_client_fields
from tests.fakes import Served
from tests.jobs.billing_data import seed_billing_data
from tests.php_shim.harness import PhpShim


def _cron(php: PhpShim, module: str, job: str) -> Path:
    """Return where install.sh put the module's cron file for ``job``."""
    return php.whmcs / "modules/servers" / module / f"{job}.php"


def _owes(conn: Connection, world: World) -> None:
    """Make the world's client a VoIP client with no credit: autosuspend must suspend."""
    fields = client_field_ids(conn, ["Has VoIP Service"])
    make_field_value(conn, fields["Has VoIP Service"], world.client_id, "Yes")
    seeding.insert_email_template(conn, name="VoIP Zero Balance", subject="Zero", message="Hi")


class TestCommandLine:
    def test_autosuspend_suspends_and_exits_zero(
        self, php: PhpShim, bridge: Served, world: World
    ) -> None:
        """autosuspend.php runs the job: the client without credit is suspended, exit 0."""
        _owes(world.conn, world)
        world.pbx.add_tenant(TENANT, EXTENSIONS, enabled=True)

        done = php.run_script(_cron(php, "vodia", "autosuspend"))

        assert (done.returncode, done.stderr) == (0, "")
        assert done.stdout.startswith("voipbridge autosuspend: ")
        assert get_service(world.conn, world.service_id).status is ServiceStatus.SUSPENDED
        assert world.pbx.extensions[(TENANT, "2112")] is False

    def test_a_failing_pbx_exits_one_with_the_error(
        self, php: PhpShim, bridge: Served, world: World
    ) -> None:
        """A PBX that fails: the job reports the service, the cron file exits 1 (retry later)."""
        _owes(world.conn, world)
        world.pbx.failure = "error_500"

        done = php.run_script(_cron(php, "fusionpbx", "autosuspend"))

        assert done.returncode == 1
        assert "ERROR " in done.stderr
        assert get_service(world.conn, world.service_id).status is ServiceStatus.ACTIVE

    def test_autobill_dry_run(self, php: PhpShim, bridge: Served, world: World) -> None:
        """autobill.php --dry-run runs the job without writing and says so."""
        done = php.run_script(_cron(php, "lesnet", "autobill"), "--dry-run")

        assert done.returncode == 0, done.stderr
        assert done.stdout.splitlines()[0].startswith("voipbridge autobill: ")
        assert done.stdout.splitlines()[0].endswith("(dry run)")

    def test_library_moved_by_configuration_php(
        self, php: PhpShim, bridge: Served, tmp_path: Path
    ) -> None:
        """A library moved where configuration.php's VOIPBRIDGE_LIB_DIR says: the cron file runs."""
        moved = tmp_path / "elsewhere" / "voipbridge"
        moved.parent.mkdir()
        php.library.rename(moved)
        configuration = php.whmcs / "configuration.php"
        configuration.write_text(
            f"<?php\n$db_host = 'localhost';\ndefine('VOIPBRIDGE_LIB_DIR', '{moved}');\n",
            encoding="utf-8",
        )
        try:
            done = php.run_script(_cron(php, "fusionpbx", "autobill"), "--dry-run")
        finally:
            configuration.unlink()
            moved.rename(php.library)

        assert (done.returncode, done.stderr) == (0, "")
        assert done.stdout.splitlines()[0].startswith("voipbridge autobill: ")

    def test_no_bridge_exits_two(self, php: PhpShim) -> None:
        """The bridge unreachable: exit 2 and why, on stderr."""
        php.configure("http://127.0.0.1:9")

        done = php.run_script(_cron(php, "fusionpbx", "autobill"))

        assert done.returncode == 2
        assert done.stderr.startswith("voipbridge autobill: FAILED: The voipbridge service at")

    def test_realtime_charges_prepaid_calls_once(
        self, php: PhpShim, bridge: Served, conn: Connection
    ) -> None:
        """realtime.php takes the prepaid service's calls from credit, exit 0; again: none."""
        data = seed_billing_data(conn)
        ben = data.clients["ben"]

        done = php.run_script(_cron(php, "fusionpbx", "realtime"))
        again = php.run_script(_cron(php, "vodia", "realtime"))

        assert (done.returncode, done.stderr) == (0, "")
        summary = done.stdout.splitlines()[0]
        found = re.fullmatch(
            r"voipbridge realtime: 1 service\(s\) charged for (\d+) call\(s\); 0 failed", summary
        )
        assert found, summary
        billed = conn.execute(select(func.count()).select_from(billed_calls)).scalar_one()
        assert int(found.group(1)) == billed > 0
        assert get_credit(conn, ben) < Decimal("20.00")
        assert (again.returncode, again.stdout.splitlines()[0]) == (
            0,
            "voipbridge realtime: 0 service(s) charged for 0 call(s); 0 failed",
        )

    def test_daily_queues_the_low_balance_alerts(
        self, php: PhpShim, bridge: Served, conn: Connection
    ) -> None:
        """daily.php queues the Low Balance Alert for the two clients at or below 10.00, exit 0."""
        data = seed_billing_data(conn)
        fields = make_voip_client_fields(conn)
        for name in ("anna", "dev", "eve"):
            make_field_value(conn, fields["Low Balance Threshold"], data.clients[name], "10")
        seeding.insert_email_template(
            conn, name="Low Balance Alert", subject="Low balance", message="{$client_credit}"
        )

        done = php.run_script(_cron(php, "lesnet", "daily"))

        assert (done.returncode, done.stderr) == (0, ""), done.stdout
        assert done.stdout.splitlines()[0] == (
            "voipbridge daily: 2 client(s) at or below their threshold, 2 alert(s) queued; 0 failed"
        )
        alerted = sorted(entry.client_id for entry in list_outbox(conn))
        assert alerted == sorted(data.clients[name] for name in ("dev", "eve"))

    def test_collect_stores_the_pbxs_new_calls(
        self, php: PhpShim, bridge: Served, world: World
    ) -> None:
        """collect.php pulls the PBX's new calls into the store and exits 0."""
        an_hour_ago = datetime.now(UTC) - timedelta(hours=1)
        world.pbx.cdrs = [fusionpbx_cdr(f"php-{n}", an_hour_ago) for n in range(2)]

        done = php.run_script(_cron(php, "fusionpbx", "collect"))

        stored = world.conn.execute(select(func.count()).select_from(cdrs)).scalar_one()
        assert (done.returncode, done.stderr) == (0, "")
        assert done.stdout.splitlines()[0].startswith("voipbridge collect: 2 new call(s) stored")
        assert stored == 2


class TestOverHttp:
    @pytest.fixture(name="web")
    def _web(self, php: PhpShim, bridge: Served) -> Iterator[Served]:
        """PHP's built-in server on the WHMCS folder, as a web server would run the cron URL."""
        with php.serve_web(php.whmcs) as served:
            yield served

    def test_runfrom_cron_runs_the_job(self, web: Served, world: World) -> None:
        """?runfrom=cron from an allowed address runs the job and prints its report."""
        url = f"{web.url}/modules/servers/fusionpbx/autobill.php"

        ran = httpx.get(url, params={"runfrom": "cron"}, timeout=60)
        refused = httpx.get(url, timeout=60)

        assert ran.status_code == 200
        assert ran.text.startswith("voipbridge autobill: ")
        assert refused.status_code == 403
        assert refused.text == "Add ?runfrom=cron to run this job over HTTP.\n"
