"""The `bridge` command as an operator runs it: doctor, migrate, serve and demo, end to end."""

from __future__ import annotations

import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import URL, Connection

from bridge.store.migrate import alembic_config
from tests.bridge_cli import BRIDGE, Ran, bridge_env, run_bridge
from tests.conftest import throwaway_whmcs_database

EXAMPLES = Path(__file__).resolve().parents[1] / "docs" / "examples"
HEAD = ScriptDirectory.from_config(alembic_config()).get_current_head()
_env = bridge_env


def _run(*args: str, env: dict[str, str], cwd: Path | None = None) -> Ran:
    return run_bridge(*args, env=env, cwd=cwd)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _break_schema(conn: Connection) -> None:
    conn.execute(text("DROP TABLE tblbundles"))
    conn.execute(text("ALTER TABLE tblclients DROP COLUMN credit"))


@pytest.fixture(name="broken_whmcs_url")
def _broken_whmcs_url(mariadb_url: URL) -> Iterator[URL]:
    """A throwaway WHMCS database that lacks tblbundles and tblclients.credit."""
    with throwaway_whmcs_database(mariadb_url, "doctor", _break_schema) as url:
        yield url


class TestDoctor:
    def test_missing_column_and_table_are_listed_and_exit_nonzero(
        self, broken_whmcs_url: URL
    ) -> None:
        """Doctor lists every missing table and column and the pending migrations, exit 1."""
        env = _env(BRIDGE_DATABASE_URL=broken_whmcs_url.render_as_string(hide_password=False))

        result = _run("doctor", env=env)

        assert result.returncode == 1
        assert "tblclients.credit" in result.stdout
        assert "table tblbundles" in result.stdout
        assert "Run `bridge migrate`" in result.stdout
        assert "Problems found" in result.stdout

    def test_migrate_then_doctor_still_reports_the_whmcs_gap(self, broken_whmcs_url: URL) -> None:
        """Migrating fixes the bridge's tables but not WHMCS's; doctor says exactly that."""
        env = _env(BRIDGE_DATABASE_URL=broken_whmcs_url.render_as_string(hide_password=False))

        migrated = _run("migrate", env=env)
        doctor = _run("doctor", env=env)

        assert migrated.returncode == 0, migrated.stderr
        assert f"revision {HEAD}" in migrated.stdout
        assert doctor.returncode == 1
        assert "bridge tables ok" in doctor.stdout
        assert "tblclients.credit" in doctor.stdout

    def test_serve_refuses_to_start_on_a_broken_schema(self, broken_whmcs_url: URL) -> None:
        """`bridge serve` checks first and exits with the list instead of serving."""
        env = _env(BRIDGE_DATABASE_URL=broken_whmcs_url.render_as_string(hide_password=False))

        result = _run("serve", "--listen", f"127.0.0.1:{_free_port()}", env=env)

        assert result.returncode == 1
        assert "tblclients.credit" in result.stderr

    def test_unreachable_database_is_one_clear_line(self) -> None:
        """A database that is down gives one error line and exit status 2, no traceback."""
        env = _env(BRIDGE_DATABASE_URL="mysql+pymysql://bridge:pw@127.0.0.1:1/whmcs")

        result = _run("doctor", env=env)

        assert result.returncode == 2
        assert result.stderr.startswith("error: Cannot reach the database at 127.0.0.1:1")
        assert "Traceback" not in result.stderr
        assert "pw@" not in result.stderr


class TestDemo:
    def test_demo_builds_and_shows_the_data(self, tmp_path: Path) -> None:
        """`bridge demo --no-serve` builds voipbridge.db and prints the clients it holds."""
        result = _run("demo", "--no-serve", env=_env(), cwd=tmp_path)

        assert result.returncode == 0, result.stderr
        assert (tmp_path / "voipbridge.db").exists()
        for expected in (
            "Marie Côté",
            "Côté & Fils Plomberie",
            "Dave O'Neil",
            "$15.00 CAD",
            # 30 free minutes run out during the 40-minute call: 96 + 804 s free, 1,596 s paid
            # at 0.0115/min (0.0100 + 15%) = 0.3059.
            "[OUTBOUND] USA/Canada: 2 calls, 41.6 min (15 min free), $0.31 CAD",
            "[OUTBOUND] 0845* (per_minute): 1 call, 4 min, £0.20 GBP",
        ):
            assert expected in result.stdout
        doctor = _run(
            "doctor", env=_env(BRIDGE_DATABASE_URL="sqlite:///voipbridge.db"), cwd=tmp_path
        )
        assert doctor.returncode == 0, doctor.stdout

    def test_demo_refuses_to_overwrite_a_foreign_file(self, tmp_path: Path) -> None:
        """An existing voipbridge.db that is not a demo database is left untouched."""
        precious = tmp_path / "voipbridge.db"
        precious.write_bytes(b"somebody's data")

        result = _run("demo", "--no-serve", env=_env(), cwd=tmp_path)

        assert result.returncode == 2
        assert "refusing to overwrite" in result.stderr
        assert precious.read_bytes() == b"somebody's data"

    def test_demo_refuses_a_real_database(self) -> None:
        """With BRIDGE_DATABASE_URL pointing at MySQL, the demo will not write demo data there."""
        env = _env(BRIDGE_DATABASE_URL="mysql+pymysql://bridge:pw@127.0.0.1/whmcs")

        result = _run("demo", "--no-serve", env=env)

        assert result.returncode == 2
        assert "only runs on its own SQLite file" in result.stderr

    def test_demo_serves_the_bridge_over_http(self, tmp_path: Path) -> None:
        """`bridge demo` serves on the given address: /healthz answers from the demo database."""
        port = _free_port()
        process = subprocess.Popen(  # noqa: S603 - our own console script
            [BRIDGE, "demo", "--listen", f"127.0.0.1:{port}"],
            cwd=tmp_path,
            env=_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            health = _wait_for_health(f"http://127.0.0.1:{port}/healthz", process)
        finally:
            process.send_signal(signal.SIGINT)
            stdout, _ = process.communicate(timeout=30)

        assert health.status_code == 200
        assert health.json()["result"]["checks"]["database"]["backend"] == "sqlite"
        assert f"http://127.0.0.1:{port}/healthz" in stdout
        assert "disabled until BRIDGE_SECRET is set" in stdout


def _wait_for_health(url: str, process: subprocess.Popen[str]) -> httpx.Response:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"bridge demo exited early: {process.communicate()[1]}")
        try:
            return httpx.get(url, timeout=2)
        except httpx.TransportError:
            time.sleep(0.2)
    pytest.fail(f"bridge demo did not answer on {url} within 60 s")


class TestDemoBilling:
    def test_the_demo_runs_the_jobs_and_shows_what_they_did(self, tmp_path: Path) -> None:
        """The demo bills: credit taken, a suspension with its mail, an alert, billable items."""
        result = _run("demo", "--no-serve", env=_env(), cwd=tmp_path)

        assert result.returncode == 0, result.stderr
        for expected in (
            # Dave's two prepaid calls come off his credit (0.17 of 3.20).
            "client #2, -0.17: VoIP usage, Vodia Cloud PBX",
            # He owes 15.00 with 3.03 left: suspended (no PBX contacted in the demo), mailed.
            "(balance: 15.00 due is more than the 3.03 credit): demo PBX Vodia Cloud: nothing",
            "[sent] to dave@customer.example: VoIP service paused: zero balance",
            "Dear Dave O'Neil,",
            # His credit is below his threshold of 5: today's Low Balance Alert.
            "Account# 2 is: 3.03",
            # On the due date, autobill adds Marie's metered usage and Oliver's special numbers.
            "client #1, 0.31: Hosted PBX & Trunking",
            "client #4, 4.75: UK Special Numbers",
        ):
            assert expected in result.stdout
        assert len(list((tmp_path / "voipbridge-mail").glob("*.eml"))) == 2


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (("demo", "--no-serve", "--db", "{tmp}/missing/demo.db"), "the folder {tmp}/missing does"),
        (("license-server", "list", "--db", "{tmp}/gone/keys.db"), "the folder {tmp}/gone does"),
        (("cdr", "collect", "--since", "0001-01-01"), "--since 0001-01-01T00:00:00 is out"),
        (
            ("run", "rerate", "--service", "1", "--period", "2026-01-01..9999-12-31"),
            "--period 9999-12-31 is out of range",
        ),
        (("run", "autobill", "--now", "9999-12-31T23:59"), "--now 9999-12-31T23:59:00 is out"),
        (("package", "import", "P", "{tmp}/cp1252.toml"), "cp1252.toml:2: byte 0xe9 is not UTF-8"),
        (("package", "import", "P", "{tmp}/deep.toml"), "nested too deeply"),
        (
            ("rate", "--tariff", str(EXAMPLES / "tariff-au.csv"), "--package", "{tmp}/cp1252.toml",
             "--cdrs", str(EXAMPLES / "cdrs-au.csv")),
            "cp1252.toml:2: byte 0xe9 is not UTF-8",
        ),
        (("package", "import", "P", "{tmp}/huge.toml"), "markup_percent '99999999999' is out"),
        (
            ("package", "import", "x" * 129, "{tmp}/fine.toml"),
            "name '" + "x" * 40 + "…' is longer than 128 characters",
        ),
        (("tariff", "import", "T", "{tmp}/cp1252.csv"), "cp1252.csv:3: byte 0xe7 is not UTF-8"),
        (("tariff", "import", "T", "{tmp}/wide.csv"), "line 3: cannot be read as CSV: field"),
        (("tariff", "import", "x" * 129, str(EXAMPLES / "tariff-au.csv")), "longer than 128"),
        (
            ("cdr", "import", "{tmp}/cdrs-1252.csv", "--service", "1"),
            "cdrs-1252.csv:3: byte 0xe9 is not UTF-8",
        ),
        (
            ("rate", "--tariff", "{tmp}/cp1252.csv", "--package", "{tmp}/fine.toml",
             "--cdrs", str(EXAMPLES / "cdrs-au.csv")),
            "cp1252.csv:3: byte 0xe7 is not UTF-8",
        ),
        (
            ("rate", "--tariff", str(EXAMPLES / "tariff-au.csv"), "--package", "{tmp}/fine.toml",
             "--cdrs", "{tmp}/cdrs-1252.csv"),
            "cdrs-1252.csv:3: byte 0xe9 is not UTF-8",
        ),
        (
            ("rate", "--tariff", str(EXAMPLES / "tariff-au.csv"), "--package", "{tmp}/fine.toml",
             "--cdrs", "{tmp}/cdrs-wide.csv"),
            "line 2: cannot be read as CSV: field larger",
        ),
    ],
    ids=[
        "demo db folder", "keystore folder", "since year 1", "period year 9999", "now year 9999",
        "windows-1252 toml", "deep toml", "rate preview toml", "markup", "package name",
        "windows-1252 rate card", "wide rate card field", "tariff name",
        "windows-1252 cdr import", "rate windows-1252 card", "rate windows-1252 cdrs",
        "rate wide cdr field",
    ],
)  # fmt: skip
def test_bad_input_is_an_error_line_never_a_traceback(
    tmp_path: Path, args: tuple[str, ...], said: str
) -> None:
    """Each careless value is one `error:` line naming what is wrong, exit 2, nothing written."""
    (tmp_path / "cp1252.toml").write_bytes(b'country_code = "1"\nname = "Caf\xe9"\n')
    (tmp_path / "deep.toml").write_text('country_code = "1"\nx = ' + "[" * 50_000 + "]" * 50_000)
    (tmp_path / "huge.toml").write_text('country_code = "1"\nmarkup_percent = "99999999999"\n')
    (tmp_path / "fine.toml").write_text('country_code = "1"\n')
    card = (EXAMPLES / "tariff-au.csv").read_bytes().splitlines(keepends=True)
    (tmp_path / "cp1252.csv").write_bytes(card[0] + card[1] + b"Cura\xe7ao,5999,0.10,60,,\n")
    wide = b'"' + b"x" * 200_000 + b'",5999,0.10,60,,\n'
    (tmp_path / "wide.csv").write_bytes(card[0] + card[1] + wide + card[2])
    cdrs = (EXAMPLES / "cdrs-au.csv").read_bytes().splitlines(keepends=True)
    (tmp_path / "cdrs-1252.csv").write_bytes(
        cdrs[0] + cdrs[1] + cdrs[2].replace(b"Reception", b"R\xe9ception")
    )
    (tmp_path / "cdrs-wide.csv").write_bytes(cdrs[0] + b'"' + b"y" * 200_000 + b'"' + cdrs[1][36:])
    database = tmp_path / "bridge.db"
    built = _run("demo", "--no-serve", "--db", str(database), env=_env())
    assert built.returncode == 0, built.stderr
    env = _env(BRIDGE_DATABASE_URL=f"sqlite:///{database}")
    before = database.read_bytes()

    ran = _run(*(arg.format(tmp=tmp_path) for arg in args), env=env, cwd=tmp_path)

    assert ran.returncode == 2, ran.stdout + ran.stderr
    assert ran.stderr.startswith("error: ")
    assert said.format(tmp=tmp_path) in ran.stderr
    assert database.read_bytes() == before
    assert not (tmp_path / "missing").exists()


@pytest.mark.parametrize(
    "args",
    [
        ("cdr", "import", "x.csv", "--service", "99999999999999999999"),
        ("server", "show", "2147483648"),
        ("run", "autobill", "--service", "0"),
        ("package", "show", "P", "--product", "-1"),
    ],
    ids=["service", "server", "zero", "negative"],
)
def test_ids_no_row_can_have_are_a_usage_error(tmp_path: Path, args: tuple[str, ...]) -> None:
    """An id beyond a 32-bit INT (or below 1) is refused by the parser, not by a driver crash."""
    env = _env(BRIDGE_DATABASE_URL=f"sqlite:///{tmp_path / 'none.db'}")

    ran = _run(*args, env=env, cwd=tmp_path)

    assert ran.returncode == 2
    assert "is not an id (1 to 2,147,483,647)" in ran.stderr
    assert not (tmp_path / "none.db").exists()
