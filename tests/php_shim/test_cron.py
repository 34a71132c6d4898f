"""The cron files beside each module: they run the bridge's job, print its report, and exit 0, 1
(some services failed) or 2 (the job could not run), from the CLI and over HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import Connection

from bridge.whmcs import seeding
from bridge.whmcs.customfields import client_field_ids
from bridge.whmcs.services import ServiceStatus, get_service
from tests.factories.pbx_service import EXTENSIONS, TENANT, World
from tests.factories.whmcs import make_field_value
from tests.fakes import Served
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
