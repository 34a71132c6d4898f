"""`bridge license-server ...` as the license vendor runs it: keys, statuses, and the server."""

from __future__ import annotations

import re
import signal
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from bridge.licensing.tokens import LicenseStatus, parse_public_key, read_token
from bridge.modules.license import LicenseQuery, LicenseServerClient
from tests.bridge_cli import BRIDGE, Ran, bridge_env, run_bridge
from tests.fakes import free_port, serve
from tests.test_cli import _wait_for_health

KEY_PATTERN = re.compile(r"^VB(-[0-9A-Z]{5}){4}$", re.M)


def _vendor(folder: Path, *args: str) -> Ran:
    """Run `bridge license-server ARGS` on the files in ``folder``."""
    files = ["--signing-key", str(folder / "server.key")] if args[0] == "public-key" else [
        "--db", str(folder / "keys.db")
    ]  # fmt: skip
    return run_bridge("license-server", *args, *files, env=bridge_env())


def _created_key(folder: Path, *options: str) -> str:
    created = _vendor(folder, "create", *options)
    assert created.returncode == 0, created.stderr
    found = KEY_PATTERN.search(created.stdout)
    assert found is not None, created.stdout
    return found.group(0)


class TestKeyCommands:
    def test_create_list_suspend_and_expiry(self, tmp_path: Path) -> None:
        """Create prints the key once; list shows only its end; status and expiry can change."""
        key = _created_key(tmp_path, "--expires", "2030-01-01", "--note", "Acme Telecom")

        listed = _vendor(tmp_path, "list")
        suspended = _vendor(tmp_path, "suspend", "1")
        unsuspended = _vendor(tmp_path, "unsuspend", key.lower())
        never = _vendor(tmp_path, "set-expiry", key, "never")

        assert "…" + key[-5:] in listed.stdout
        assert key not in listed.stdout
        assert key[3:8] not in listed.stdout
        assert "expires 2030-01-01" in listed.stdout
        assert "Acme Telecom" in listed.stdout
        assert suspended.stdout.strip() == f"key #1 (…{key[-5:]}): suspended"
        assert unsuspended.stdout.strip() == f"key #1 (…{key[-5:]}): active"
        assert never.stdout.strip() == f"key #1 (…{key[-5:]}): no expiry"

    @pytest.mark.parametrize(
        ("args", "message"),
        [
            (("create", "--expires", "next week"), "'next week' is not a date"),
            (("suspend", "VB-NOPE"), "No license key 'VB-NOPE'"),
            (("set-expiry", "7", "2030-01-01"), "No license key with id 7"),
        ],
    )
    def test_mistakes_are_one_error_line(
        self, tmp_path: Path, args: tuple[str, ...], message: str
    ) -> None:
        """A bad date or an unknown key prints one `error:` line and exits 2."""
        result = _vendor(tmp_path, *args)

        assert result.returncode == 2
        assert result.stderr.startswith("error: ")
        assert message in result.stderr

    def test_public_key_is_stable(self, tmp_path: Path) -> None:
        """The signing key is made once; public-key prints the same key every time."""
        first = _vendor(tmp_path, "public-key")
        second = _vendor(tmp_path, "public-key")

        assert first.returncode == 0, first.stderr
        assert first.stdout == second.stdout
        parse_public_key(first.stdout.strip())


class TestServeOptions:
    def test_serve_wires_its_options_into_uvicorn(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """`serve` hands uvicorn the listen address, the proxy trust and a rate-limited app."""
        started: dict[str, Any] = {}

        def fake_run(app: Any, **options: Any) -> None:
            started.update(options, app=app)

        monkeypatch.setattr(uvicorn, "run", fake_run)
        key = _created_key(tmp_path)
        ran = _vendor(
            tmp_path, "serve", "--listen", "127.0.0.1:9999", "--rate-limit", "1",
            "--forwarded-allow-ips", "10.0.0.5", "--signing-key", str(tmp_path / "server.key"),
        )  # fmt: skip
        with serve(started["app"]) as served:
            body = {"key": key, "domain": "a.example", "ip": "203.0.113.10", "nonce": "ab" * 8}
            codes = [
                httpx.post(f"{served.url}/v1/verify", json=body, timeout=10).status_code
                for _ in range(2)
            ]

        assert ran.returncode == 0, ran.stderr
        assert (started["host"], started["port"]) == ("127.0.0.1", 9999)
        assert (started["proxy_headers"], started["forwarded_allow_ips"]) == (True, "10.0.0.5")
        assert codes == [200, 429]

    def test_listing_no_keys_and_a_bad_rate_limit(self, tmp_path: Path) -> None:
        """An empty key list says how to make one; a rate limit of 0 is a usage error."""
        empty = _vendor(tmp_path, "list")
        zero = _vendor(tmp_path, "serve", "--rate-limit", "0")

        assert "no keys yet" in empty.stdout
        assert zero.returncode == 2
        assert "'0' is not a positive whole number" in zero.stderr


class TestServe:
    def test_served_server_signs_and_follows_the_key_commands(self, tmp_path: Path) -> None:
        """`serve` answers signed activations and sees a suspension made from the CLI."""
        key = _created_key(tmp_path)
        public_key = parse_public_key(_vendor(tmp_path, "public-key").stdout.strip())
        port = free_port()
        query = LicenseQuery(
            key=key, domain="billing.example.net", ip="203.0.113.10", nonce="ab" * 8
        )
        process = subprocess.Popen(  # noqa: S603 - our own console script
            [BRIDGE, "license-server", "serve", "--listen", f"127.0.0.1:{port}",
             "--db", str(tmp_path / "keys.db"), "--signing-key", str(tmp_path / "server.key")],
            env=bridge_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            _wait_for_health(f"http://127.0.0.1:{port}/healthz", process)
            with LicenseServerClient(f"http://127.0.0.1:{port}") as client:
                activated = read_token(client.activate(query).token, public_key)
                _vendor(tmp_path, "suspend", key)
                verified = read_token(client.verify(query).token, public_key)
        finally:
            process.send_signal(signal.SIGINT)
            stdout, _ = process.communicate(timeout=30)

        assert activated.status is LicenseStatus.ACTIVE
        assert verified.status is LicenseStatus.SUSPENDED
        assert f"license server on http://127.0.0.1:{port}" in stdout
        assert "public key (BRIDGE_LICENSE_PUBLIC_KEY)" in stdout
        listed = _vendor(tmp_path, "list").stdout
        assert "billing.example.net 203.0.113.10" in listed
