"""The WHMCS server modules under the real ``php`` CLI, installed as an operator installs them.

:func:`install_shim` runs ``php_shim/install.sh`` into a temporary WHMCS folder and copies
``harness.php`` (which stands in for WHMCS: ``logModuleCall``, ``$CONFIG``, warnings) beside it.
:class:`PhpShim` calls one module function per ``php`` process, as WHMCS would, and returns what
the function returned, its PHP type, the module-log entries and any PHP warning. Its
configuration file is rewritten per scenario (bridge URL, secret, timeout), and
:meth:`PhpShim.serve_web` runs PHP's built-in server on the harness for calls that answer a
browser (the CSV export).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from tests.conftest import TEST_SECRET
from tests.fakes import Served, free_port

REPO = Path(__file__).resolve().parents[2]
SHIM = REPO / "php_shim"
HARNESS = Path(__file__).with_name("harness.php")
MODULES = ("fusionpbx", "vodia", "lesnet")
SERVER_IP = "203.0.113.10"


@dataclass(frozen=True, slots=True)
class PhpResult:
    """What one module function did: its return value and PHP type, and what it logged."""

    value: Any
    type: str
    log: list[dict[str, str]]
    warnings: str

    @property
    def log_text(self) -> str:
        """Return every module-log entry as one text (to search for leaked secrets)."""
        return json.dumps(self.log)


@dataclass
class PhpShim:
    """An installed copy of the modules and the harness that calls them."""

    whmcs: Path
    home: Path

    @property
    def library(self) -> Path:
        """Return where install.sh put the shared library."""
        return self.whmcs / "voipbridge"

    @property
    def config_file(self) -> Path:
        """Return the library's config.php."""
        return self.library / "config.php"

    @property
    def warnings_file(self) -> Path:
        """Return where the harness writes PHP warnings and notices."""
        return self.home / "warnings.log"

    def configure(self, bridge_url: str, *, secret: str = TEST_SECRET, **options: object) -> None:
        """Write config.php pointing at ``bridge_url`` (other keys: timeout, cache_dir, ...)."""
        values: dict[str, object] = {"bridge_url": bridge_url, "secret": secret, **options}
        entries = "".join(f"    {_php(name)} => {_php(value)},\n" for name, value in values.items())
        self.config_file.write_text(f"<?php\nreturn [\n{entries}];\n", encoding="utf-8")

    def call(
        self,
        function: str,
        *args: object,
        get: Mapping[str, str] | None = None,
        session: Mapping[str, object] | None = None,
        server: Mapping[str, str] | None = None,
    ) -> PhpResult:
        """Call ``function(*args)`` in a fresh ``php`` process, as WHMCS would."""
        self.warnings_file.write_text("", encoding="utf-8")
        request = self._request(function, args, get, session, server)
        done = subprocess.run(
            ["php", str(self.home / "harness.php")],
            input=json.dumps(request),
            capture_output=True,
            text=True,
            env=self.environment(),
            timeout=120,
            check=False,
        )
        if done.returncode != 0 or not done.stdout.startswith("{"):
            raise AssertionError(f"php failed ({done.returncode}): {done.stdout}{done.stderr}")
        answer = json.loads(done.stdout)
        warnings = self.warnings_file.read_text(encoding="utf-8") + done.stderr
        return PhpResult(answer["return"], answer["type"], answer["log"], warnings)

    def run_script(self, script: Path, *args: str) -> subprocess.CompletedProcess[str]:
        """Run a PHP file (a cron file) with the php CLI, as a crontab line would."""
        return subprocess.run(
            ["php", "-d", "error_reporting=-1", "-d", "display_errors=stderr", "-q", str(script),
             *args],
            capture_output=True, text=True, env=self.environment(), timeout=120, check=False,
        )  # fmt: skip

    def environment(self) -> dict[str, str]:
        """Return the environment PHP runs in: where WHMCS is."""
        return {**os.environ, "VOIPBRIDGE_TEST_WHMCS": str(self.whmcs)}

    @contextmanager
    def serve_web(self, root: Path | None = None) -> Iterator[Served]:
        """Serve the harness (or ``root``) with PHP's built-in server, as a web server would."""
        port = free_port()
        process = subprocess.Popen(
            ["php", "-S", f"127.0.0.1:{port}", "-t", str(root or self.home)],
            env=self.environment(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            _wait_for(port)
            yield Served("127.0.0.1", port)
        finally:
            process.terminate()
            process.wait(timeout=10)

    def prepare_web(
        self, function: str, *args: object, session: Mapping[str, object] | None = None
    ) -> None:
        """Write the request the built-in server's harness runs on its next page."""
        self.warnings_file.write_text("", encoding="utf-8")
        request = self._request(function, args, None, session, None)
        (self.home / "request.json").write_text(json.dumps(request), encoding="utf-8")

    def _request(
        self,
        function: str,
        args: tuple[object, ...],
        get: Mapping[str, str] | None,
        session: Mapping[str, object] | None,
        server: Mapping[str, str] | None,
    ) -> dict[str, Any]:
        request: dict[str, Any] = {
            "function": function,
            "args": list(args),
            "get": dict(get or {}),
            "server": {"SERVER_ADDR": SERVER_IP, **(server or {})},
        }
        if session is not None:
            request["session"] = dict(session)
        return request


def install_shim(folder: Path) -> PhpShim:
    """Install the modules into a new WHMCS folder under ``folder`` with install.sh."""
    whmcs = folder / "whmcs"
    (whmcs / "modules/servers").mkdir(parents=True)
    subprocess.run(
        ["bash", str(SHIM / "install.sh"), str(whmcs)], check=True, capture_output=True, text=True
    )
    home = folder / "harness"
    home.mkdir()
    shutil.copy(HARNESS, home / "harness.php")
    return PhpShim(whmcs, home)


def _wait_for(port: int) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/", timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.05)
    raise RuntimeError(f"PHP's built-in server on port {port} did not start")


def _php(value: object) -> str:
    """Return ``value`` as a PHP literal (strings, numbers, booleans, lists of strings)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_php(item) for item in value) + "]"
    text = str(value).replace("\\", "\\\\").replace("'", "\\'")
    return f"'{text}'"
