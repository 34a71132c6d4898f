"""The bridge's FusionPBX-side scripts, served by PHP's built-in server against real PostgreSQL.

:func:`run_php_fusionpbx` installs ``fusionpbx_api/`` with its own ``install.sh`` into a temporary
web root, creates a PostgreSQL database holding FusionPBX's tables (``tests/schema/fusionpbx.sql``
and ``fusionpbx_v_xml_cdr.sql``, named per run), writes a FusionPBX ``config.conf`` pointing at it
and at a :class:`~tests.fakes.event_socket.FakeEventSocket`, writes the scripts' ``settings.ini``
(found through ``VOIPBRIDGE_API_SETTINGS``), and runs ``php -S 127.0.0.1:PORT -t ROOT``. At the
end it stops PHP and drops the database. :meth:`PhpFusionPbx.reset` gives each test a clean PBX:
empty tables but for the API user, a whitelist holding 127.0.0.1, no rate counters.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg.rows import dict_row

from tests.conftest import RUN_SUFFIX
from tests.fakes import free_port
from tests.fakes.event_socket import FakeEventSocket, serve_event_socket
from tests.postgres import admin_conninfo, connect_admin

REPO = Path(__file__).resolve().parents[2]
API_SOURCE = REPO / "fusionpbx_api"
SCHEMAS = (REPO / "tests/schema/fusionpbx.sql", REPO / "tests/schema/fusionpbx_v_xml_cdr.sql")
TABLES = (
    "v_domains",
    "v_users",
    "v_groups",
    "v_user_groups",
    "v_extensions",
    "v_extension_users",
    "v_gateways",
    "v_xml_cdr",
)
API_DOMAIN = "pbx.example.com"
API_USERNAME = "whmcs-api"
API_PASSWORD = "Fusion-Secret-42"
# Loose limits for most tests; the rate limit tests tighten them with write_settings().
DEFAULT_SETTINGS = {"requests_per_minute": "0", "auth_failure_limit": "0"}


def bcrypt_hash(password: str) -> str:
    """Return ``password`` hashed as FusionPBX stores it (PHP's password_hash, cost 4 for speed)."""
    return subprocess.run(
        ["php", "-r", "echo password_hash($argv[1], PASSWORD_BCRYPT, ['cost' => 4]);", password],
        check=True,
        capture_output=True,
        text=True,
    ).stdout


@dataclass
class PhpFusionPbx:
    """A running FusionPBX host as the scripts see it: web root, database, event socket."""

    root: Path
    home: Path
    dsn: str
    port: int
    esl: FakeEventSocket
    _domains: dict[str, str] = field(default_factory=dict)
    _hashes: dict[str, str] = field(default_factory=dict)
    _conn: psycopg.Connection[dict[str, Any]] | None = None

    @property
    def url(self) -> str:
        """Return the base URL of PHP's built-in server."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def whitelist_file(self) -> Path:
        """Return chkcon_whitelist.conf, where install.sh put it (beside chkcon.php)."""
        return self.root / "app/xml_cdr/chkcon_whitelist.conf"

    @property
    def log_file(self) -> Path:
        """Return the scripts' log file."""
        return self.home / "api.log"

    @property
    def state_dir(self) -> Path:
        """Return the scripts' rate limit state directory."""
        return self.home / "state"

    @property
    def cache_dir(self) -> Path:
        """Return the directory standing in for FusionPBX's file cache."""
        return self.home / "cache"

    def write_settings(self, **overrides: str) -> None:
        """Write the scripts' settings.ini: test paths, loose limits, then ``overrides``."""
        values = {
            "fusionpbx_config": str(self.home / "config.conf"),
            "state_dir": str(self.state_dir),
            "log_file": str(self.log_file),
            "cache_location": str(self.cache_dir),
            **DEFAULT_SETTINGS,
            **overrides,
        }
        text = "".join(f"{key} = {value}\n" for key, value in values.items())
        (self.home / "settings.ini").write_text(text, encoding="utf-8")

    def write_whitelist(self, text: str) -> None:
        """Replace the whitelist file's content."""
        self.whitelist_file.write_text(text, encoding="utf-8")

    def reset(self) -> None:
        """Empty every table but the API user's, whitelist 127.0.0.1, forget counters and logs."""
        # DELETE beats TRUNCATE on a handful of rows: no new files for each table.
        for table in TABLES:
            self.execute(sql.SQL("DELETE FROM {}").format(sql.Identifier(table)))
        self._domains.clear()
        self.add_user(API_DOMAIN, API_USERNAME, API_PASSWORD)
        self.write_whitelist("127.0.0.1\n")
        self.write_settings()
        for directory in (self.state_dir, self.cache_dir):
            shutil.rmtree(directory, ignore_errors=True)
            directory.mkdir()
        self.log_file.write_text("", encoding="utf-8")
        self.esl.reset()

    def execute(self, query: sql.Composed | str, *params: object) -> list[dict[str, Any]]:
        """Run a statement on the PBX's database (one autocommit connection); return its rows."""
        if self._conn is None or self._conn.closed:
            self._conn = psycopg.connect(self.dsn, autocommit=True, row_factory=dict_row)
        cursor = self._conn.execute(query.encode() if isinstance(query, str) else query, params)
        return cursor.fetchall() if cursor.description else []

    def close(self) -> None:
        """Close the test's connection to the PBX's database."""
        if self._conn is not None:
            self._conn.close()

    def insert(self, table: str, row: Mapping[str, object]) -> None:
        """Insert one row given as column → value."""
        self.execute(
            sql.SQL("INSERT INTO {} ({}) VALUES ({})").format(
                sql.Identifier(table),
                sql.SQL(", ").join(map(sql.Identifier, row)),
                sql.SQL(", ").join(sql.Placeholder() * len(row)),
            ),
            *row.values(),
        )

    def select(self, query: str, *params: object) -> list[dict[str, Any]]:
        """Return the rows of a query on the PBX's database."""
        return self.execute(query, *params)

    def add_domain(self, name: str) -> str:
        """Create domain ``name`` (once) and return its uuid."""
        if name not in self._domains:
            domain_uuid = str(uuid.uuid4())
            self.insert(
                "v_domains",
                {"domain_uuid": domain_uuid, "domain_name": name, "domain_enabled": True},
            )
            self._domains[name] = domain_uuid
        return self._domains[name]

    def add_user(
        self,
        domain: str,
        username: str,
        password: str,
        *,
        groups: tuple[str, ...] = ("superadmin",),
        legacy_salt: str | None = None,
        enabled: bool | None = True,
        user_type: str | None = "default",
    ) -> str:
        """Create a FusionPBX user; ``legacy_salt`` stores the old md5(salt . password) form."""
        if legacy_salt is not None:
            stored = hashlib.md5((legacy_salt + password).encode(), usedforsecurity=False)
            hashed, salt = stored.hexdigest(), legacy_salt
        else:
            if password not in self._hashes:
                self._hashes[password] = bcrypt_hash(password)
            hashed, salt = self._hashes[password], None
        user_uuid = str(uuid.uuid4())
        domain_uuid = self.add_domain(domain)
        self.insert(
            "v_users",
            {
                "user_uuid": user_uuid,
                "domain_uuid": domain_uuid,
                "username": username,
                "password": hashed,
                "salt": salt,
                "user_enabled": enabled,
                "user_type": user_type,
            },
        )
        for group in groups:
            group_uuid = str(uuid.uuid4())
            self.insert(
                "v_groups",
                {"group_uuid": group_uuid, "domain_uuid": None, "group_name": group},
            )
            self.insert(
                "v_user_groups",
                {
                    "user_group_uuid": str(uuid.uuid4()),
                    "domain_uuid": domain_uuid,
                    "group_name": group,
                    "group_uuid": group_uuid,
                    "user_uuid": user_uuid,
                },
            )
        return user_uuid

    def add_extension(
        self, domain: str, extension: str, *, enabled: bool = True, number_alias: str | None = None
    ) -> str:
        """Create an extension of ``domain`` as FusionPBX does (user_context = domain)."""
        extension_uuid = str(uuid.uuid4())
        self.insert(
            "v_extensions",
            {
                "extension_uuid": extension_uuid,
                "domain_uuid": self.add_domain(domain),
                "extension": extension,
                "number_alias": number_alias,
                "password": "sip-secret-1",
                "user_context": domain,
                "enabled": enabled,
            },
        )
        return extension_uuid

    def add_gateway(
        self, domain: str | None, name: str, *, enabled: bool = True, profile: str = "external"
    ) -> str:
        """Create a gateway in ``domain`` (None: a global gateway) and return its uuid."""
        gateway_uuid = str(uuid.uuid4())
        self.insert(
            "v_gateways",
            {
                "gateway_uuid": gateway_uuid,
                "domain_uuid": None if domain is None else self.add_domain(domain),
                "gateway": name,
                "proxy": "sip.provider.example",
                "profile": profile,
                "enabled": enabled,
            },
        )
        return gateway_uuid

    def extension(self, domain: str, extension: str) -> dict[str, Any] | None:
        """Return the extension's row, or None."""
        rows = self.select(
            "SELECT e.* FROM v_extensions e JOIN v_domains d USING (domain_uuid) "
            "WHERE d.domain_name = %s AND e.extension = %s",
            domain,
            extension,
        )
        return rows[0] if rows else None

    def gateway(self, domain: str, name: str) -> dict[str, Any] | None:
        """Return the gateway's row, or None."""
        rows = self.select(
            "SELECT g.* FROM v_gateways g JOIN v_domains d USING (domain_uuid) "
            "WHERE d.domain_name = %s AND g.gateway = %s",
            domain,
            name,
        )
        return rows[0] if rows else None

    def log_lines(self) -> list[str]:
        """Return the scripts' log lines so far."""
        return self.log_file.read_text(encoding="utf-8").splitlines()

    def post(
        self,
        path: str,
        fields: Mapping[str, str] | None = None,
        *,
        auth: bool = True,
        source: str = "127.0.0.1",
    ) -> httpx.Response:
        """POST ``fields`` (and the API user's login) from the loopback address ``source``."""
        data = {"username": API_USERNAME, "password": API_PASSWORD} if auth else {}
        data.update(fields or {})
        transport = httpx.HTTPTransport(local_address=source)
        with httpx.Client(base_url=self.url, transport=transport, timeout=20) as client:
            return client.post(path, data=data)


def _create_database(name: str) -> str:
    admin = admin_conninfo()
    with connect_admin(admin) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    dsn = make_conninfo(admin, dbname=name)
    with psycopg.connect(dsn, autocommit=True) as conn:
        for schema in SCHEMAS:
            conn.execute(schema.read_text(encoding="utf-8").encode())
    return dsn


def _drop_database(name: str) -> None:
    with connect_admin(admin_conninfo()) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def _write_config(path: Path, dsn: str, esl_port: int, esl_password: str) -> None:
    params = conninfo_to_dict(dsn)
    lines = {
        "database.0.type": "pgsql",
        "database.0.host": str(params.get("host") or "127.0.0.1"),
        "database.0.port": str(params.get("port") or "5432"),
        "database.0.sslmode": "prefer",
        "database.0.name": str(params["dbname"]),
        "database.0.username": str(params.get("user") or "postgres"),
        "database.0.password": str(params.get("password") or ""),
        "switch.event_socket.host": "127.0.0.1",
        "switch.event_socket.port": str(esl_port),
        "switch.event_socket.password": esl_password,
    }
    path.write_text("".join(f"{key} = {value}\n" for key, value in lines.items()), "utf-8")


def _wait_for_port(port: int, process: subprocess.Popen[bytes], output: Path) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"php -S exited: {output.read_text(encoding='utf-8')}")
        try:
            httpx.get(f"http://127.0.0.1:{port}/", timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.05)
    raise RuntimeError(f"php -S did not listen on port {port} within 15 s")


@contextmanager
def run_php_fusionpbx(home: Path) -> Iterator[PhpFusionPbx]:
    """Install the scripts under ``home``, serve them with ``php -S``; stop and drop at the end."""
    root = home / "www"
    root.mkdir()
    subprocess.run(
        [
            "bash",
            str(API_SOURCE / "install.sh"),
            "--target",
            str(root),
            "--state-dir",
            str(home / "state"),
        ],
        check=True,
        capture_output=True,
    )
    name = f"bridge_test_fusionpbx_api_{RUN_SUFFIX}"
    esl = FakeEventSocket()
    with serve_event_socket(esl) as esl_port:
        dsn = _create_database(name)
        try:
            _write_config(home / "config.conf", dsn, esl_port, esl.password)
            pbx = PhpFusionPbx(root=root, home=home, dsn=dsn, port=free_port(), esl=esl)
            pbx.reset()
            output = home / "php-server.log"
            with output.open("wb") as sink:
                process = subprocess.Popen(
                    ["php", "-S", f"127.0.0.1:{pbx.port}", "-t", str(root)],
                    stdin=subprocess.DEVNULL,
                    stdout=sink,
                    stderr=subprocess.STDOUT,
                    env={
                        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                        "VOIPBRIDGE_API_SETTINGS": str(home / "settings.ini"),
                    },
                )
                try:
                    _wait_for_port(pbx.port, process, output)
                    yield pbx
                finally:
                    pbx.close()
                    process.terminate()
                    try:
                        process.wait(timeout=10)
                    except subprocess.TimeoutExpired:
                        process.kill()
                        process.wait()
        finally:
            _drop_database(name)
