"""`bridge cdr import` and `bridge server ...` as an operator runs them, on the demo database."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.bridge_cli import Ran, bridge_env, run_bridge
from tests.fakes import Switchboard, free_port
from tests.fakes.lesnet import FakeLesNet

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"
KEY = base64.urlsafe_b64encode(b"k" * 32).decode()


@pytest.fixture(name="demo_env", scope="module")
def _demo_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A demo WHMCS database (service #1 is on FusionPBX server #1) to run commands against."""
    folder = tmp_path_factory.mktemp("demo")
    built = run_bridge("demo", "--no-serve", "--db", folder / "demo.db", env=bridge_env())
    assert built.returncode == 0, built.stderr
    return bridge_env(
        BRIDGE_DATABASE_URL=f"sqlite:///{folder / 'demo.db'}", BRIDGE_ENCRYPTION_KEY=KEY
    )


def _bridge(env: dict[str, str], *args: str, stdin: str = "") -> Ran:
    return run_bridge(*args, env=env, stdin=stdin)


class TestCdrImport:
    def test_import_twice_duplicates_nothing(self, demo_env: dict[str, str]) -> None:
        """The first import stores every a-leg; the second finds them all already stored."""
        csv = str(EXAMPLES / "cdrs-au.csv")

        first = _bridge(demo_env, "cdr", "import", csv, "--service", "1")
        second = _bridge(demo_env, "cdr", "import", csv, "--service", "1")

        assert first.returncode == 0, first.stderr
        assert "15 imported, 0 skipped (already stored), 1 b-leg row(s) skipped" in first.stdout
        assert "0 imported, 15 skipped (already stored)" in second.stdout

    def test_bad_lines_are_reported_and_good_ones_kept(
        self, demo_env: dict[str, str], tmp_path: Path
    ) -> None:
        """A file with a bad line imports the rest, lists the line, and exits 1."""
        csv = tmp_path / "cdrs.csv"
        csv.write_text(
            "xml_cdr_uuid,direction,destination_number,start_stamp,billsec\n"
            "imp-1,outbound,14165550100,2026-01-05 10:00:00-05,60\n"
            "imp-2,outbound,14165550100,not a time,60\n"
        )

        result = _bridge(demo_env, "cdr", "import", str(csv), "--service", "1")

        assert result.returncode == 1
        assert "1 imported" in result.stdout
        assert "line 3: start_stamp 'not a time'" in result.stderr

    def test_unstorable_calls_are_quarantined_and_the_rest_imported(
        self, demo_env: dict[str, str], tmp_path: Path
    ) -> None:
        """A 65-character id is imported whole (as a digest), a year-1 call set aside: no crash."""
        csv = tmp_path / "cdrs.csv"
        csv.write_text(
            "xml_cdr_uuid,direction,destination_number,start_stamp,billsec\n"
            f"{'q' * 65},outbound,14165550100,2026-01-05 10:00:00-05,60\n"
            "old-1,outbound,14165550100,0001-01-01 10:00:00+00,60\n"
            "fine-1,outbound,14165550100,2026-01-05 11:00:00-05,60\n"
        )

        result = _bridge(demo_env, "cdr", "import", str(csv), "--service", "1")
        doctor = _bridge(demo_env, "doctor")

        assert result.returncode == 1, result.stderr
        assert "2 imported" in result.stdout
        assert "0 bad line(s), 1 quarantined" in result.stdout
        assert "1 call record(s) from server #1 could not be stored" in doctor.stdout
        assert "start 0001-01-01 is not a plausible call time" in doctor.stdout

    def test_unknown_service(self, demo_env: dict[str, str]) -> None:
        """Importing for a service that does not exist says so and imports nothing."""
        result = _bridge(
            demo_env, "cdr", "import", str(EXAMPLES / "cdrs-au.csv"), "--service", "99"
        )

        assert result.returncode == 2
        assert "no service #99" in result.stderr


class TestServerSettings:
    def test_secret_from_stdin_is_stored_and_never_shown(self, demo_env: dict[str, str]) -> None:
        """A DSN given on stdin is kept encrypted; show lists its name, not its value."""
        dsn = "host=10.0.0.5 dbname=fusionpbx user=ro password=ro-pass-987"

        saved = _bridge(
            demo_env, "server", "set", "1", "--timezone", "America/Toronto",
            "--cdr-source", "database", "--secret", "db_dsn", stdin=dsn + "\n",
        )  # fmt: skip
        shown = _bridge(demo_env, "server", "show", "1")

        assert saved.returncode == 0, saved.stderr
        assert "server #1: timezone America/Toronto, CDR source database, secrets: db_dsn" in (
            shown.stdout
        )
        assert "ro-pass-987" not in saved.stdout + shown.stdout

    def test_push_token_is_printed_once_and_rotates(self, demo_env: dict[str, str]) -> None:
        """Each push-token call prints a new token; the next call replaces it."""
        first = _bridge(demo_env, "server", "push-token", "2")
        second = _bridge(demo_env, "server", "push-token", "2")

        assert first.returncode == 0, first.stderr
        assert len(first.stdout.strip()) >= 40
        assert first.stdout != second.stdout
        assert "/v1/cdr/vodia/2" in first.stderr

    @pytest.mark.parametrize(
        ("args", "stdin", "said"),
        [
            (("1", "--secret", "db_dsn", "--secret", "api_password"), "only-one\n", "stdin ended"),
            (("1", "--secret", "db_dsn"), "\n", "the value is empty; nothing was changed"),
            (("1", "--secret", "db_dsn"), "", "stdin ended after 0 line(s)"),
            (("4242", "--timezone", "UTC"), "", "WHMCS has no server #4242"),
        ],
        ids=["fewer lines than names", "empty line", "no stdin", "unknown server"],
    )
    def test_set_refuses_what_it_cannot_honour(
        self, demo_env: dict[str, str], args: tuple[str, ...], stdin: str, said: str
    ) -> None:
        """Missing or empty secret values and unknown servers are errors that change nothing."""
        before = _bridge(demo_env, "server", "show", "1").stdout

        result = _bridge(demo_env, "server", "set", *args, stdin=stdin)

        assert result.returncode == 2
        assert said in result.stderr
        assert "Traceback" not in result.stderr
        assert _bridge(demo_env, "server", "show", "1").stdout == before

    def test_secrets_need_the_encryption_key(self, demo_env: dict[str, str]) -> None:
        """Without BRIDGE_ENCRYPTION_KEY a secret is refused, with what to set."""
        env = {k: v for k, v in demo_env.items() if k != "BRIDGE_ENCRYPTION_KEY"}

        result = _bridge(env, "server", "set", "3", "--secret", "api_password", stdin="pw\n")

        assert result.returncode == 2
        assert "BRIDGE_ENCRYPTION_KEY is not set" in result.stderr


CDR_FILE = (
    "Date|Time|Peer ID|Source|Destination|Billsec|Rate|Cost\n"
    "2025-12-29|09:59:59|D4E3CD2BFC791|12046664021|14165550100|11|0.01|0.01\n"
    "2025-12-29|10:00:00|D4E3CD2BFC791|12046664021|14165550101|22|0.01|0.01\n"
    "2025-12-29|10:30:00|D4E3CD2BFC791|4165550199|12046664021|33|0.00|0.00\n"
    "2025-12-29|10:30:00|A1B2C3D4E5F60|4165550199|12045550000|99|0.00|0.00\n"
)


def _link_the_lesnet_service(demo_env: dict[str, str], link: str) -> None:
    """Point the demo LesNet service's CDR Link at ``link`` (a fake portal on loopback)."""
    engine = create_engine(demo_env["BRIDGE_DATABASE_URL"])
    with engine.begin() as conn:
        conn.execute(
            # Whatever an earlier test of the module pointed it at.
            text("UPDATE tblcustomfieldsvalues SET value = :link WHERE value LIKE '%/cdr/%'"),
            {"link": link},
        )
    engine.dispose()


class TestCdrCollect:
    def test_collect_from_a_lesnet_portal_twice(
        self, demo_env: dict[str, str], switchboard: Switchboard
    ) -> None:
        """`bridge cdr collect` pulls the peer's calls over HTTP once; a rerun adds nothing."""
        portal = FakeLesNet()
        portal.publish("/cdr/11330_0000.txt", CDR_FILE)
        with switchboard.plug(portal.app()) as served:
            _link_the_lesnet_service(demo_env, f"{served.url}/cdr/11330_0000.txt")
            first = _bridge(demo_env, "cdr", "collect", "--server", "3", "--since", "2025-12-01")
            second = _bridge(demo_env, "cdr", "collect", "--server", "3", "--since", "2025-12-01")

        assert first.returncode == 0, first.stdout + first.stderr
        assert "server #3 service:3: 3 new, 0 already stored" in first.stdout
        assert "server #3 service:3: 0 new, 3 already stored" in second.stdout
        assert portal.requests.count("/cdr/11330_0000.txt") == 2

    def test_a_junk_line_in_a_lesnet_file_is_quarantined_once(
        self, demo_env: dict[str, str], switchboard: Switchboard
    ) -> None:
        """A line of the CDR file that is no call is set aside with its line; the calls are kept."""
        portal = FakeLesNet()
        junk = "2025-12-29|ten past|D4E3CD2BFC791|12046664021|14165550102|12|0.01|0.01\n"
        portal.publish("/cdr/11330_0000.txt", CDR_FILE + junk)
        with switchboard.plug(portal.app()) as served:
            _link_the_lesnet_service(demo_env, f"{served.url}/cdr/11330_0000.txt")
            first = _bridge(demo_env, "cdr", "collect", "--server", "3", "--since", "2025-12-01")
            second = _bridge(demo_env, "cdr", "collect", "--server", "3", "--since", "2025-12-01")
        engine = create_engine(demo_env["BRIDGE_DATABASE_URL"])
        with engine.connect() as conn:
            aside = conn.execute(
                text("SELECT reason, record FROM mod_voipbridge_cdr_quarantine")
            ).all()
        engine.dispose()

        # The module's demo database may hold these calls already; the junk line is new.
        assert first.returncode == 0, first.stdout + first.stderr
        assert re.search(
            r"server #3 service:3: \d+ new, \d+ already stored, 1 quarantined", first.stdout
        )
        assert "server #3 service:3: 0 new, 3 already stored, 1 quarantined" in second.stdout
        (reason,) = [reason for reason, record in aside if record == junk.rstrip("\n")]
        assert reason.startswith("line 6 of peer D4E3CD2BFC791's CDR file:")

    def test_unreachable_provider_fails_the_run_and_says_retry(
        self, demo_env: dict[str, str]
    ) -> None:
        """A provider that cannot be reached is reported per scope and the run exits 1."""
        engine = create_engine(demo_env["BRIDGE_DATABASE_URL"])
        with engine.begin() as conn:
            conn.execute(
                text("UPDATE tblcustomfieldsvalues SET value = :link WHERE value LIKE '%/cdr/%'"),
                {"link": f"http://127.0.0.1:{free_port()}/cdr/gone.txt"},
            )
        engine.dispose()

        result = _bridge(demo_env, "cdr", "collect", "--server", "3")

        assert result.returncode == 1
        assert "server #3 service:3: FAILED, will retry next run" in result.stdout
